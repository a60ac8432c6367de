/** Errors a backend service can branch on, whatever Temporal said underneath. */

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
