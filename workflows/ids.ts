/**
 * One active change per customer: the workflow id is the customer id under a fixed prefix, so a second
 * start while one runs collides on the id. No phone or email ever goes into an id.
 */
export const verificationWorkflowPrefix = 'contact-change-';

export function verificationWorkflowId(customerId: string): string {
  return `${verificationWorkflowPrefix}${customerId}`;
}

export const defaultTaskQueue = 'contact-change-verification';

/** One payment-method change per Wonder customer at a time. */
export function paymentMethodWorkflowId(wonderCustomerUuid: string): string {
  return `payment-method-${wonderCustomerUuid}`;
}

export type SubmissionKind = 'otp' | 'resend';

/**
 * A code or resend submission's Temporal update id: the caller's idempotency key under its kind, so one
 * key reused for a code and for a resend names two submissions, not one (update ids are unique per run).
 */
export function submissionUpdateId(kind: SubmissionKind, key: string): string {
  return `${kind}:${key}`;
}

/** The caller's key inside an update id made by submissionUpdateId; any other id is kept whole. */
export function submissionKeyOf(updateId: string): string {
  return updateId.replace(/^(otp|resend):/, '');
}

/**
 * The owner of a verification that records none: started before callers had names, or by a client
 * without a caller. The HTTP service's HTTP_AUTH_TOKENS caller has this name, so what it started before
 * the upgrade stays its own.
 */
export const defaultCallerName = 'default';

export const callerNamePattern = /^[A-Za-z0-9._-]{1,64}$/;

/** Where a run's memo keeps the name of the caller that started it (read by the client and the workflow). */
export const callerMemoKey = 'caller';

/**
 * The delivery of one verification run's events (workflows/webhook-delivery.ts): one per run, so a
 * retried start of the delivery, or the workflow task that starts it replayed, meets the same id.
 */
export function webhookDeliveryWorkflowId(verificationId: string, runId: string): string {
  return `webhooks-${verificationId}-${runId}`;
}
