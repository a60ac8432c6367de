import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import type { SendBudgetFailureType, SendBudgetRefusal } from '../activities/dws/types.js';

// The activity's contract, checked by the compiler: workflow code imports activities as types only.
const budgetExceeded: SendBudgetFailureType = 'SEND_BUDGET_EXCEEDED';
const budgetUnavailable: SendBudgetFailureType = 'SEND_BUDGET_UNAVAILABLE';

/** A provider's final "no" (or its silence past the retry budget) as a code and a message. */
export function providerFailure(err: unknown): { code: string; message: string } | undefined {
  if (!(err instanceof ActivityFailure)) return undefined;
  const cause = err.cause;
  if (cause instanceof ApplicationFailure)
    return { code: cause.type ?? 'APPLICATION_FAILURE', message: cause.message };
  if (cause instanceof TimeoutFailure) {
    return {
      code: 'PROVIDER_UNAVAILABLE',
      message: `no final answer from the provider within the retry budget (${err.activityType})`,
    };
  }
  return { code: 'PROVIDER_FAILURE', message: cause?.message ?? err.message };
}

/**
 * The send budget's own failures of triggerChallenge (activities/dws/types.ts) as the journey ends with
 * them: the budget spent (with when the customer may have a code again), or a budget that could not be
 * checked within the retries. Recognised however the call ran: an activity task's failure arrives
 * wrapped in ActivityFailure, a local activity's as the activity threw it. Both types are new, so no
 * recorded history meets them and no recorded command changes.
 */
export function sendBudgetFailure(
  err: unknown,
): { code: string; message: string; retryAfterSeconds?: number } | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure)) return undefined;
  if (cause.type === budgetUnavailable) return { code: cause.type, message: cause.message };
  const refusal = sendBudgetRefusal(err);
  return refusal && { code: budgetExceeded, message: refusal.reason, ...refusal };
}

/** triggerChallenge's refusal for a customer whose send budget is spent: no code went out. */
export function sendBudgetRefusal(err: unknown): SendBudgetRefusal | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure) || cause.type !== budgetExceeded) return undefined;
  const details = cause.details?.[0] as Partial<SendBudgetRefusal> | undefined;
  // Our own activity always sets them; should they be lost on the way, the refusal still stands.
  return {
    retryAfterSeconds:
      typeof details?.retryAfterSeconds === 'number' && details.retryAfterSeconds >= 1
        ? Math.ceil(details.retryAfterSeconds)
        : 60,
    reason:
      typeof details?.reason === 'string' ? details.reason : 'too many codes were sent to this customer',
  };
}
