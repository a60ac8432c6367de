/**
 * The DWS activities: one per provider call. Each takes its idempotency key from its input (the workflow
 * makes it once, so every retry of the call reuses it), sends one signed request, and either returns what
 * the workflow needs or throws the ApplicationFailure from outcomes.ts that decides the retry. Each call
 * logs exactly one line, without the code the user typed and without a full phone number or email.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, type Logger } from '@temporalio/common';
import { maskEmail, maskPhone } from '../shared/mask.js';
import type { DwsCallOptions, DwsClient } from './client.js';
import { dwsOutcome, malformedResponse, successOrThrow, userVerdict, type DwsResponse } from './outcomes.js';
import type {
  ActionForm,
  BusinessSceneCode,
  ChallengeData,
  ChallengeType,
  CustomerUser,
  DwsApi,
  Env,
  ModifyCustomerResponse,
  VerifyAndResumeResponse,
  VerifyResultCode,
} from './types.js';

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
  triggerRequestId: string;
}
export interface TriggerChallengeOutput {
  challengeType: ChallengeType;
  challengeRenderValue: string;
  resultCode: string;
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

export type DwsActivities = ReturnType<typeof createDwsActivities>;

/** The failure type of an activity input the workflow should never have sent. */
export const INVALID_INPUT = 'INVALID_INPUT';

/** DWS caps its idempotency keys at 64 characters. */
const MAX_KEY_LENGTH = 64;

const BUSINESS_SCENE_CODES: readonly BusinessSceneCode[] = ['MOBILE_AVAILABLE', 'MOBILE_UNAVAILABLE'];
const CHALLENGE_TYPES: readonly ChallengeType[] = ['sms', 'PAYMENT_PASSWORD'];

type LogFields = Record<string, string | number | boolean | undefined>;

/**
 * `logger` replaces the activity context's logger as the destination of the one line per call; without it
 * the line goes to `Context.current().log`.
 */
