import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { sendBudgetFailureTypes, type SendBudgetRefusal } from '../activities/dws/types.js';

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

/** triggerChallenge's refusal for a customer whose send budget is spent: no code went out. */
export function sendBudgetRefusal(err: unknown): SendBudgetRefusal | undefined {
  if (!(err instanceof ActivityFailure)) return undefined;
  const cause = err.cause;
  if (!(cause instanceof ApplicationFailure) || cause.type !== sendBudgetFailureTypes.exceeded)
    return undefined;
  const details = cause.details?.[0] as Partial<SendBudgetRefusal> | undefined;
  // The details cross the data converter; a refusal without them still refuses, with a safe wait.
  return {
    retryAfterSeconds:
      typeof details?.retryAfterSeconds === 'number' && details.retryAfterSeconds >= 1
        ? Math.ceil(details.retryAfterSeconds)
        : 60,
    reason:
      typeof details?.reason === 'string' ? details.reason : 'too many codes were sent to this customer',
  };
}
