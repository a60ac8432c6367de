/**
 * Proof that a crash hit work in progress, read from Temporal itself: the activities the server saw
 * running when the worker died, and the attempt each one finally completed at.
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const { PendingActivityState } = proto.temporal.api.enums.v1;

export interface RunningActivity {
  workflowId: string;
  activityId: string;
  activityType: string;
  attempt: number;
}

/** Activities the server holds as started (handed to a worker, no answer yet) in these workflows. */
export async function startedActivities(
  client: Client,
  workflowIds: readonly string[],
): Promise<RunningActivity[]> {
  const found: RunningActivity[] = [];
  await Promise.all(
    workflowIds.map(async (workflowId) => {
      const description = await client.workflow.getHandle(workflowId).describe();
      for (const pending of description.raw.pendingActivities ?? []) {
        if (pending.state !== PendingActivityState.PENDING_ACTIVITY_STATE_STARTED) continue;
        found.push({
          workflowId,
          activityId: pending.activityId ?? '',
          activityType: pending.activityType?.name ?? '',
          attempt: pending.attempt ?? 0,
        });
      }
    }),
  );
  return found;
}

/** The attempt that completed the activity, from the workflow's history; undefined if it never completed. */
export async function completedAttempt(
  client: Client,
  workflowId: string,
  activityId: string,
): Promise<number | undefined> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityId === activityId);
  if (!scheduled?.eventId) return undefined;
  const scheduledId = String(scheduled.eventId);
  const completed = events.some(
    (e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? '') === scheduledId,
  );
  const started = events.find(
    (e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId ?? '') === scheduledId,
  );
  return completed ? (started?.activityTaskStartedEventAttributes?.attempt ?? undefined) : undefined;
}
