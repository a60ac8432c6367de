/**
 * The client library's one public entry: what a backend service imports to start and drive
 * verifications. Everything else under client/ is its inside.
 */
export {
  VerificationClient,
  type StartOptions,
  type StartedVerification,
  type VerificationClientOptions,
} from './contact-change-client.js';
export {
  PaymentMethodClient,
  type PaymentMethodClientOptions,
  type StartedPaymentMethodChange,
} from './payment-method-client.js';
export { defaultCallerName, type Caller, type SubmissionOptions } from './flow-calls.js';
export {
  CodeNotForChallengeError,
  InvalidVerificationInputError,
  SendBudgetExceededError,
  VerificationAlreadyRunningError,
  VerificationError,
  VerificationFinishedError,
  VerificationNotFoundError,
  VerificationUnavailableError,
  type UnavailableReason,
} from './errors.js';
export { encryptPin, PIN_ENCRYPTION_ALGORITHM, type PinEncryptionInfo } from './pin-encryption.js';
export { temporalTargetFromEnv, type TemporalTarget } from '../config/temporal.js';
export { callerFailureTypes, type CallerFailureType } from '../workflows/failures.js';
export type {
  ChallengeAnswer,
  OtpVerdict,
  OutcomeStatus,
  PaymentMethodChangeInput,
  PaymentMethodChangeOutcome,
  ResendAnswer,
  VerificationInput,
  VerificationOutcome,
  VerificationPolicy,
  VerificationState,
  VerificationStep,
} from '../workflows/types.js';
