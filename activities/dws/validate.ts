/**
 * The DWS activities' inputs checked and turned into the request bodies, before anything is sent. The
 * inputs arrive through workflow history, not only from typed code, so every field is checked at run time.
 */
import { invalidInput } from '../shared/provider-call.js';
import {
  businessSceneCodes,
  type ConsultInput,
  type ModifyCustomerRequest,
  type ModifyInput,
  type TriggerChallengeInput,
  type TriggerChallengeRequest,
  type VerifyAndResumeRequest,
  type VerifyInput,
} from './types.js';

/** The failure type of an activity input the workflow should never have sent. */
export const INVALID_INPUT = 'INVALID_INPUT';

/** DWS caps its idempotency keys at 64 characters. */
const MAX_KEY_LENGTH = 64;

export function consultRequest(input: ConsultInput): ModifyCustomerRequest {
  const check = checker('consultModification');
  check.key('requestId', input?.requestId);
  check.text('customerId', input.customerId);
  check.oneOf('businessSceneCode', input.businessSceneCode, businessSceneCodes);
  return {
    requestId: input.requestId,
    customer: { customerId: input.customerId },
    businessSceneCode: input.businessSceneCode,
    ...(input.env ? { env: input.env } : {}),
  };
}

export function triggerRequest(input: TriggerChallengeInput): TriggerChallengeRequest {
  const check = checker('triggerChallenge');
  check.text('challengeId', input?.challengeId);
  check.key('triggerRequestId', input.triggerRequestId);
  // Not sent to DWS: the send budget's key. Refused when absent, so no code goes out uncounted.
  check.key('customerId', input.customerId);
  return { challengeId: input.challengeId, triggerRequestId: input.triggerRequestId };
}

export function verifyRequest(input: VerifyInput): VerifyAndResumeRequest {
  const check = checker('verifyAndResume');
  check.key('requestId', input?.requestId);
  check.text('authenticationId', input.authenticationId);
  const data = input.challengeData;
  if (typeof data !== 'object' || data === null) throw check.refuse('challengeData', 'is required');
  if (data.challengeType === 'SMS_OTP') check.text('challengeData.otpValue', data.otpValue);
  else if (data.challengeType === 'PAYMENT_PASSWORD')
    check.text('challengeData.passwordValue', data.passwordValue);
  else throw check.refuse('challengeData.challengeType', 'must be SMS_OTP or PAYMENT_PASSWORD');
  return { authenticationId: input.authenticationId, requestId: input.requestId, challengeData: data };
}

export function modifyRequest(input: ModifyInput): ModifyCustomerRequest {
  const check = checker('modifyCustomer');
  check.key('requestId', input?.requestId);
  check.text('authenticationId', input.authenticationId);
  check.text('customerId', input.customerId);
  const user = input.user;
  if (typeof user !== 'object' || user === null) throw check.refuse('user', 'is required');
  const { email, mobileNoInfo } = user;
  if (email === undefined && mobileNoInfo === undefined) {
    throw check.refuse('user', 'must carry an email or a mobileNoInfo');
  }
  if (email !== undefined) check.text('user.email', email);
  if (mobileNoInfo !== undefined) {
    check.text('user.mobileNoInfo.countryCode', mobileNoInfo?.countryCode);
    check.text('user.mobileNoInfo.phoneNo', mobileNoInfo?.phoneNo);
  }
  return {
    requestId: input.requestId,
    authenticationId: input.authenticationId,
    customer: { customerId: input.customerId, user },
    ...(input.env ? { env: input.env } : {}),
  };
}

function checker(activity: string) {
  const refuse = (field: string, reason: string) =>
    invalidInput(INVALID_INPUT, `DWS ${activity}`, field, reason);
  const text = (field: string, value: unknown): void => {
    if (typeof value !== 'string' || value.trim() === '') throw refuse(field, 'must be a non-empty string');
  };
  return {
    refuse,
    text,
    key(field: string, value: unknown): void {
      text(field, value);
      if ((value as string).length > MAX_KEY_LENGTH) {
        throw refuse(field, `must be at most ${MAX_KEY_LENGTH} characters`);
      }
    },
    oneOf(field: string, value: unknown, allowed: readonly string[]): void {
      if (!allowed.includes(value as string)) throw refuse(field, `must be one of ${allowed.join(', ')}`);
    },
  };
}
