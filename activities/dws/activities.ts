/**
 * The DWS activities: one per provider call, each the shared shape (shared/provider-call.ts): validate
 * (validate.ts), call (client.ts), classify (outcomes.ts), one log line, and the ApplicationFailure that
 * decides the retry. Each takes its idempotency key from its input (the workflow makes it once, so every
 * retry of the call reuses it). The line never holds the code the user typed, nor a full phone or email.
 * triggerChallenge spends the customer's send budget first: the one place every code goes out from.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { SendBudget } from '../../limits/send-budget.js';
import { LimitsStoreUnavailableError } from '../../limits/store.js';
import { maskEmail, maskPhone } from '../shared/mask.js';
import { runProviderCall, type CallLogger, type LogFields } from '../shared/provider-call.js';
import type { DwsClient } from './client.js';
import { consultOutcome, describeResult, modifyOutcome, triggerOutcome, verifyOutcome } from './outcomes.js';
import {
  sendBudgetFailureTypes,
  type ConsultInput,
  type ConsultOutput,
  type CustomerUser,
  type DwsActivities,
  type ModifyInput,
  type ModifyOutput,
  type SendBudgetRefusal,
  type TriggerChallengeInput,
  type TriggerChallengeOutput,
  type VerifyInput,
  type VerifyOutput,
} from './types.js';
import { consultRequest, modifyRequest, triggerRequest, verifyRequest } from './validate.js';

/**
 * `sendBudget` counts every code triggerChallenge sends, per customer; `logger` replaces the activity
 * context's logger as the destination of the one line per call.
 */
export function createDwsActivities(
  client: DwsClient,
  sendBudget: SendBudget,
  logger?: CallLogger,
): DwsActivities {
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
        fields: {
          requestId: input?.triggerRequestId,
          authenticationId: input?.challengeId,
          customerId: input?.customerId,
        },
        validate: () => triggerRequest(input),
        call: async (request, signal) => {
          // Before the call, on every attempt: the trigger request id makes a retry count once, and a
          // budget that cannot be checked must stop the SMS rather than let it go out uncounted.
          await spend(sendBudget, input.customerId, input.triggerRequestId);
          return client.triggerChallenge(request, { signal });
        },
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

/** Throws the failure that stops the send: refused (final) or not checkable (retried). */
async function spend(budget: SendBudget, customerId: string, sendId: string): Promise<void> {
  let decision;
  try {
    decision = await budget.spend(customerId, sendId);
  } catch (err) {
    if (!(err instanceof LimitsStoreUnavailableError)) throw err;
    throw ApplicationFailure.retryable(
      `DWS triggerChallenge not sent: the send budget could not be checked (${err.message})`,
      sendBudgetFailureTypes.unavailable,
    );
  }
  if (decision.allowed) return;
  const refusal: SendBudgetRefusal = {
    retryAfterSeconds: decision.retryAfterSeconds,
    reason: decision.reason,
  };
  // Final: the same send is refused until the window has room, and the workflow decides what then.
  throw ApplicationFailure.create({
    type: sendBudgetFailureTypes.exceeded,
    message: `DWS triggerChallenge not sent: ${decision.reason}`,
    nonRetryable: true,
    details: [refusal],
  });
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
