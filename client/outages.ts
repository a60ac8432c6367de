/**
 * Every call of the client library answers within a bound, whatever Temporal's state: no worker polling,
 * the server down or restarting, an unknown namespace. The bound rides on the SDK's own mechanisms:
 * `withDeadline` puts it on every gRPC call (so the server stops waiting too), and an abort signal fired
 * at the same instant cancels what is in flight. Neither alone is enough: the SDK retries UNAVAILABLE with
 * a back-off that does not look at the deadline, so against a stopped server a 10 s deadline answered
 * after 14 s; the same instant also settles the call here. Whatever the SDK throws for "no answer" is
 * mapped in this one place to VerificationUnavailableError.
 */
import type { Client } from '@temporalio/client';
import { NamespaceNotFoundError } from '@temporalio/common';
import { VerificationUnavailableError, type UnavailableReason } from './errors.js';
import { outageReason } from './temporal-errors.js';

/** What the library was asked to do: the "what to do" half of the answer depends on it. */
export type Operation = 'start' | 'state' | 'verifyOtp' | 'resend' | 'submitOtp' | 'cancel' | 'result';

export const defaultAnswerWithinMs = 10_000;

/**
 * How long to wait before trying again. A lost worker or a restarting server is back within seconds in a
 * healthy deployment; an unknown namespace needs an operator, so retrying soon only adds load.
 */
const retryAfterSeconds: Record<UnavailableReason, number> = {
  TEMPORAL_UNREACHABLE: 5,
  NO_ANSWER_IN_TIME: 5,
  TEMPORAL_BUSY: 10,
  NAMESPACE_UNKNOWN: 60,
};

function whatHappened(reason: UnavailableReason, boundMs: number, detail?: string): string {
  const seconds = Math.round(boundMs / 100) / 10;
  switch (reason) {
    case 'NO_ANSWER_IN_TIME':
      return `the verification service did not answer within ${seconds} s (Temporal is unreachable or restarting, or no worker is processing verifications)`;
    case 'TEMPORAL_UNREACHABLE':
      return 'the verification service cannot reach Temporal';
    case 'TEMPORAL_BUSY':
      return 'Temporal refused the call for load';
    case 'NAMESPACE_UNKNOWN':
      return `the Temporal namespace${detail ? ` "${detail}"` : ''} does not exist: the service is misconfigured`;
  }
}

function whatToDo(operation: Operation, retryAfter: number): string {
  switch (operation) {
    case 'verifyOtp':
      return `send the same code again with the same idempotency key in ${retryAfter} s: a code is verified at most once, and the retry returns its verdict`;
    case 'resend':
      return `ask again with the same idempotency key in ${retryAfter} s: a retry never sends a second code`;
    case 'start':
      return `start again with the same request key in ${retryAfter} s: a retried start returns the run it started`;
    default:
      return `retry in ${retryAfter} s`;
  }
}

export function unavailable(
  reason: UnavailableReason,
  operation: Operation,
  boundMs: number,
  options: { cause?: unknown; detail?: string } = {},
): VerificationUnavailableError {
  const retryAfter = retryAfterSeconds[reason];
  return new VerificationUnavailableError(
    reason,
    retryAfter,
    `${whatHappened(reason, boundMs, options.detail)}; ${whatToDo(operation, retryAfter)}`,
    { cause: options.cause },
  );
}

/** The outage an SDK error stands for, or undefined when the error is an answer (not found, bad input...). */
export function unavailableFrom(
  err: unknown,
  operation: Operation,
  boundMs: number,
): VerificationUnavailableError | undefined {
  if (err instanceof VerificationUnavailableError) return err;
  const reason = outageReason(err);
  if (!reason) return undefined;
  const detail = err instanceof NamespaceNotFoundError ? err.namespace : undefined;
  return unavailable(reason, operation, boundMs, { cause: err, detail });
}

/** Runs `act` (calls through `client`) so that it settles within `boundMs`, outages mapped. */
export async function withinBound<T>(
  client: Client,
  boundMs: number,
  operation: Operation,
  act: () => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(unavailable('NO_ANSWER_IN_TIME', operation, boundMs));
    }, boundMs);
  });
  const work = client.withDeadline(Date.now() + boundMs, () =>
    client.withAbortSignal(controller.signal, act),
  );
  // Once the bound has answered, what the abandoned call does later is of no interest to anyone.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, expired]);
  } catch (err) {
    throw unavailableFrom(err, operation, boundMs) ?? err;
  } finally {
    clearTimeout(timer);
  }
}
