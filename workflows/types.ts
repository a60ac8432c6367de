/**
 * What a verification takes, shows and returns, as TypeScript: derived from the JSON Schemas in
 * wire-schemas.ts, so the types and what the HTTP service validates and publishes cannot drift.
 * Everything here crosses the wire (start arguments, message answers, results): plain JSON only.
 */
import type { FromSchema } from 'json-schema-to-ts';
import type { BusinessSceneCode, Env } from '../activities/dws/types.js';
import type { WonderCustomerUpdate } from '../activities/wonder/types.js';
import type {
  cancelRequestSchema,
  challengeAnswerSchema,
  outcomeStatusSchema,
  otpSubmissionSchema,
  paymentMethodChangeOutcomeSchema,
  policySchema,
  resendAnswerSchema,
  stateSchema,
  stepSchema,
  submissionSchema,
  verdictSchema,
  verificationInputSchema,
  verificationOutcomeSchema,
  webhookEventSchema,
  wonderSyncTargetSchema,
} from './wire-schemas.js';

export type VerificationPolicy = Required<FromSchema<typeof policySchema>>;

export const defaultPolicy: VerificationPolicy = {
  otpValiditySeconds: 300,
  maxVerifyAttempts: 5,
  maxResends: 3,
  resendCooldownSeconds: 30,
  maxChallengeRounds: 3,
};

export type WonderSyncTarget = FromSchema<typeof wonderSyncTargetSchema>;
export type VerificationInput = FromSchema<typeof verificationInputSchema>;
export type VerificationStep = FromSchema<typeof stepSchema>;
export type OutcomeStatus = FromSchema<typeof outcomeStatusSchema>;
export type VerificationState = FromSchema<typeof stateSchema>;
export type VerificationOutcome = FromSchema<typeof verificationOutcomeSchema>;
export type OtpSubmission = FromSchema<typeof otpSubmissionSchema>;
export type OtpVerdict = FromSchema<typeof verdictSchema>;
export type ResendAnswer = FromSchema<typeof resendAnswerSchema>;
export type CancelRequest = FromSchema<typeof cancelRequestSchema>;
export type Submission = FromSchema<typeof submissionSchema>;
export type ChallengeAnswer = FromSchema<typeof challengeAnswerSchema>;
export type PaymentMethodChangeOutcome = FromSchema<typeof paymentMethodChangeOutcomeSchema>;

/** How a flow ends when the user did not prove possession: the challenge's own endings. */
export type UnprovenStatus = Extract<OutcomeStatus, 'CANCELLED' | 'EXPIRED' | 'ATTEMPTS_EXCEEDED'>;

/**
 * Change the default payment method/token of a Wonder customer, optionally confirmed by the wallet user.
 * Started by backend code only (no HTTP route), so it is checked by the compiler and by the Wonder
 * activity's own validation rather than by a schema.
 */
export interface PaymentMethodChangeInput {
  wonderCustomerUuid: string;
  /**
   * Your reference_number for this customer's Wonder record (your mapping from the customer to it; with
   * `confirmWith`, the one you keep for that DWS customer). Nothing is written unless the record at
   * `wonderCustomerUuid` carries it: otherwise REJECTED with WONDER_CUSTOMER_MISMATCH.
   */
  wonderReferenceNumber: string;
  /** null clears the field at Wonder; an absent field is left as it is */
  update: Pick<WonderCustomerUpdate, 'default_payment_method' | 'default_payment_token'>;
  /** ask the wallet user to prove possession (the DWS challenge: SMS code or PIN) before the change */
  confirmWith?: { customerId: string; businessSceneCode?: BusinessSceneCode; env?: Env };
  lang?: WonderSyncTarget['lang'];
  policy?: Partial<VerificationPolicy>;
}

/**
 * The workflows' signatures as the client library sees them: it types its calls with these instead of
 * importing the workflow code (and @temporalio/workflow's runtime with it); workflows/index.ts holds the
 * workflows to them.
 */
export type VerifyContactChangeWorkflow = (input: VerificationInput) => Promise<VerificationOutcome>;
export type ChangeWonderPaymentMethodWorkflow = (
  input: PaymentMethodChangeInput,
) => Promise<PaymentMethodChangeOutcome>;

export type WebhookEvent = FromSchema<typeof webhookEventSchema>;
export type WebhookEventType = WebhookEvent['type'];

/** One event to one endpoint, as the delivery workflow's query shows it. */
export interface EventDelivery {
  endpoint: string;
  eventId: string;
  type: WebhookEventType;
  /** PENDING: being attempted; GONE: the receiver answered 410; REMOVED: no longer configured */
  status: 'PENDING' | 'DELIVERED' | 'GAVE_UP' | 'GONE' | 'REMOVED';
  /** attempts made so far, over every redelivery (a running one's are in the UI's pending activity) */
  attempts: number;
  /** the last attempt's answer: an HTTP status, 'timeout' or 'unreachable' */
  lastAnswer?: number | 'timeout' | 'unreachable';
  /** why the last attempt failed, naming the endpoint, never its URL */
  lastError?: string;
  deliveredAt?: string;
}

/** The webhook delivery of one verification run (workflows/webhook-delivery.ts). */
export interface WebhookDeliveryState {
  verificationId: string;
  caller: string;
  /** GAVE_UP: some event was not delivered; it waits for an operator's redeliver until it closes */
  status: 'DELIVERING' | 'DELIVERED' | 'GAVE_UP';
  deliveries: EventDelivery[];
  redeliveries: number;
}

export interface WebhookDeliveryInput {
  verificationId: string;
  caller: string;
  endpoints: string[];
  events: WebhookEvent[];
  retryHours: number;
  timeoutSeconds: number;
  /** the wait before the second attempt (doubling up to an hour); 10 s when absent */
  firstRetrySeconds?: number;
}
