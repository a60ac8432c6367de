/**
 * One customer's contact change at DWS, from request to a final outcome:
 * consult → challenge → wait for the user's code → verify → modify (→ another challenge "with risk")
 * → optionally carry the change to the Wonder customer record.
 * Every provider call is an activity; every requestId is made here once, so retries reuse it.
 */
import {
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  setHandler,
  uuid4,
} from '@temporalio/workflow';
import type { CustomerUser } from '../activities/dws/types.js';
import type { WonderCustomerUpdate } from '../activities/wonder/types.js';
import { ChallengeSession, type Possession } from './challenge-session.js';
import { FlowJournal } from './flow-journal.js';
import { patches } from './patches.js';
import {
  cancelSignal,
  challengeSentUpdate,
  requestResendUpdate,
  resendOtpSignal,
  stateQuery,
  submitOtpSignal,
  verifyOtpUpdate,
} from './messages.js';
import { dws, wonder } from './provider-activities.js';
import { providerFailure } from './provider-failure.js';
import {
  defaultPolicy,
  type VerificationInput,
  type VerificationOutcome,
  type VerificationPolicy,
  type VerificationState,
} from './types.js';

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
  const journal = new FlowJournal(state);
  const session = new ChallengeSession(journal, policy);
  let outcome: VerificationOutcome | undefined;
  setHandler(stateQuery, () => state);
  // The start's own answer (update-with-start): held until the code is on its way or the flow has ended.
  setHandler(
    challengeSentUpdate,
    async () => {
      await condition(() => outcome !== undefined || session.challengeOpen);
      return outcome ? { outcome } : session.challengeAnswer();
    },
    { validator: session.checkOpen },
  );
  setHandler(submitOtpSignal, session.submitCode);
  setHandler(verifyOtpUpdate, session.verifyCode, { validator: session.checkCode });
  setHandler(resendOtpSignal, session.queueResend);
  setHandler(requestResendUpdate, session.requestResend, { validator: session.checkOpen });
  setHandler(cancelSignal, session.cancel);
  const base = () => ({ customerId: input.customerId, timeline: state.timeline });

  try {
    const possession = await session.confirmPossession(input);
    if (!possession.proven) return finish(notProven(possession));
    if (session.cancelled) {
      journal.note('cancelled');
      return finish(ended('CANCELLED'));
    }

    journal.enter('MODIFYING');
    const modifyRequest = {
      requestId: uuid4(),
      authenticationId: possession.challenge.authenticationId,
      customerId: input.customerId,
      user: input.change,
      env: input.env,
    };
    // Once sent, the modify runs to its answer even if the workflow is cancelled: the outcome must say
    // what the provider did, not what we hoped.
    const modified = await CancellationScope.nonCancellable(() => dws.modifyCustomer(modifyRequest));
    if (modified.applied) {
      journal.note('modified', modified.resultCode);
    } else {
      // A challenge the modify call added is resumed by verifyAndResume, which applies the change itself.
      journal.note('modification needs another challenge', modified.resultCode);
      const resumed = await session.passRounds(
        { authenticationId: modified.authenticationId, actionForm: modified.actionForm },
        possession.round + 1,
      );
      if (!resumed.proven) return finish(notProven(resumed));
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
      session.markCancelled('workflow cancelled by an operator');
      journal.note('cancelled');
      return CancellationScope.nonCancellable(() => finish(ended('CANCELLED')));
    }
    const failure = providerFailure(err);
    if (!failure) throw err;
    return finish(rejected(failure.code, failure.message));
  }

  /**
   * The DWS change stands whatever happens here: a failure after retries is reported in the state and the
   * outcome, never undone and never silent.
   */
  async function carryToWonder(): Promise<string | undefined> {
    if (!input.wonder || !patched(patches.wonderSync)) return undefined;
    journal.enter('SYNCING_WONDER');
    try {
      await wonder.putWonderCustomer({
        requestId: uuid4(),
        customerUuid: input.wonder.customerUuid,
        // Absent from flows started before it was required: the activity then refuses to write at all.
        referenceNumber: input.wonder.referenceNumber,
        update: wonderUpdateFor(input.change),
        ...(input.wonder.lang ? { lang: input.wonder.lang } : {}),
      });
      state.wonderSync = 'SYNCED';
      journal.note('carried to the Wonder customer record');
      return undefined;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const failure = providerFailure(err) ?? { code: 'WONDER_SYNC_FAILED', message: String(err) };
      state.wonderSync = 'FAILED';
      journal.note(`Wonder sync failed: ${failure.code}`, failure.code);
      return failure.code;
    }
  }

  function ended(status: 'CANCELLED' | 'EXPIRED' | 'ATTEMPTS_EXCEEDED'): VerificationOutcome {
    const reason = session.cancelReason;
    return status === 'CANCELLED'
      ? { status, ...base(), ...(reason ? { reason } : {}) }
      : { status, ...base() };
  }

  function notProven(possession: Possession & { proven: false }): VerificationOutcome {
    return possession.status === 'REJECTED'
      ? rejected(possession.resultCode, possession.resultMessage)
      : ended(possession.status);
  }

  function rejected(resultCode: string, resultMessage: string): VerificationOutcome {
    const failedStep = state.step;
    journal.note(`rejected: ${resultCode}`, resultCode);
    return { status: 'REJECTED', ...base(), resultCode, resultMessage, failedStep };
  }

  async function finish(final: VerificationOutcome): Promise<VerificationOutcome> {
    // Set before the handlers are awaited: a start still waiting for its answer gets this outcome.
    outcome = final;
    // Asked only for a REJECTED flow: the other outcomes' commands are unchanged and carry no marker.
    const resultCode =
      final.status === 'REJECTED' && patched(patches.outcomeResultCode) ? final.resultCode : undefined;
    journal.close(final.status, resultCode);
    await session.close(final.status);
    log.info('verification finished', { outcome: final.status, customerId: input.customerId });
    return final;
  }
}

function wonderUpdateFor(change: CustomerUser): WonderCustomerUpdate {
  return {
    ...(change.email ? { email: change.email } : {}),
    ...(change.mobileNoInfo
      ? { phone: `+${change.mobileNoInfo.countryCode}${change.mobileNoInfo.phoneNo}` }
      : {}),
  };
}
