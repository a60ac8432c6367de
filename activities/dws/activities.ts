/**
 * The DWS activities: one per provider call, each the shared shape (shared/provider-call.ts): validate
 * (validate.ts), call (client.ts), classify (outcomes.ts), one log line, and the ApplicationFailure that
 * decides the retry. Each takes its idempotency key from its input (the workflow makes it once, so every
 * retry of the call reuses it). The line never holds the code the user typed, nor a full phone or email.
 */
import { maskEmail, maskPhone } from '../shared/mask.js';
import { runProviderCall, type CallLogger, type LogFields } from '../shared/provider-call.js';
import type { DwsClient } from './client.js';
import { consultOutcome, describeResult, modifyOutcome, triggerOutcome, verifyOutcome } from './outcomes.js';
import type {
  ActionForm,
  BusinessSceneCode,
  ChallengeData,
  ChallengeType,
  CustomerUser,
  EncryptionInfo,
  Env,
  VerifyResultCode,
} from './types.js';
import { consultRequest, modifyRequest, triggerRequest, verifyRequest } from './validate.js';

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
  /** PAYMENT_PASSWORD: what the app encrypts the PIN with */
  encryptionInfo?: EncryptionInfo;
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

/** `logger` replaces the activity context's logger as the destination of the one line per call. */
export function createDwsActivities(client: DwsClient, logger?: CallLogger) {
  const provider = 'DWS';
  const describe = describeResult;

  function consultModification(input: ConsultInput): Promise<ConsultOutput> {
    return runProviderCall(
      {
        provider,
        api: 'modifyCustomer',
        activity: 'consultModification',
        fields: { requestId: input?.requestId, customerId: input?.customerId },
        validate: () => consultRequest(input),
        call: (request, signal) => client.modifyCustomer(request, { signal }),
        describe,
        classify: consultOutcome,
      },
      logger,
    );
  }

  function triggerChallenge(input: TriggerChallengeInput): Promise<TriggerChallengeOutput> {
    return runProviderCall(
      {
        provider,
        api: 'triggerChallenge',
        activity: 'triggerChallenge',
        fields: { requestId: input?.triggerRequestId, authenticationId: input?.challengeId },
        validate: () => triggerRequest(input),
        call: (request, signal) => client.triggerChallenge(request, { signal }),
        describe,
        classify: triggerOutcome,
      },
      logger,
    );
  }

  function verifyAndResume(input: VerifyInput): Promise<VerifyOutput> {
    return runProviderCall(
      {
        provider,
        api: 'verifyAndResume',
        activity: 'verifyAndResume',
        fields: {
          requestId: input?.requestId,
          authenticationId: input?.authenticationId,
          challengeType: input?.challengeData?.challengeType,
        },
        validate: () => verifyRequest(input),
        call: (request, signal) => client.verifyAndResume(request, { signal }),
        describe,
        classify: verifyOutcome,
      },
      logger,
    );
  }

  function modifyCustomer(input: ModifyInput): Promise<ModifyOutput> {
    return runProviderCall(
      {
        provider,
        api: 'modifyCustomer',
        activity: 'modifyCustomer',
        fields: {
          requestId: input?.requestId,
          authenticationId: input?.authenticationId,
          customerId: input?.customerId,
          ...maskedChange(input?.user),
        },
        validate: () => modifyRequest(input),
        call: (request, signal) => client.modifyCustomer(request, { signal }),
        describe,
        classify: modifyOutcome,
      },
      logger,
    );
  }

  return { consultModification, triggerChallenge, verifyAndResume, modifyCustomer };
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
