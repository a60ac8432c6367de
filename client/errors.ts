/** Errors a backend service can branch on, whatever Temporal said underneath. */
import { sendBudgetFailureTypes } from '../activities/dws/types.js';
import type { ResendAnswer, VerificationOutcome } from '../workflows/types.js';

export class VerificationError extends Error {
  override name = 'VerificationError';
}

export class InvalidVerificationInputError extends VerificationError {
  override name = 'InvalidVerificationInputError';
  /** the offending field as a dotted path, e.g. "change.mobileNoInfo.phoneNo" */
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A code whose form the open challenge cannot take (a PIN-shaped code for an SMS challenge, digits for an
 * encrypted PIN): well-formed for some challenge, so only the verification's state refuses it. No attempt
 * is spent. Over HTTP a 409, as the request conflicts with the verification's state, not with the schema.
 */
export class CodeNotForChallengeError extends InvalidVerificationInputError {
  override name = 'CodeNotForChallengeError';
  constructor(message: string) {
    super('code', message);
  }
}

export class VerificationNotFoundError extends VerificationError {
  override name = 'VerificationNotFoundError';
  constructor(readonly verificationId: string) {
    super(`no verification ${verificationId}`);
  }
}

export class VerificationFinishedError extends VerificationError {
  override name = 'VerificationFinishedError';
  constructor(
    readonly verificationId: string,
    readonly status: string,
  ) {
    super(`verification ${verificationId} has already finished (${status})`);
  }
}

export class VerificationAlreadyRunningError extends VerificationError {
  override name = 'VerificationAlreadyRunningError';
  constructor(readonly verificationId: string) {
    super(`a verification is already running for this customer (${verificationId})`);
  }
}

/** What Temporal's silence was, as far as the client can tell. */
export type UnavailableReason =
  /** the server did not take the call: down, restarting, or unreachable from here */
  | 'TEMPORAL_UNREACHABLE'
  /** the server took the call but no answer came within the bound: no worker polling, or all busy */
  | 'NO_ANSWER_IN_TIME'
  /** the configured namespace does not exist: a deployment problem, not a passing one */
  | 'NAMESPACE_UNKNOWN'
  /** the server refused for load (rate limits of the namespace or cluster) */
  | 'TEMPORAL_BUSY';

/**
 * The verification service could not answer within the bound. Nothing about the verification is known
 * from this error; retrying the same call after `retryAfterSeconds` is safe (code and resend submissions
 * are idempotent on their key).
 */
export class VerificationUnavailableError extends VerificationError {
  override name = 'VerificationUnavailableError';
  constructor(
    readonly reason: UnavailableReason,
    readonly retryAfterSeconds: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The customer has been sent as many codes as the send budget allows for now (SEND_BUDGET_PER_CUSTOMER,
 * counted across verifications, callers and replicas), so no code went out. From `start`: the verification
 * has ended REJECTED with resultCode SEND_BUDGET_EXCEEDED; start a new one (a new requestKey) after
 * `retryAfterSeconds`. `reason` is a sentence the app can show. (A refused resend is an answer, not this
 * error: `{ honoured: false, reason: 'SEND_BUDGET_EXCEEDED' }`, and the verification keeps waiting.)
 */
export class SendBudgetExceededError extends VerificationError {
  override name = 'SendBudgetExceededError';
  constructor(
    readonly verificationId: string,
    readonly retryAfterSeconds: number,
    readonly reason: string,
  ) {
    super(`no code sent: ${reason}; retry in ${retryAfterSeconds} s`);
  }

  /** For a start whose flow ended for the budget: the error to throw instead of answering the outcome. */
  static fromOutcome(
    verificationId: string,
    outcome: VerificationOutcome,
  ): SendBudgetExceededError | undefined {
    if (outcome.status !== 'REJECTED' || outcome.resultCode !== sendBudgetFailureTypes.exceeded)
      return undefined;
    return new SendBudgetExceededError(verificationId, outcome.retryAfterSeconds ?? 1, outcome.resultMessage);
  }

  /** For a resend the budget refused, where a caller answers errors rather than resend answers (HTTP 429). */
  static fromResendAnswer(verificationId: string, answer: ResendAnswer): SendBudgetExceededError | undefined {
    if (answer.honoured || answer.reason !== sendBudgetFailureTypes.exceeded) return undefined;
    return new SendBudgetExceededError(verificationId, answer.retryAfterSeconds ?? 1, answer.message ?? '');
  }
}
