/**
 * DWS wire types and the DWS activities' contract. modifyCustomer fields and the result table come from
 * the seed (shared/seeds/dws-modifyCustomer.txt); triggerChallenge and verifyAndResume from the public DWS
 * pages (docs.antom.com/ac/dws2/...), whose result-code lists are cut short: the codes marked "ours" are
 * this project's definitions, documented in sandbox/README.md. The activities' inputs and outputs live
 * here, beside the wire types they are made of, so the workflows, the validation and the outcome mapping
 * all import them from a module that imports nothing back.
 */

export type ResultStatus = 'S' | 'F' | 'U';

/** Every row of the seed's error table. */
export type SeedResultCode =
  | 'SUCCESS'
  | 'REPEAT_REQ_INCONSISTENT'
  | 'PARAM_ILLEGAL'
  | 'PROCESS_FAIL'
  | 'UNKNOWN_EXCEPTION'
  | 'INVALID_PHONE_NUMBER'
  | 'TIMES_EXCEED_LIMIT'
  | 'INVALID_API'
  | 'INVALID_CLIENT'
  | 'INVALID_SIGNATURE'
  | 'REQUEST_TRAFFIC_EXCEED_LIMIT'
  | 'ACCESS_DENIED'
  | 'SEND_TIMES_EXCEED_LIMIT'
  | 'METHOD_NOT_SUPPORTED';

/** ours: verifyAndResume answers for a wrong, expired or exhausted code (all F). */
export type VerifyResultCode = 'VERIFY_CODE_INCORRECT' | 'VERIFY_CODE_EXPIRED' | 'VERIFY_TIMES_EXCEED_LIMIT';

export type ResultCode = SeedResultCode | VerifyResultCode;

export interface Result {
  resultCode: ResultCode | (string & {});
  resultStatus: ResultStatus;
  resultMessage?: string;
}

/** seed: businessSceneCode valid values (MOBILE_AVAILABLE is the documented default). */
export const businessSceneCodes = ['MOBILE_AVAILABLE', 'MOBILE_UNAVAILABLE'] as const;
export type BusinessSceneCode = (typeof businessSceneCodes)[number];

/** seed: actionForm.challengeType examples. */
export const challengeTypes = ['sms', 'PAYMENT_PASSWORD'] as const;
export type ChallengeType = (typeof challengeTypes)[number];

export interface ActionForm {
  challengeType: ChallengeType;
  /** masked destination, e.g. "+60******6353"; empty for a PIN */
  challengeRenderValue: string;
}

export interface MobileNoInfo {
  countryCode: string;
  phoneNo: string;
}

/** seed: customer.user; either or both fields. */
export interface CustomerUser {
  email?: string;
  mobileNoInfo?: MobileNoInfo;
}

/** seed: Env (risk data); every field a string. */
export interface Env {
  appVersion?: string;
  clientIp?: string;
  deviceModel?: string;
  deviceTokenId?: string;
  language?: string;
  operateEntrance?: string;
  osType?: string;
  osVersion?: string;
  sessionId?: string;
  terminalType?: string;
  umidTokenId?: string;
}

/** POST /ams/api/v1/customers/modifyCustomer (seed). Consult: businessSceneCode; modify: authenticationId + user. */
export interface ModifyCustomerRequest {
  requestId: string;
  authenticationId?: string;
  customer: { customerId: string; user?: CustomerUser };
  businessSceneCode?: BusinessSceneCode;
  env?: Env;
}

export interface ModifyCustomerResponse {
  result: Result;
  customerId?: string;
  actionForm?: ActionForm;
  authenticationId?: string;
}

/** POST /ams/api/v1/security/triggerChallenge (docs.antom.com/ac/dws2/triggerchallenge). */
export interface TriggerChallengeRequest {
  /** the authenticationId from modifyCustomer */
  challengeId: string;
  /** ≤ 64, the idempotency key */
  triggerRequestId?: string;
}

export interface TriggerChallengeResponse {
  result: Result;
  /** public pages: the challenge actually issued; for a PIN, key material to encrypt it */
  challengeType?: ChallengeType;
  challengeRenderValue?: string;
  /** public pages: PIN encryption material (PAYMENT_PASSWORD only) */
  encryptionInfo?: EncryptionInfo;
}

