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
