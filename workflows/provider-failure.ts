import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import type { SendBudgetFailureType, SendBudgetRefusal } from '../activities/dws/types.js';

// The activity's contract, checked by the compiler: workflow code imports activities as types only.
const budgetExceeded: SendBudgetFailureType = 'SEND_BUDGET_EXCEEDED';
const budgetUnavailable: SendBudgetFailureType = 'SEND_BUDGET_UNAVAILABLE';

/**
 * How an activity's final failure reaches the workflow, which depends on how the call ran. An activity
 * task's arrives as an ActivityFailure around what the activity raised. A local activity's own failure (a
 * non-retryable one, or the last one once its retries run out) arrives bare, as the activity raised it:
 * sdk-core resolves a failed local activity unwrapped and wraps only its timeouts and cancellations. A
 * bare ApplicationFailure counts only if the failure converter made it from a failure that came in
 * (`failure`, "only present if this error was generated from an external operation"), so one the
 * workflow code throws itself is never taken for a provider's answer.
 *
 * A local activity that ended in a timeout is the one case that differs between a run and its replay:
 * the run gets the TimeoutFailure wrapped, the replay gets it bare, as sdk-core recorded it in the
 * activity's marker (seen with sdk 1.24 in the chaos run: a consult whose local attempts timed out went
 * on as an activity, and the replay after a worker crash failed the workflow instead, a nondeterminism
 * error that held the flow at CONSULTING). Both are taken the same way here, so both take one path.
 */
interface ActivityEnd {
  /** what the activity raised, or what ended it (a TimeoutFailure: the retry budget spent) */
  cause: Error | undefined;
  /** absent when it arrived bare */
  wrapper?: ActivityFailure;
}

function activityEnd(err: unknown): ActivityEnd | undefined {
  if (err instanceof ActivityFailure) return { cause: err.cause, wrapper: err };
  if (err instanceof ApplicationFailure && err.failure) return { cause: err };
  if (err instanceof TimeoutFailure && err.failure) return { cause: err };
  return undefined;
}

export interface ProviderFailure {
  code: string;
  message: string;
  /**
   * It arrived bare (a local activity's own failure): before patches.localUserCallFailures such a failure
   * was not recognised and failed the workflow, and flows that began so must replay so. Never set for a
   * timeout, which a run always gets wrapped (activityEnd).
   */
  bare: boolean;
}

/** A provider's final "no" (or its silence past the retry budget) as a code and a message. */
export function providerFailure(err: unknown): ProviderFailure | undefined {
  const end = activityEnd(err);
  if (!end) return undefined;
  const { cause, wrapper } = end;
  if (cause instanceof ApplicationFailure)
    return { code: cause.type ?? 'APPLICATION_FAILURE', message: cause.message, bare: !wrapper };
  // Worded from the timeout alone: its replay has no wrapper to name the activity (activityEnd).
  if (cause instanceof TimeoutFailure) {
    return {
      code: 'PROVIDER_UNAVAILABLE',
      message: 'no final answer from the provider within the retry budget',
      bare: false,
    };
  }
  // Anything else comes wrapped.
  if (!wrapper) return undefined;
  return { code: 'PROVIDER_FAILURE', message: cause?.message ?? wrapper.message, bare: false };
}

/**
 * A call that ended without the provider's final answer: its time ran out (a timeout, or a retryable
 * failure whose retries the budget cut short), as a local activity's short budget ends. Not a final "no"
 * (a non-retryable failure), a cancellation, or anything the workflow raised itself.
 */
export function stillUnanswered(err: unknown): boolean {
  const end = activityEnd(err);
  if (!end) return false;
  if (end.cause instanceof ApplicationFailure) return !end.cause.nonRetryable;
  return end.cause instanceof TimeoutFailure;
}

/**
 * The send budget's own failures of triggerChallenge (activities/dws/types.ts) as the journey ends with
 * them: the budget spent (with when the customer may have a code again), or a budget that could not be
 * checked within the retries. Recognised however the call ran (activityEnd). Both types came with the
 * send budget, which recognised them bare from the start: no flow needs a patch to tell them apart.
 */
export function sendBudgetFailure(
  err: unknown,
): { code: string; message: string; retryAfterSeconds?: number } | undefined {
  const cause = activityEnd(err)?.cause;
  if (!(cause instanceof ApplicationFailure)) return undefined;
  if (cause.type === budgetUnavailable) return { code: cause.type, message: cause.message };
  const refusal = sendBudgetRefusal(err);
  return refusal && { code: budgetExceeded, message: refusal.reason, ...refusal };
}

/** triggerChallenge's refusal for a customer whose send budget is spent: no code went out. */
export function sendBudgetRefusal(err: unknown): SendBudgetRefusal | undefined {
  const cause = activityEnd(err)?.cause;
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
