/**
 * One customer's contact change at DWS, from request to a final outcome:
 * consult → challenge → wait for the user's code → verify → modify (→ another challenge "with risk").
 * Every provider call is an activity; every requestId is made here once, so retries reuse it.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  TimeoutFailure,
  upsertSearchAttributes,
  uuid4,
} from '@temporalio/workflow';
import type { DwsActivities, VerifyOutput } from '../activities/dws/activities.js';
import type { WonderActivities } from '../activities/wonder/activities.js';
import type { ActionForm, ChallengeData, CustomerUser } from '../activities/dws/types.js';
import type { WonderCustomerUpdate } from '../activities/wonder/types.js';
import { ChallengeInbox } from './challenge-inbox.js';
import {
  cancelSignal,
  requestResendUpdate,
  resendOtpSignal,
  stateQuery,
  submitOtpSignal,
  verifyOtpUpdate,
} from './messages.js';
import { verificationOutcomeKey, verificationStepKey } from './search-attributes.js';
import { describeState } from './state-details.js';
import {
  defaultPolicy,
  type OtpVerdict,
  type ResendAnswer,
  type VerificationInput,
  type VerificationOutcome,
  type VerificationPolicy,
  type VerificationState,
  type VerificationStep,
} from './types.js';
import { codeFormatProblem } from './validation.js';

const dws = proxyActivities<DwsActivities>({
  startToCloseTimeout: '20 seconds',
  // Bounded: an unknown answer is retried for minutes, not forever.
  scheduleToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 12,
  },
});

const wonder = proxyActivities<WonderActivities>({
  startToCloseTimeout: '20 seconds',
  scheduleToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 12,
  },
});

/** Patch ids: each marks a change to the workflow's commands made after histories of it existed. */
export const patches = { wonderSync: 'wonder-sync' } as const;

interface Challenge {
  authenticationId: string;
  actionForm: ActionForm;
}

type ChallengeResult =
  { passed: true; furtherChallenge?: Challenge } | { passed: false; outcome: VerificationOutcome };

