/**
 * The verification's messages: the same objects are used by the workflow, the client library and the
 * tests, so a name is written once.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CancelRequest, OtpSubmission, OtpVerdict, ResendAnswer, VerificationState } from './types.js';

/** The primary path: the app posts the code and polls state. */
export const submitOtpSignal = defineSignal<[OtpSubmission]>('submitOtp');
export const resendOtpSignal = defineSignal('resendOtp');
export const cancelSignal = defineSignal<[CancelRequest]>('cancel');

/** For endpoints that want the verdict in the same call. */
export const verifyOtpUpdate = defineUpdate<OtpVerdict, [OtpSubmission]>('verifyOtp');
export const requestResendUpdate = defineUpdate<ResendAnswer>('requestResend');

export const stateQuery = defineQuery<VerificationState>('state');