/**
 * The key material a PIN challenge hands out for the wallet app to encrypt the PIN with (public: a key, a
 * salt, an algorithm, whatever the provider sends), passed on as given. The sandbox's fields and scheme
 * are in sandbox/README.md.
 */
export type EncryptionInfo = Record<string, string>;

export type ChallengeData =
  | { challengeType: 'SMS_OTP'; otpValue: string }
  | { challengeType: 'PAYMENT_PASSWORD'; passwordValue: string };

/** POST /ams/api/v1/security/verifyAndResume (docs.antom.com/ac/dws2/verifyandresume). */
export interface VerifyAndResumeRequest {
  authenticationId: string;
  /** ≤ 64, the idempotency key */
  requestId?: string;
  challengeData: ChallengeData;
}

export interface VerifyAndResumeResponse {
  result: Result;
  verifyRequestId?: string;
  authenticationId?: string;
  /** a further challenge guarding the resumed operation */
  challengeInfo?: ActionForm & { authenticationId?: string };
}

export const dwsPaths = {
  modifyCustomer: '/ams/api/v1/customers/modifyCustomer',
  triggerChallenge: '/ams/api/v1/security/triggerChallenge',
  verifyAndResume: '/ams/api/v1/security/verifyAndResume',
} as const;

export type DwsApi = keyof typeof dwsPaths;

/** A client id beginning SANDBOX_ is served under /ams/sandbox/api/... by the real provider. */
export function pathFor(api: DwsApi, clientId: string): string {
  const path = dwsPaths[api];
  return clientId.startsWith('SANDBOX_') ? path.replace('/ams/api/', '/ams/sandbox/api/') : path;
}

export interface ConsultInput {
  requestId: string;
  customerId: string;
  businessSceneCode: BusinessSceneCode;
  env?: Env;
}
export interface ConsultOutput {
  authenticationId: string;
  actionForm: ActionForm;
  resultCode: string;
}
export interface TriggerChallengeInput {
  challengeId: string;
  /** also the send's id in the customer's send budget: a retried trigger is counted once */
  triggerRequestId: string;
  /** whose send budget the code is spent from (the DWS customer the code goes to) */
  customerId: string;
}
export interface TriggerChallengeOutput {
  challengeType: ChallengeType;
  challengeRenderValue: string;
  resultCode: string;
  /** PAYMENT_PASSWORD: what the app encrypts the PIN with */
  encryptionInfo?: EncryptionInfo;
}
/**
 * triggerChallenge's own refusals, decided before DWS is called (limits/send-budget.ts): the customer's
 * send budget is spent (final, with a SendBudgetRefusal as the failure's details), or it could not be
 * checked (retried: no code goes out uncounted).
 */
export const sendBudgetFailureTypes = {
  exceeded: 'SEND_BUDGET_EXCEEDED',
  unavailable: 'SEND_BUDGET_UNAVAILABLE',
} as const;

export type SendBudgetFailureType = (typeof sendBudgetFailureTypes)[keyof typeof sendBudgetFailureTypes];

export interface SendBudgetRefusal {
  /** whole seconds until the customer may be sent a code again */
  retryAfterSeconds: number;
  /** the limit reached, as a sentence an app can show: "at most 5 codes per 10 minutes are sent to one customer" */
  reason: string;
}

export interface VerifyInput {
  requestId: string;
  authenticationId: string;
  challengeData: ChallengeData;
}
export type VerifyOutput =
  | {
      verdict: 'ACCEPTED';
      resultCode: string;
      furtherChallenge?: { authenticationId: string; actionForm: ActionForm };
    }
  | { verdict: 'INCORRECT' | 'EXPIRED' | 'LOCKED'; resultCode: VerifyResultCode; resultMessage: string };
export interface ModifyInput {
  requestId: string;
  authenticationId: string;
  customerId: string;
  user: CustomerUser;
  env?: Env;
}
export type ModifyOutput =
  | { applied: true; resultCode: string }
  | { applied: false; authenticationId: string; actionForm: ActionForm; resultCode: string };

/** The DWS activities, one per provider call, as the workflows call them and activities.ts makes them. */
export interface DwsActivities {
  consultModification(input: ConsultInput): Promise<ConsultOutput>;
  triggerChallenge(input: TriggerChallengeInput): Promise<TriggerChallengeOutput>;
  verifyAndResume(input: VerifyInput): Promise<VerifyOutput>;
  modifyCustomer(input: ModifyInput): Promise<ModifyOutput>;
}
