/**
 * What the workflows and their update validators raise toward a caller. A caller branches on the
 * `ApplicationFailure` type, never on the message: messages are for people, may be reworded, and reach
 * a client without the codec only as "Encoded failure" (the failure converter encrypts them). Imported by
 * the workflow bundle and by the client library alike, so a type is written once.
 */
import { ApplicationFailure } from '@temporalio/common';

export const callerFailureTypes = {
  /** the verification has reached DONE: nothing more can be submitted, resent or waited for */
  VERIFICATION_FINISHED: 'VERIFICATION_FINISHED',
  /** the code cannot be right for the open challenge (see codeFormatProblem); it costs no attempt */
  CODE_FORMAT: 'CODE_FORMAT',
} as const;

export type CallerFailureType = (typeof callerFailureTypes)[keyof typeof callerFailureTypes];

/**
 * The failure to throw toward a caller. Non-retryable: the same request would be refused the same way,
 * so nothing (an update's caller, a retry policy) should try it again unchanged.
 */
export function callerFailure(type: CallerFailureType, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/** The caller failure type an update failure's cause carries, or undefined for anything else. */
export function callerFailureType(cause: unknown): CallerFailureType | undefined {
  if (!(cause instanceof ApplicationFailure) || !cause.type) return undefined;
  return (Object.values(callerFailureTypes) as string[]).includes(cause.type)
    ? (cause.type as CallerFailureType)
    : undefined;
}

/** The delivery's `redeliver` update refused: nothing gave up (it is delivering, or delivered). */
export const nothingToRedeliver = 'NOTHING_TO_REDELIVER';

/**
 * The failure types a webhook delivery attempt (activities/webhooks) ends with, read by the delivery
 * workflow's retry policy: one of them is retried, the other two are final.
 */
export const webhookFailureTypes = {
  /** a non-2xx answer, no answer within the timeout, or no connection: retried */
  failed: 'WEBHOOK_ATTEMPT_FAILED',
  /** the receiver answered 410 Gone: no more attempts */
  gone: 'WEBHOOK_ENDPOINT_GONE',
  /** the operator removed the endpoint from WEBHOOK_ENDPOINTS: no more attempts */
  removed: 'WEBHOOK_ENDPOINT_REMOVED',
} as const;
