/**
 * The one place where DWS's answers become outcomes: a value to use, or the ApplicationFailure that tells
 * Temporal whether to retry. It covers every row of the seed's result table and our three verify codes
 * (each activity classifies its signed answer with consultOutcome and the others), and the failures of
 * an exchange that carried no trustworthy answer at all, which the client throws as it meets them: an
 * answer whose signature does not verify, and a signed one without a result. Timeouts, dropped
 * connections and bare HTTP errors are the same for every provider: activities/shared/errors.ts.
 */
import { ApplicationFailure } from '@temporalio/common';
import { httpStatusFailure } from '../shared/errors.js';
import { redactContacts } from '../shared/mask.js';
import type { LogFields, Outcome } from '../shared/provider-call.js';
import {
  challengeTypes,
  type ActionForm,
  type ChallengeType,
  type ConsultOutput,
  type DwsApi,
  type EncryptionInfo,
  type ModifyCustomerResponse,
  type ModifyOutput,
  type Result,
  type ResultStatus,
  type TriggerChallengeOutput,
  type TriggerChallengeResponse,
  type VerifyAndResumeResponse,
  type VerifyOutput,
  type VerifyResultCode,
} from './types.js';

/** The seed: TIMES_EXCEED_LIMIT means "too many requests in a short time, wait for a while". */
export const TIMES_EXCEED_LIMIT_RETRY_DELAY_MS = 30_000;

/** Codes the seed tells callers to retry, whatever status they come with. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set(['UNKNOWN_EXCEPTION', 'REQUEST_TRAFFIC_EXCEED_LIMIT']);

export const dwsFailureTypes = {
  /** an answer that claims to be DWS's but is unsigned or badly signed */
  invalidResponseSignature: 'INVALID_RESPONSE_SIGNATURE',
  /** a signed answer without a usable result, or an S that lacks what the call must return */
  malformedResponse: 'MALFORMED_RESPONSE',
} as const;

export interface DwsResponse {
  result: Result;
}

/** A signed answer: an S is the response, an F or U the failure it means. */
export function answerOutcome<T extends DwsResponse>(api: DwsApi, response: T): Outcome<T> {
  return response.result.resultStatus === 'S'
    ? { ok: true, value: response }
    : { ok: false, failure: resultFailure(`DWS ${api}`, response.result) };
}

/** A signed HTTP answer that carries no DWS result: final, since the same request gets the same page. */
export function answerWithoutResult(api: DwsApi, httpStatus: number): ApplicationFailure {
  const label = `DWS ${api}`;
  return httpStatus < 300
    ? malformedResponse(`${label} answered HTTP ${httpStatus} without a result`)
    : httpStatusFailure(label, httpStatus);
}

function resultFailure(label: string, result: Result): ApplicationFailure {
  const { resultCode, resultStatus } = result;
  const type = resultCode || `RESULT_${resultStatus}`;
  const message = result.resultMessage
    ? redactContacts(result.resultMessage)
    : `${label} answered ${resultStatus} ${resultCode}`;
  const details = { resultCode, resultStatus };
  if (resultCode === 'TIMES_EXCEED_LIMIT') {
    return ApplicationFailure.create({
      message,
      type,
      details: [details],
      nextRetryDelay: TIMES_EXCEED_LIMIT_RETRY_DELAY_MS,
    });
  }
  if (resultStatus === 'U' || RETRYABLE_CODES.has(resultCode)) {
    return ApplicationFailure.retryable(message, type, details);
  }
  return ApplicationFailure.nonRetryable(message, type, details);
}

export function malformedResponse(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, dwsFailureTypes.malformedResponse);
}

/**
 * Never trust an answer whose signature does not verify, whatever it claims. An unsigned or forged S must
 * not apply a change, and a retry would most likely fetch the same one: final, so the workflow stops with
 * a reason an operator can act on (a wrong DWS_PROVIDER_PUBLIC_KEY or DWS_CLIENT_ID, or something between
 * this service and DWS). Anything else (a U or F, a gateway's error page) says nothing trustworthy about
 * what DWS did: an unknown outcome, retried with the same request id under the activity's bounded policy,
 * whose last attempt reports this same type if the answers never verify.
 */
