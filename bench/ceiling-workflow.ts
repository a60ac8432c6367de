/**
 * The ceiling workflow: the verification's shape without its provider. The same four activities with the
 * same options, the same search-attribute upserts per step, the same submitOtp signal awaited under the
 * same durable timer, the same kind of outcome. It is registered under the real workflow's type name on
 * its own task queue, so the project's VerificationClient drives it exactly as it drives the real one.
 */
import {
  allHandlersFinished,
  condition,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
} from '@temporalio/workflow';
import { stateQuery, submitOtpSignal } from '../workflows/messages.js';
import { verificationOutcomeKey, verificationStepKey } from '../workflows/search-attributes.js';
import {
  defaultPolicy,
  type VerificationInput,
  type VerificationOutcome,
  type VerificationState,
  type VerificationStep,
} from '../workflows/types.js';
import type { CeilingActivities } from './ceiling-activities.js';
import { providerCall } from '../workflows/provider-activities.js';

// The same options as the real provider calls, so the ceiling differs only in what the activities do.
const provider = proxyActivities<CeilingActivities>(providerCall);

/**
 * `upsertedSteps`: the steps whose entry is written to the VerificationStep search attribute. The real
 * workflow writes every step; bench/ceiling-lean-workflow.ts writes fewer, to price those writes.
 */
export async function runCeiling(
  input: VerificationInput,
  upsertedSteps: 'all' | readonly VerificationStep[],
): Promise<VerificationOutcome> {
  const policy = { ...defaultPolicy, ...input.policy };
  const state: VerificationState = {
    customerId: input.customerId,
    step: 'CONSULTING',
    round: 1,
    attemptsLeft: policy.maxVerifyAttempts,
    resendsLeft: policy.maxResends,
    wonderSync: 'NOT_REQUESTED',
    timeline: [],
  };
  let code: string | undefined;
  setHandler(stateQuery, () => state);
  setHandler(submitOtpSignal, (submission) => {
    code = submission.code;
  });

  enter('CONSULTING');
  const consult = await provider.consultModification({
    requestId: uuid4(),
    customerId: input.customerId,
    businessSceneCode: input.businessSceneCode ?? 'MOBILE_AVAILABLE',
  });
  enter('CHALLENGING');
  await provider.triggerChallenge({ challengeId: consult.authenticationId, triggerRequestId: uuid4() });
  enter('AWAITING_INPUT');
  if (!(await condition(() => code !== undefined, `${policy.otpValiditySeconds} seconds`))) {
    return finish({ status: 'EXPIRED', customerId: input.customerId, timeline: state.timeline });
  }
  enter('VERIFYING');
  await provider.verifyAndResume({
    requestId: uuid4(),
    authenticationId: consult.authenticationId,
    challengeData: { challengeType: 'SMS_OTP', otpValue: code ?? '' },
  });
  enter('MODIFYING');
  await provider.modifyCustomer({
    requestId: uuid4(),
    authenticationId: consult.authenticationId,
    customerId: input.customerId,
    user: input.change,
  });
  return finish({
    status: 'MODIFIED',
    customerId: input.customerId,
    timeline: state.timeline,
    wonderSync: 'NOT_REQUESTED',
  });

  function enter(step: VerificationStep): void {
    state.step = step;
    state.timeline.push({ at: new Date().toISOString(), step, event: step.toLowerCase() });
    if (upsertedSteps === 'all' || upsertedSteps.includes(step)) {
      upsertSearchAttributes([{ key: verificationStepKey, value: step }]);
    }
  }

  async function finish(outcome: VerificationOutcome): Promise<VerificationOutcome> {
    state.outcome = outcome.status;
    enter('DONE');
    upsertSearchAttributes([{ key: verificationOutcomeKey, value: outcome.status }]);
    await condition(allHandlersFinished);
    return outcome;
  }
}

// The type name VerificationClient starts; the task queue keeps it apart from the real workflow.
export async function verifyContactChange(input: VerificationInput): Promise<VerificationOutcome> {
  return runCeiling(input, 'all');
}