export async function verifyContactChange(input: VerificationInput): Promise<VerificationOutcome> {
  const policy: VerificationPolicy = { ...defaultPolicy, ...input.policy };
  const state: VerificationState = {
    customerId: input.customerId,
    step: 'CONSULTING',
    round: 0,
    attemptsLeft: policy.maxVerifyAttempts,
    resendsLeft: policy.maxResends,
    wonderSync: input.wonder ? 'PENDING' : 'NOT_REQUESTED',
    timeline: [],
  };
  const inbox = new ChallengeInbox();
  let cancelRequested: { reason?: string } | undefined;
  let lastSentAt = 0;
  let expiresAtMs = 0;

  setHandler(stateQuery, () => state);
  setHandler(submitOtpSignal, ({ code }) => {
    // A signal cannot be refused; a malformed one is noted and costs no attempt.
    if (codeFormatProblem(code, state.challengeType))
      return record('AWAITING_INPUT', 'malformed code ignored');
    inbox.push({ kind: 'otp', code }, false);
  });
  setHandler(resendOtpSignal, () => void inbox.push({ kind: 'resend' }, false));
  setHandler(cancelSignal, (request) => {
    cancelRequested = request ?? {};
  });
  setHandler(
    verifyOtpUpdate,
    ({ code }) => inbox.replyTo<OtpVerdict>(inbox.push({ kind: 'otp', code }, true)),
    {
      validator: ({ code }) => {
        if (state.step === 'DONE') throw new Error('the verification has already finished');
        const problem = codeFormatProblem(code, state.challengeType);
        if (problem) throw new Error(problem);
      },
    },
  );
  setHandler(requestResendUpdate, () => inbox.replyTo<ResendAnswer>(inbox.push({ kind: 'resend' }, true)), {
    validator: () => {
      if (state.step === 'DONE') throw new Error('the verification has already finished');
    },
  });

  try {
    enter('CONSULTING');
    const consult = await dws.consultModification({
      requestId: uuid4(),
      customerId: input.customerId,
      businessSceneCode: input.businessSceneCode ?? 'MOBILE_AVAILABLE',
      env: input.env,
    });
    note('consulted', consult.resultCode);

    let challenge: Challenge = { authenticationId: consult.authenticationId, actionForm: consult.actionForm };
    let modifySent = false;
    for (let round = 1; ; round++) {
      if (round > policy.maxChallengeRounds) {
        return finish(
          rejected(
            'TOO_MANY_CHALLENGES',
            `the provider asked for more than ${policy.maxChallengeRounds} challenges`,
          ),
        );
      }
      const result = await passChallenge(challenge, round);
      if (!result.passed) return finish(result.outcome);
      if (result.furtherChallenge) {
        challenge = result.furtherChallenge;
        continue;
      }
      // A challenge the modify call added is resumed by verifyAndResume, which applies the change itself.
      if (modifySent) break;
      if (cancelRequested) return finish(cancelled());

      enter('MODIFYING');
      modifySent = true;
      const modifyRequest = {
        requestId: uuid4(),
        authenticationId: challenge.authenticationId,
        customerId: input.customerId,
        user: input.change,
        env: input.env,
      };
      // Once sent, the modify runs to its answer even if the workflow is cancelled: the outcome must say
      // what the provider did, not what we hoped.
      const modified = await CancellationScope.nonCancellable(() => dws.modifyCustomer(modifyRequest));
      if (modified.applied) {
        note('modified', modified.resultCode);
        break;
      }
      note('modification needs another challenge', modified.resultCode);
      challenge = { authenticationId: modified.authenticationId, actionForm: modified.actionForm };
    }

    const wonderFailure = await carryToWonder();
    return finish({
      status: 'MODIFIED',
      ...base(),
      wonderSync: state.wonderSync,
      ...(wonderFailure ? { wonderFailure } : {}),
    });
  } catch (err) {
    if (isCancellation(err)) {
      cancelRequested ??= { reason: 'workflow cancelled by an operator' };
      return CancellationScope.nonCancellable(() => finish(cancelled()));
    }
    const failure = providerFailure(err);
    if (!failure) throw err;
    return finish(rejected(failure.code, failure.message));
  }

  /** trigger → wait → verify, until the code is accepted or the challenge ends the flow */
  async function passChallenge(challenge: Challenge, round: number): Promise<ChallengeResult> {
    state.round = round;
    state.challengeType = challenge.actionForm.challengeType;
    state.maskedDestination = challenge.actionForm.challengeRenderValue || undefined;
    state.attemptsLeft = policy.maxVerifyAttempts;
    state.resendsLeft = policy.maxResends;
    if (cancelRequested) return { passed: false, outcome: cancelled() };
    await sendCode(challenge, 'challenge sent');

    for (;;) {
      enter('AWAITING_INPUT');
      const woke = await condition(
        () => inbox.hasItems || !!cancelRequested,
        Math.max(expiresAtMs - now(), 1),
      );
      if (cancelRequested) return { passed: false, outcome: cancelled() };
      if (!woke) return { passed: false, outcome: ended('EXPIRED', 'code expired unanswered') };

      const item = inbox.take();
      if (!item) continue;
      if (item.kind === 'resend') {
        inbox.reply(item.id, await resend(challenge));
        continue;
      }

      enter('VERIFYING');
      const verified: VerifyOutput = await dws.verifyAndResume({
        requestId: uuid4(),
        authenticationId: challenge.authenticationId,
        challengeData: challengeData(state, item.code),
      });
      state.lastResultCode = verified.resultCode;
      switch (verified.verdict) {
        case 'ACCEPTED':
          note('code accepted', verified.resultCode);
          inbox.reply(item.id, { verdict: 'ACCEPTED' });
          return { passed: true, furtherChallenge: verified.furtherChallenge };
        case 'INCORRECT':
          state.attemptsLeft -= 1;
          note(`code incorrect, ${state.attemptsLeft} attempts left`, verified.resultCode);
          if (state.attemptsLeft > 0) {
            inbox.reply(item.id, { verdict: 'INCORRECT', attemptsLeft: state.attemptsLeft });
            continue;
          }
          inbox.reply(item.id, { verdict: 'ATTEMPTS_EXCEEDED' });
          return { passed: false, outcome: ended('ATTEMPTS_EXCEEDED', 'no attempts left') };
        case 'LOCKED':
          state.attemptsLeft = 0;
          inbox.reply(item.id, { verdict: 'ATTEMPTS_EXCEEDED' });
          return { passed: false, outcome: ended('ATTEMPTS_EXCEEDED', 'the provider locked the challenge') };
        case 'EXPIRED':
          inbox.reply(item.id, { verdict: 'EXPIRED' });
          return { passed: false, outcome: ended('EXPIRED', 'the provider reports the code expired') };
      }
    }
  }

  /**
   * The DWS change stands whatever happens here: a failure after retries is reported in the state and the
   * outcome, never undone and never silent.
   */
  async function carryToWonder(): Promise<string | undefined> {
    if (!input.wonder || !patched(patches.wonderSync)) return undefined;
    enter('SYNCING_WONDER');
    try {
      await wonder.putWonderCustomer({
        requestId: uuid4(),
        customerUuid: input.wonder.customerUuid,
        update: wonderUpdateFor(input.change),
        ...(input.wonder.lang ? { lang: input.wonder.lang } : {}),
      });
      state.wonderSync = 'SYNCED';
      note('carried to the Wonder customer record');
      return undefined;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const failure = providerFailure(err) ?? { code: 'WONDER_SYNC_FAILED', message: String(err) };
      state.wonderSync = 'FAILED';
      note(`Wonder sync failed: ${failure.code}`, failure.code);
      return failure.code;
    }
  }

  async function sendCode(challenge: Challenge, event: string): Promise<void> {
    enter('CHALLENGING');
    const sent = await dws.triggerChallenge({
      challengeId: challenge.authenticationId,
      triggerRequestId: uuid4(),
    });
    lastSentAt = now();
    expiresAtMs = lastSentAt + policy.otpValiditySeconds * 1000;
    state.expiresAt = new Date(expiresAtMs).toISOString();
    state.resendAvailableAt = new Date(lastSentAt + policy.resendCooldownSeconds * 1000).toISOString();
    if (sent.challengeRenderValue) state.maskedDestination = sent.challengeRenderValue;
    note(event, sent.resultCode);
  }

  async function resend(challenge: Challenge): Promise<ResendAnswer> {
    if (state.challengeType !== 'sms') return refuseResend({ honoured: false, reason: 'NOT_SMS' });
    if (state.resendsLeft <= 0) return refuseResend({ honoured: false, reason: 'NO_RESENDS_LEFT' });
    const waitMs = lastSentAt + policy.resendCooldownSeconds * 1000 - now();
    if (waitMs > 0) {
      return refuseResend({
        honoured: false,
        reason: 'COOLDOWN',
        retryAfterSeconds: Math.ceil(waitMs / 1000),
      });
    }
    state.resendsLeft -= 1;
    await sendCode(challenge, `code resent, ${state.resendsLeft} resends left`);
    return { honoured: true, resendsLeft: state.resendsLeft, expiresAt: state.expiresAt ?? '' };
  }

  function refuseResend(answer: ResendAnswer & { honoured: false }): ResendAnswer {
    record(state.step, `resend refused: ${answer.reason}`);
    return answer;
  }

  function enter(step: VerificationStep): void {
    if (state.step === step && state.timeline.length > 0) return;
    state.step = step;
    upsertSearchAttributes([{ key: verificationStepKey, value: step }]);
    setCurrentDetails(describeState(state));
  }

  function note(event: string, resultCode?: string): void {
    if (resultCode) state.lastResultCode = resultCode;
    record(state.step, event, resultCode);
    setCurrentDetails(describeState(state));
  }

  function record(step: VerificationStep, event: string, resultCode?: string): void {
    state.timeline.push({ at: new Date().toISOString(), step, event, ...(resultCode ? { resultCode } : {}) });
  }

  function base() {
    return { customerId: input.customerId, timeline: state.timeline };
  }

  function cancelled(): VerificationOutcome {
    note('cancelled');
    const reason = cancelRequested?.reason;
    return { status: 'CANCELLED', ...base(), ...(reason ? { reason } : {}) };
  }

  function ended(status: 'EXPIRED' | 'ATTEMPTS_EXCEEDED', event: string): VerificationOutcome {
    note(event);
    return { status, ...base() };
  }

  function rejected(resultCode: string, resultMessage: string): VerificationOutcome {
    const failedStep = state.step;
    note(`rejected: ${resultCode}`, resultCode);
    return { status: 'REJECTED', ...base(), resultCode, resultMessage, failedStep };
  }

  async function finish(outcome: VerificationOutcome): Promise<VerificationOutcome> {
    state.outcome = outcome.status;
    enter('DONE');
    record('DONE', `finished: ${outcome.status}`);
    upsertSearchAttributes([{ key: verificationOutcomeKey, value: outcome.status }]);
    inbox.closeAll(
      { verdict: 'CLOSED', outcome: outcome.status },
      { honoured: false, reason: 'NOT_AWAITING_INPUT' },
    );
    // Let update handlers deliver their answers before the run closes.
    await condition(allHandlersFinished);
    log.info('verification finished', { outcome: outcome.status, customerId: input.customerId });
    return outcome;
  }
}

