/**
 * One verification run's events, delivered to its caller's endpoints: every event to every endpoint at
 * once, each one activity whose retry policy makes the attempts (backoff from 10 s to at most an hour,
 * for the operator's retry period, 3 days by default), with the same event id every time. A 2xx ends an
 * event's delivery, 410 stops it. What gave up stays open for an operator's `redeliver` for as long
 * again, findable by `WebhookDelivery = "GAVE_UP"`. Started by the verification as an abandoned child, so
 * the verification's outcome never waits for it.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { WebhookActivities, WebhookAttemptDetails } from '../activities/webhooks/types.js';
import { nothingToRedeliver, webhookFailureTypes } from './failures.js';
import { redeliverUpdate, webhookDeliveryQuery } from './messages.js';
import { webhookDeliveryKey } from './search-attributes.js';
import type { EventDelivery, WebhookDeliveryInput, WebhookDeliveryState, WebhookEvent } from './types.js';

/**
 * Backoff of a delivery's attempts: Standard Webhooks senders retry over days, sparser as they go. The
 * first wait is the operator's (WEBHOOK_FIRST_RETRY_SECONDS, 10 s by default).
 */
export const webhookRetry = { backoffCoefficient: 2, maximumInterval: '1 hour' } as const;

/** What may be asked again: every delivery that did not reach its receiver. */
const redeliverable: ReadonlySet<EventDelivery['status']> = new Set(['GAVE_UP', 'GONE', 'REMOVED']);

export async function deliverWebhooks(input: WebhookDeliveryInput): Promise<WebhookDeliveryState> {
  const events = new Map<string, WebhookEvent>(input.events.map((event) => [event.id, event]));
  const state: WebhookDeliveryState = {
    verificationId: input.verificationId,
    caller: input.caller,
    status: 'DELIVERING',
    deliveries: input.endpoints.flatMap((endpoint) =>
      input.events.map((event) => ({
        endpoint,
        eventId: event.id,
        type: event.type,
        status: 'PENDING' as const,
        attempts: 0,
      })),
    ),
    redeliveries: 0,
  };
  const { deliverWebhookEvent } = proxyActivities<WebhookActivities>({
    // The receiver's timeout is the activity's own (got's); this only catches a worker that hangs.
    startToCloseTimeout: `${input.timeoutSeconds + 5} seconds`,
    scheduleToCloseTimeout: `${input.retryHours} hours`,
    retry: {
      ...webhookRetry,
      initialInterval: `${input.firstRetrySeconds ?? 10} seconds`,
      nonRetryableErrorTypes: [webhookFailureTypes.gone, webhookFailureTypes.removed],
    },
  });
  let redeliverAsked = false;
  // Marked by a start that redelivers a closed delivery, or by this run once something gave up.
  let marked = workflowInfo().typedSearchAttributes.get(webhookDeliveryKey) !== undefined;
  const mark = (value: 'GAVE_UP' | 'REDELIVERING' | 'DELIVERED') => {
    upsertSearchAttributes([{ key: webhookDeliveryKey, value }]);
    marked = true;
  };

  setHandler(webhookDeliveryQuery, () => state);
  setHandler(
    redeliverUpdate,
    () => {
      const queued = state.deliveries.filter((delivery) => redeliverable.has(delivery.status));
      for (const delivery of queued) delivery.status = 'PENDING';
      // At once, so a second redeliver sent before the loop wakes is refused rather than counted.
      state.status = 'DELIVERING';
      state.redeliveries += 1;
      redeliverAsked = true;
      return { queued: queued.length };
    },
    {
      validator: () => {
        if (state.status !== 'GAVE_UP') {
          throw ApplicationFailure.create({
            type: nothingToRedeliver,
            message: `the delivery is ${state.status}: only one that gave up can be redelivered`,
          });
        }
      },
    },
  );

  async function attempt(delivery: EventDelivery): Promise<void> {
    try {
      const delivered = await deliverWebhookEvent({
        caller: input.caller,
        endpoint: delivery.endpoint,
        event: events.get(delivery.eventId)!,
      });
      delivery.status = 'DELIVERED';
      delivery.attempts += delivered.attempt;
      delivery.lastAnswer = delivered.status;
      delivery.deliveredAt = new Date().toISOString();
      delete delivery.lastError;
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      const last = lastAttemptFailure(err);
      const details = last?.details?.[0] as WebhookAttemptDetails | undefined;
      delivery.attempts += details?.attempt ?? 1;
      delivery.lastAnswer = details?.answer ?? 'timeout';
      delivery.lastError = last?.message ?? err.cause?.message ?? err.message;
      delivery.status =
        last?.type === webhookFailureTypes.gone
          ? 'GONE'
          : last?.type === webhookFailureTypes.removed
            ? 'REMOVED'
            : 'GAVE_UP';
    }
    setCurrentDetails(describeDelivery(state));
  }

  for (;;) {
    setCurrentDetails(describeDelivery(state));
    await Promise.all(state.deliveries.filter((d) => d.status === 'PENDING').map(attempt));
    if (state.deliveries.every((delivery) => delivery.status === 'DELIVERED')) {
      state.status = 'DELIVERED';
      // Only a redelivered one was ever marked; a first-time success costs no upsert.
      if (marked) mark('DELIVERED');
      setCurrentDetails(describeDelivery(state));
      return state;
    }
    state.status = 'GAVE_UP';
    mark('GAVE_UP');
    setCurrentDetails(describeDelivery(state));
    redeliverAsked = false;
    if (!(await condition(() => redeliverAsked, `${input.retryHours} hours`))) return state;
    mark('REDELIVERING');
  }
}

/**
 * The last attempt's own failure: the ApplicationFailure the activity threw, found under the timeout
 * that ended the retries when the period ran out.
 */
function lastAttemptFailure(err: ActivityFailure): ApplicationFailure | undefined {
  for (let cause: unknown = err.cause; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ApplicationFailure) return cause;
  }
  return undefined;
}

/** The UI's current details: one line per event and endpoint. */
function describeDelivery(state: WebhookDeliveryState): string {
  const lines = state.deliveries.map((d) => {
    const answer = d.lastAnswer !== undefined ? `, last answer ${d.lastAnswer}` : '';
    return `- ${d.type} to ${state.caller}/${d.endpoint}: ${d.status}, ${d.attempts} attempts${answer}`;
  });
  const head =
    state.status === 'GAVE_UP'
      ? `GAVE_UP: not every event was delivered; an operator may redeliver (update "redeliver").`
      : `${state.status}: events of ${state.verificationId}.`;
  return [head, ...lines].join('\n');
}