export function invalidResponseSignature(
  api: DwsApi,
  httpStatus: number,
  claimed: Result | undefined,
): ApplicationFailure {
  const what = claimed ? `an ${claimed.resultStatus} answer` : `an HTTP ${httpStatus} answer`;
  const message =
    `DWS ${api} got ${what} that is unsigned or whose signature does not verify; it is not trusted ` +
    '(check DWS_PROVIDER_PUBLIC_KEY and DWS_CLIENT_ID, and what sits between this service and DWS)';
  const details = {
    httpStatus,
    claimedResultStatus: claimed?.resultStatus,
    claimedResultCode: claimed?.resultCode,
  };
  const type = dwsFailureTypes.invalidResponseSignature;
  return claimed?.resultStatus === 'S'
    ? ApplicationFailure.nonRetryable(message, type, details)
    : ApplicationFailure.retryable(message, type, details);
}

/** Reads a DWS answer out of a body: JSON with a result whose status is S, F or U; anything else is undefined. */
export function parseDwsAnswer<T extends DwsResponse>(body: string): T | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const result: unknown = (parsed as { result?: unknown }).result;
  if (typeof result !== 'object' || result === null) return undefined;
  const { resultStatus, resultCode } = result as { resultStatus?: unknown; resultCode?: unknown };
  if (!isResultStatus(resultStatus) || typeof resultCode !== 'string') return undefined;
  return parsed as T;
}

function isResultStatus(value: unknown): value is ResultStatus {
  return value === 'S' || value === 'F' || value === 'U';
}

/** ours: verifyAndResume's answers about the user's code. They are the user's answer, not a failure. */
export const userVerdicts = {
  VERIFY_CODE_INCORRECT: 'INCORRECT',
  VERIFY_CODE_EXPIRED: 'EXPIRED',
  VERIFY_TIMES_EXCEED_LIMIT: 'LOCKED',
} as const satisfies Record<VerifyResultCode, string>;

export type UserVerdict = (typeof userVerdicts)[VerifyResultCode];

export interface RejectedCode {
  verdict: UserVerdict;
  resultCode: VerifyResultCode;
  resultMessage: string;
}

/** The verdict an F result gives about the user's code, or undefined when the result is not about the code. */
export function userVerdict(result: Result): RejectedCode | undefined {
  if (result.resultStatus !== 'F' || !Object.hasOwn(userVerdicts, result.resultCode)) return undefined;
  const resultCode = result.resultCode as VerifyResultCode;
  return {
    verdict: userVerdicts[resultCode],
    resultCode,
    resultMessage: redactContacts(result.resultMessage ?? resultCode),
  };
}

/** What the activity's log line says about any DWS answer. */
export function describeResult(response: DwsResponse): LogFields {
  return { resultStatus: response.result.resultStatus, resultCode: response.result.resultCode };
}

export function consultOutcome(response: ModifyCustomerResponse): Outcome<ConsultOutput> {
  return settled('modifyCustomer', response, ({ authenticationId, actionForm, result }) => {
    if (!authenticationId || !isActionForm(actionForm)) {
      return malformedResponse(
        'DWS modifyCustomer answered the consult with S but without an authenticationId and actionForm',
      );
    }
    return { authenticationId, actionForm: normalisedActionForm(actionForm), resultCode: result.resultCode };
  });
}

export function triggerOutcome(response: TriggerChallengeResponse): Outcome<TriggerChallengeOutput> {
  return settled('triggerChallenge', response, ({ challengeType, challengeRenderValue, result, ...rest }) => {
    if (!isChallengeType(challengeType)) {
      return malformedResponse('DWS triggerChallenge answered S without a known challengeType');
    }
    const encryptionInfo = keyMaterial(rest.encryptionInfo);
    if (encryptionInfo instanceof ApplicationFailure) return encryptionInfo;
    return {
      challengeType,
      challengeRenderValue: challengeRenderValue ?? '',
      resultCode: result.resultCode,
      ...(encryptionInfo ? { encryptionInfo } : {}),
    };
  });
}