function now(): number {
  return new Date().getTime();
}

function wonderUpdateFor(change: CustomerUser): WonderCustomerUpdate {
  return {
    ...(change.email ? { email: change.email } : {}),
    ...(change.mobileNoInfo
      ? { phone: `+${change.mobileNoInfo.countryCode}${change.mobileNoInfo.phoneNo}` }
      : {}),
  };
}

function challengeData(state: VerificationState, code: string): ChallengeData {
  return state.challengeType === 'PAYMENT_PASSWORD'
    ? { challengeType: 'PAYMENT_PASSWORD', passwordValue: code }
    : { challengeType: 'SMS_OTP', otpValue: code };
}

/** A provider's final "no" (or its silence past the retry budget) as a code and a message. */
function providerFailure(err: unknown): { code: string; message: string } | undefined {
  if (!(err instanceof ActivityFailure)) return undefined;
  const cause = err.cause;
  if (cause instanceof ApplicationFailure)
    return { code: cause.type ?? 'APPLICATION_FAILURE', message: cause.message };
  if (cause instanceof TimeoutFailure) {
    return {
      code: 'PROVIDER_UNAVAILABLE',
      message: `no final answer from the provider within the retry budget (${err.activityType})`,
    };
  }
  return { code: 'PROVIDER_FAILURE', message: cause?.message ?? err.message };
}
