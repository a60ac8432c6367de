/**
 * The verification's messages: the same objects are used by the workflow, the client library and the
 * tests, so a name is written once.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  CancelRequest,
  ChallengeAnswer,
  OtpSubmission,
  OtpVerdict,
  ResendAnswer,
  VerificationState,
  WebhookDeliveryState,
} from './types.js';

/** Fire-and-forget messages; the app reads the state by query. */
export const submitOtpSignal = defineSignal<[OtpSubmission]>('submitOtp');
export const resendOtpSignal = defineSignal('resendOtp');
export const cancelSignal = defineSignal<[CancelRequest]>('cancel');

/** For endpoints that want the verdict in the same call. */
export const verifyOtpUpdate = defineUpdate<OtpVerdict, [OtpSubmission]>('verifyOtp');
export const requestResendUpdate = defineUpdate<ResendAnswer>('requestResend');

/**
 * Sent with the start (update-with-start): answered once the first code is on its way, or with the
 * outcome if the flow ended before, so the app learns where the code went without polling.
 */
export const challengeSentUpdate = defineUpdate<ChallengeAnswer>('challengeSent');

export const stateQuery = defineQuery<VerificationState>('state');

/** The webhook delivery's state (workflows/webhook-delivery.ts). */
export const webhookDeliveryQuery = defineQuery<WebhookDeliveryState>('webhookDeliveries');

/** An operator's redelivery of what gave up (or met 410): answered with how many deliveries it queued. */
export const redeliverUpdate = defineUpdate<{ queued: number }>('redeliver');
