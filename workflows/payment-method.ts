/**
 * A Wonder customer's default payment method or token, changed in one durable flow:
 * (optionally: consult → challenge → wait for the wallet user's code → verify) → Put Customer.
 * The confirmation reuses the contact change's challenge session, signals and update included; no DWS
 * modify is sent, so nothing changes at DWS.
 */
import { isCancellation, log, setHandler, uuid4 } from '@temporalio/workflow';
import { ChallengeSession } from './challenge-session.js';
import { FlowJournal } from './flow-journal.js';
import {
  cancelSignal,
  requestResendUpdate,
  resendOtpSignal,
  stateQuery,
  submitOtpSignal,
  verifyOtpUpdate,
} from './messages.js';
import { wonder } from './provider-activities.js';
import { providerFailure } from './provider-failure.js';
import {
  defaultPolicy,
  type PaymentMethodChangeInput,
  type PaymentMethodChangeOutcome,
  type VerificationState,
} from './types.js';

export async function changeWonderPaymentMethod(
  input: PaymentMethodChangeInput,
): Promise<PaymentMethodChangeOutcome> {
  const policy = { ...defaultPolicy, ...input.policy };
  const state: VerificationState = {
    customerId: input.confirmWith?.customerId ?? input.wonderCustomerUuid,
    step: input.confirmWith ? 'CONSULTING' : 'SYNCING_WONDER',
    round: 0,
    attemptsLeft: policy.maxVerifyAttempts,
    resendsLeft: policy.maxResends,
    wonderSync: 'PENDING',
    timeline: [],
  };
  const journal = new FlowJournal(state);
  const session = new ChallengeSession(journal, policy);
  setHandler(stateQuery, () => state);
  setHandler(submitOtpSignal, session.submitCode);
  setHandler(verifyOtpUpdate, session.verifyCode, { validator: session.checkCode });
  setHandler(resendOtpSignal, session.queueResend);
  setHandler(requestResendUpdate, session.requestResend, { validator: session.checkOpen });
  setHandler(cancelSignal, session.cancel);
  const base = () => ({ wonderCustomerUuid: input.wonderCustomerUuid, timeline: state.timeline });

  try {
    if (input.confirmWith) {
      const possession = await session.confirmPossession(input.confirmWith);
      if (!possession.proven) {
        return finish(
          possession.status === 'REJECTED'
            ? rejected(possession.resultCode, possession.resultMessage)
            : { status: possession.status, ...base() },
        );
      }
      if (session.cancelled) return finish({ status: 'CANCELLED', ...base() });
    }

    journal.enter('SYNCING_WONDER');
    const { customer } = await wonder.putWonderCustomer({
      requestId: uuid4(),
      customerUuid: input.wonderCustomerUuid,
      referenceNumber: input.wonderReferenceNumber,
      update: input.update,
      ...(input.lang ? { lang: input.lang } : {}),
    });
    state.wonderSync = 'SYNCED';
    journal.note('default payment method updated at Wonder');
    return finish({ status: 'UPDATED', ...base(), changed: customer.changed, cleared: customer.cleared });
  } catch (err) {
    if (isCancellation(err)) throw err;
    const failure = providerFailure(err);
    if (!failure) throw err;
    if (state.step === 'SYNCING_WONDER') state.wonderSync = 'FAILED';
    return finish(rejected(failure.code, failure.message));
  }

  function rejected(resultCode: string, resultMessage: string): PaymentMethodChangeOutcome {
    const failedStep = state.step;
    journal.note(`rejected: ${resultCode}`, resultCode);
    return { status: 'REJECTED', ...base(), resultCode, resultMessage, failedStep };
  }

  async function finish(outcome: PaymentMethodChangeOutcome): Promise<PaymentMethodChangeOutcome> {
    journal.close(outcome.status);
    await session.close(outcome.status);
    log.info('payment method change finished', {
      outcome: outcome.status,
      wonderCustomerUuid: input.wonderCustomerUuid,
    });
    return outcome;
  }
}