export function createDwsActivities(client: DwsClient, logger?: Logger) {
  async function exchange<R extends DwsResponse, O>(
    api: DwsApi,
    activity: string,
    fields: LogFields,
    send: (options: DwsCallOptions) => Promise<R>,
    shape: (response: R) => O,
  ): Promise<O> {
    const context = activityContext();
    const log = logger ?? context?.log;
    const line: LogFields = { api, activity, ...fields, attempt: context?.info.attempt };
    try {
      const response = await send(context ? { signal: context.cancellationSignal } : {});
      line.resultStatus = response.result.resultStatus;
      line.resultCode = response.result.resultCode;
      const output = shape(response);
      log?.info(`DWS ${api} answered ${response.result.resultStatus}`, line);
      return output;
    } catch (error) {
      const failure = error instanceof ApplicationFailure ? error : undefined;
      log?.warn(`DWS ${api} failed`, {
        ...line,
        failureType: failure?.type ?? (error instanceof Error ? error.name : 'unknown'),
        retryable: failure ? !failure.nonRetryable : true,
      });
      throw error;
    }
  }

  async function consultModification(input: ConsultInput): Promise<ConsultOutput> {
    const fields = { requestId: input?.requestId, customerId: input?.customerId };
    return exchange(
      'modifyCustomer',
      'consultModification',
      fields,
      (options) => {
        requireKey('consultModification', 'requestId', input?.requestId);
        requireText('consultModification', 'customerId', input.customerId);
        requireOneOf(
          'consultModification',
          'businessSceneCode',
          input.businessSceneCode,
          BUSINESS_SCENE_CODES,
        );
        return client.modifyCustomer(
          {
            requestId: input.requestId,
            customer: { customerId: input.customerId },
            businessSceneCode: input.businessSceneCode,
            ...(input.env ? { env: input.env } : {}),
          },
          options,
        );
      },
      (response) => {
        const { authenticationId, actionForm } = settled('modifyCustomer', response);
        if (!authenticationId || !isActionForm(actionForm)) {
          throw malformedResponse(
            'DWS modifyCustomer answered the consult with S but without an authenticationId and actionForm',
          );
        }
        return {
          authenticationId,
          actionForm: normalisedActionForm(actionForm),
          resultCode: response.result.resultCode,
        };
      },
    );
  }

  async function triggerChallenge(input: TriggerChallengeInput): Promise<TriggerChallengeOutput> {
    const fields = { requestId: input?.triggerRequestId, authenticationId: input?.challengeId };
    return exchange(
      'triggerChallenge',
      'triggerChallenge',
      fields,
      (options) => {
        requireText('triggerChallenge', 'challengeId', input?.challengeId);
        requireKey('triggerChallenge', 'triggerRequestId', input.triggerRequestId);
        return client.triggerChallenge(
          { challengeId: input.challengeId, triggerRequestId: input.triggerRequestId },
          options,
        );
      },
      (response) => {
        const { challengeType, challengeRenderValue } = settled('triggerChallenge', response);
        if (!isChallengeType(challengeType)) {
          throw malformedResponse('DWS triggerChallenge answered S without a known challengeType');
        }
        return {
          challengeType,
          challengeRenderValue: challengeRenderValue ?? '',
          resultCode: response.result.resultCode,
        };
      },
    );
  }

  async function verifyAndResume(input: VerifyInput): Promise<VerifyOutput> {
    const fields = {
      requestId: input?.requestId,
      authenticationId: input?.authenticationId,
      challengeType: input?.challengeData?.challengeType,
    };
    return exchange(
      'verifyAndResume',
      'verifyAndResume',
      fields,
      (options) => {
        requireKey('verifyAndResume', 'requestId', input?.requestId);
        requireText('verifyAndResume', 'authenticationId', input.authenticationId);
        requireChallengeData(input.challengeData);
        return client.verifyAndResume(
          {
            authenticationId: input.authenticationId,
            requestId: input.requestId,
            challengeData: input.challengeData,
          },
          options,
        );
      },
      (response) => verifyOutput(response),
    );
  }

  async function modifyCustomer(input: ModifyInput): Promise<ModifyOutput> {
    const fields = {
      requestId: input?.requestId,
      authenticationId: input?.authenticationId,
      customerId: input?.customerId,
      ...maskedChange(input?.user),
    };
    return exchange(
      'modifyCustomer',
      'modifyCustomer',
      fields,
      (options) => {
        requireKey('modifyCustomer', 'requestId', input?.requestId);
        requireText('modifyCustomer', 'authenticationId', input.authenticationId);
        requireText('modifyCustomer', 'customerId', input.customerId);
        requireUser(input.user);
        return client.modifyCustomer(
          {
            requestId: input.requestId,
            authenticationId: input.authenticationId,
            customer: { customerId: input.customerId, user: input.user },
            ...(input.env ? { env: input.env } : {}),
          },
          options,
        );
      },
      (response) => modifyOutput(response),
    );
  }

  return { consultModification, triggerChallenge, verifyAndResume, modifyCustomer };
}

function verifyOutput(response: VerifyAndResumeResponse): VerifyOutput {
  // A wrong, expired or exhausted code is the user's answer: returned for the workflow to act on.
  const rejected = userVerdict(response.result);
  if (rejected) return rejected;
  const { challengeInfo, result } = settled('verifyAndResume', response);
  if (!challengeInfo) return { verdict: 'ACCEPTED', resultCode: result.resultCode };
  const authenticationId = challengeInfo.authenticationId ?? response.authenticationId;
  if (!authenticationId || !isActionForm(challengeInfo)) {
    throw malformedResponse(
      'DWS verifyAndResume answered with a further challenge that lacks its authenticationId or type',
    );
  }
  return {
    verdict: 'ACCEPTED',
    resultCode: result.resultCode,
    furtherChallenge: { authenticationId, actionForm: normalisedActionForm(challengeInfo) },
  };
}

