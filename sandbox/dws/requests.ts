/**
 * Reading the three request bodies. Anything missing or malformed is a FieldError, answered as
 * PARAM_ILLEGAL with the field named. Whether a phone number is valid is a business answer
 * (INVALID_PHONE_NUMBER) and is left to the modify operation.
 */
import type { BusinessSceneCode, ChallengeData, CustomerUser, DwsApi } from '../../activities/dws/types.js';
import {
  FieldError,
  isRecord,
  isValidEmail,
  optionalString,
  parseMobileNoInfo,
  requiredObject,
  requiredString,
} from './field-rules.js';

export interface ConsultRequest {
  kind: 'consult';
  requestId: string;
  customerId: string;
  businessSceneCode: BusinessSceneCode;
}

export interface ModifyRequest {
  kind: 'modify';
  requestId: string;
  authenticationId: string;
  customerId: string;
  user: CustomerUser;
}

export interface TriggerChallengeRequest {
  challengeId: string;
  triggerRequestId?: string;
}

export interface VerifyAndResumeRequest {
  authenticationId: string;
  requestId?: string;
  challengeData: ChallengeData;
}

export function parseBody(raw: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new FieldError('body', 'is not valid JSON');
  }
  if (!isRecord(body)) throw new FieldError('body', 'must be a JSON object');
  return body;
}

/** The seed's table calls it `customer`; its samples say `customerInfo`. Both are read. */
function customerFieldOf(body: Record<string, unknown>): 'customer' | 'customerInfo' {
  return body.customer === undefined && body.customerInfo !== undefined ? 'customerInfo' : 'customer';
}

function parseUser(value: unknown, field: string): CustomerUser {
  const raw = requiredObject(value, field);
  const user: CustomerUser = {};
  const email = optionalString(raw.email, `${field}.email`, 254);
  if (email !== undefined) {
    if (!isValidEmail(email)) throw new FieldError(`${field}.email`, 'is not a valid email address');
    user.email = email;
  }
  if (raw.mobileNoInfo !== undefined)
    user.mobileNoInfo = parseMobileNoInfo(raw.mobileNoInfo, `${field}.mobileNoInfo`);
  if (user.email === undefined && user.mobileNoInfo === undefined) {
    throw new FieldError(field, 'must carry email or mobileNoInfo');
  }
  return user;
}

/** A body with an authenticationId is a modify; without one, a consult. */
export function parseModifyCustomer(body: Record<string, unknown>): ConsultRequest | ModifyRequest {
  const requestId = requiredString(body.requestId, 'requestId');
  const authenticationId = optionalString(body.authenticationId, 'authenticationId');
  const customerField = customerFieldOf(body);
  const customer = requiredObject(body[customerField], customerField);
  const customerId = requiredString(customer.customerId, `${customerField}.customerId`);
  if (body.env !== undefined && !isRecord(body.env)) throw new FieldError('env', 'must be an object');

  if (authenticationId !== undefined) {
    return {
      kind: 'modify',
      requestId,
      authenticationId,
      customerId,
      user: parseUser(customer.user, `${customerField}.user`),
    };
  }
  const scene = body.businessSceneCode ?? 'MOBILE_AVAILABLE';
  if (scene !== 'MOBILE_AVAILABLE' && scene !== 'MOBILE_UNAVAILABLE') {
    throw new FieldError('businessSceneCode', 'must be MOBILE_AVAILABLE or MOBILE_UNAVAILABLE');
  }
  return { kind: 'consult', requestId, customerId, businessSceneCode: scene };
}

export function parseTriggerChallenge(body: Record<string, unknown>): TriggerChallengeRequest {
  const challengeId = requiredString(body.challengeId, 'challengeId');
  const triggerRequestId = optionalString(body.triggerRequestId, 'triggerRequestId');
  return triggerRequestId === undefined ? { challengeId } : { challengeId, triggerRequestId };
}

function parseChallengeData(value: unknown): ChallengeData {
  const raw = requiredObject(value, 'challengeData');
  const type = requiredString(raw.challengeType, 'challengeData.challengeType');
  if (type === 'SMS_OTP') {
    return { challengeType: type, otpValue: requiredString(raw.otpValue, 'challengeData.otpValue') };
  }
  if (type === 'PAYMENT_PASSWORD') {
    // Long enough for a PIN encrypted the way the real provider wants it.
    return {
      challengeType: type,
      passwordValue: requiredString(raw.passwordValue, 'challengeData.passwordValue', 4096),
    };
  }
  throw new FieldError('challengeData.challengeType', 'must be SMS_OTP or PAYMENT_PASSWORD');
}

export function parseVerifyAndResume(body: Record<string, unknown>): VerifyAndResumeRequest {
  const authenticationId = requiredString(body.authenticationId, 'authenticationId');
  const requestId = optionalString(body.requestId, 'requestId');
  const challengeData = parseChallengeData(body.challengeData);
  return requestId === undefined
    ? { authenticationId, challengeData }
    : { authenticationId, requestId, challengeData };
}

/** The field each API keys its idempotency on. */
export const idempotencyField: Record<DwsApi, 'requestId' | 'triggerRequestId'> = {
  modifyCustomer: 'requestId',
  triggerChallenge: 'triggerRequestId',
  verifyAndResume: 'requestId',
};