export function verifyOutcome(response: VerifyAndResumeResponse): Outcome<VerifyOutput> {
  // A wrong, expired or exhausted code is the user's answer: returned for the workflow to act on.
  const rejected = userVerdict(response.result);
  if (rejected) return { ok: true, value: rejected };
  return settled('verifyAndResume', response, ({ challengeInfo, result }) => {
    if (!challengeInfo) return { verdict: 'ACCEPTED', resultCode: result.resultCode };
    const authenticationId = challengeInfo.authenticationId ?? response.authenticationId;
    if (!authenticationId || !isActionForm(challengeInfo)) {
      return malformedResponse(
        'DWS verifyAndResume answered with a further challenge that lacks its authenticationId or type',
      );
    }
    return {
      verdict: 'ACCEPTED',
      resultCode: result.resultCode,
      furtherChallenge: { authenticationId, actionForm: normalisedActionForm(challengeInfo) },
    };
  });
}

export function modifyOutcome(response: ModifyCustomerResponse): Outcome<ModifyOutput> {
  return settled('modifyCustomer', response, ({ actionForm, authenticationId, result }) => {
    // A risky change answers S with another challenge; the change is pending until that one is verified.
    if (!actionForm) return { applied: true, resultCode: result.resultCode };
    if (!authenticationId || !isActionForm(actionForm)) {
      return malformedResponse(
        'DWS modifyCustomer answered with a further challenge that lacks its authenticationId or type',
      );
    }
    return {
      applied: false,
      authenticationId,
      actionForm: normalisedActionForm(actionForm),
      resultCode: result.resultCode,
    };
  });
}

/** An F or U becomes its failure; an S is shaped into the activity's value, or is malformed. */
function settled<R extends DwsResponse, O>(
  api: DwsApi,
  response: R,
  shape: (response: R) => O | ApplicationFailure,
): Outcome<O> {
  const outcome = answerOutcome(api, response);
  if (!outcome.ok) return outcome;
  const value = shape(outcome.value);
  return value instanceof ApplicationFailure ? { ok: false, failure: value } : { ok: true, value };
}

function isChallengeType(value: unknown): value is ChallengeType {
  return challengeTypes.includes(value as ChallengeType);
}

function isActionForm(value: unknown): value is ActionForm {
  return typeof value === 'object' && value !== null && isChallengeType((value as ActionForm).challengeType);
}

/** Bounds on what enters workflow history and the app's answers; an RSA-4096 SPKI in base64 is ~740 characters. */
const MAX_KEY_MATERIAL_FIELDS = 16;
const MAX_KEY_MATERIAL_LENGTH = 8192;

/** The PIN key material as given, when it is a small object of strings; malformed otherwise. */
function keyMaterial(value: unknown): EncryptionInfo | undefined | ApplicationFailure {
  if (value === undefined || value === null) return undefined;
  const entries = typeof value === 'object' && !Array.isArray(value) ? Object.entries(value) : undefined;
  if (
    !entries ||
    entries.length > MAX_KEY_MATERIAL_FIELDS ||
    !entries.every(([, field]) => typeof field === 'string' && field.length <= MAX_KEY_MATERIAL_LENGTH)
  ) {
    return malformedResponse(
      'DWS triggerChallenge answered an encryptionInfo that is not a small object of strings',
    );
  }
  return Object.fromEntries(entries) as EncryptionInfo;
}

/** Only the two documented fields, so nothing else the provider adds travels into workflow history. */
function normalisedActionForm(form: ActionForm): ActionForm {
  return { challengeType: form.challengeType, challengeRenderValue: form.challengeRenderValue ?? '' };
}
