/**
 * Proof that a crash hit work in progress, read from Temporal itself: the activities the server saw
 * running when the worker died, and the attempt each one finally completed at; and the workflow tasks it
 * saw running (with the local activities inside them), which time out and are done again.
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const { PendingActivityState, PendingWorkflowTaskState, TimeoutType } = proto.temporal.api.enums.v1;

export interface RunningActivity {
  workflowId: string;
  activityId: string;
  activityType: string;
  attempt: number;
}

export interface RunningWork {
  activities: RunningActivity[];
  /** workflows whose workflow task was handed to a worker and not answered: local activities run there */
  workflowTasks: string[];
}

/** Activities and workflow tasks the server holds as started (handed to a worker, no answer yet). */
export async function startedWork(client: Client, workflowIds: readonly string[]): Promise<RunningWork> {
  const found: RunningActivity[] = [];
  const workflowTasks: string[] = [];
  await Promise.all(
    workflowIds.map(async (workflowId) => {
      const description = await client.workflow.getHandle(workflowId).describe();
      if (
        description.raw.pendingWorkflowTask?.state ===
        PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED
      )
        workflowTasks.push(workflowId);
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
  return { activities: found, workflowTasks };
}

/** Whether a workflow task of this workflow ran out of time on a worker after `since`: one a crash cut off. */
export async function workflowTaskTimedOutAfter(
  client: Client,
  workflowId: string,
  since: Date,
): Promise<boolean> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  return events.some(
    (e) =>
      e.workflowTaskTimedOutEventAttributes?.timeoutType === TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE &&
      // whole seconds: a second's slack on the crash's own time
      Number(e.eventTime?.seconds ?? 0) * 1000 >= since.getTime() - 1000,
  );
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
