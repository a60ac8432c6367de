/**
 * The client library's one public entry, the package `@dws-verify/client`: what a backend service imports
 * to start and drive verifications. Everything else under client/ is its inside; the worker, the HTTP
 * service and the tests import this by the package's name too, so nothing they need can be missing here.
 */
export {
  VerificationClient,
  type StartOptions,
  type StartedVerification,
  type ConnectOptions,
  type VerificationClientOptions,
} from './contact-change-client.js';
export {
  PaymentMethodClient,
  type PaymentMethodClientOptions,
  type StartedPaymentMethodChange,
} from './payment-method-client.js';
export { callerNamePattern, defaultCallerName, type Caller, type SubmissionOptions } from './flow-calls.js';
export { defaultAnswerWithinMs, unavailableFrom } from './outages.js';
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
export {
  defaultWebhookToleranceSeconds,
  signWebhook,
  verifyWebhook,
  webhookSecretKey,
  WebhookVerificationError,
  type VerifyWebhookOptions,
} from './webhooks.js';
export { encryptPin, PIN_ENCRYPTION_ALGORITHM, type PinEncryptionInfo } from './pin-encryption.js';
export { temporalTargetFromEnv, type TemporalTarget } from '../config/temporal.js';
export { ConfigError } from '../config/errors.js';
export { createDataConverter } from '../codec/data-converter.js';
export type { AesGcmCodecOptions } from '../codec/aes-gcm-codec.js';
export {
  KeyRing,
  keyRingFromEnv,
  loadKeyRing,
  parseKeyRing,
  type LoadKeyRingOptions,
} from '../codec/keyring.js';
export { wireContractVersion } from '../workflows/wire-schemas.js';
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
  WebhookEvent,
  WebhookEventType,
} from '../workflows/types.js';