function modifyOutput(response: ModifyCustomerResponse): ModifyOutput {
  const { actionForm, authenticationId, result } = settled('modifyCustomer', response);
  // A risky change answers S with another challenge; the change is pending until that one is verified.
  if (actionForm) {
    if (!authenticationId || !isActionForm(actionForm)) {
      throw malformedResponse(
        'DWS modifyCustomer answered with a further challenge that lacks its authenticationId or type',
      );
    }
    return {
      applied: false,
      authenticationId,
      actionForm: normalisedActionForm(actionForm),
      resultCode: result.resultCode,
    };
  }
  return { applied: true, resultCode: result.resultCode };
}

function settled<R extends DwsResponse>(api: DwsApi, response: R): R {
  return successOrThrow(dwsOutcome(api, { kind: 'answer', response }));
}

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

function isChallengeType(value: unknown): value is ChallengeType {
  return CHALLENGE_TYPES.includes(value as ChallengeType);
}

function isActionForm(value: unknown): value is ActionForm {
  return typeof value === 'object' && value !== null && isChallengeType((value as ActionForm).challengeType);
}

/** Only the two documented fields, so nothing else the provider adds travels into workflow history. */
function normalisedActionForm(form: ActionForm): ActionForm {
  return { challengeType: form.challengeType, challengeRenderValue: form.challengeRenderValue ?? '' };
}

function maskedChange(user: CustomerUser | undefined): LogFields {
  if (!user || typeof user !== 'object') return {};
  return {
    newEmail: typeof user.email === 'string' ? maskEmail(user.email) : undefined,
    newPhone:
      typeof user.mobileNoInfo?.countryCode === 'string' && typeof user.mobileNoInfo.phoneNo === 'string'
        ? maskPhone(user.mobileNoInfo)
        : undefined,
  };
}

function invalidInput(activity: string, problem: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${activity}: ${problem}`, INVALID_INPUT);
}

function requireText(activity: string, field: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidInput(activity, `${field} must be a non-empty string`);
  }
}

function requireKey(activity: string, field: string, value: unknown): void {
  requireText(activity, field, value);
  if ((value as string).length > MAX_KEY_LENGTH) {
    throw invalidInput(activity, `${field} must be at most ${MAX_KEY_LENGTH} characters`);
  }
}

function requireOneOf(activity: string, field: string, value: unknown, allowed: readonly string[]): void {
  if (!allowed.includes(value as string))
    throw invalidInput(activity, `${field} must be one of ${allowed.join(', ')}`);
}

function requireChallengeData(data: ChallengeData | undefined): void {
  const activity = 'verifyAndResume';
  if (typeof data !== 'object' || data === null) throw invalidInput(activity, 'challengeData is required');
  if (data.challengeType === 'SMS_OTP') return requireText(activity, 'challengeData.otpValue', data.otpValue);
  if (data.challengeType === 'PAYMENT_PASSWORD') {
    return requireText(activity, 'challengeData.passwordValue', data.passwordValue);
  }
  throw invalidInput(activity, 'challengeData.challengeType must be SMS_OTP or PAYMENT_PASSWORD');
}

function requireUser(user: CustomerUser | undefined): void {
  const activity = 'modifyCustomer';
  if (typeof user !== 'object' || user === null) throw invalidInput(activity, 'user is required');
  const { email, mobileNoInfo } = user;
  if (email === undefined && mobileNoInfo === undefined) {
    throw invalidInput(activity, 'user must carry an email or a mobileNoInfo');
  }
  if (email !== undefined) requireText(activity, 'user.email', email);
  if (mobileNoInfo !== undefined) {
    requireText(activity, 'user.mobileNoInfo.countryCode', mobileNoInfo?.countryCode);
    requireText(activity, 'user.mobileNoInfo.phoneNo', mobileNoInfo?.phoneNo);
  }
}
