/**
 * A Wonder customer's default payment method or token, changed in one durable flow:
 * (optionally: consult → challenge → wait for the wallet user's code → verify) → Put Customer.
 * The confirmation is the contact change's journey, signals and updates included; no DWS modify is sent,
 * so nothing changes at DWS.
 */
import { isCancellation, setHandler, uuid4 } from '@temporalio/workflow';
import { paymentMethodChangeInputProblem } from './input-contract.js';
import { VerificationJourney } from './journey.js';
import {
  cancelSignal,
  requestResendUpdate,
  resendOtpSignal,
  stateQuery,
  submitOtpSignal,
  verifyOtpUpdate,
} from './messages.js';
import { patches } from './patches.js';
import { wonder } from './provider-activities.js';
import type { PaymentMethodChangeInput, PaymentMethodChangeOutcome } from './types.js';

type Updated = Extract<PaymentMethodChangeOutcome, { status: 'UPDATED' }>;

export async function changeWonderPaymentMethod(
  input: PaymentMethodChangeInput,
): Promise<PaymentMethodChangeOutcome> {
  const inputProblem = paymentMethodChangeInputProblem(input);
  // Not even an object (a direct start): the flow still ends with its outcome, not a failing task.
  if (typeof input !== 'object' || input === null) input = {} as PaymentMethodChangeInput;
  const journey = new VerificationJourney<{ wonderCustomerUuid: string }, Updated>(
    'payment method change',
    { wonderCustomerUuid: input.wonderCustomerUuid },
    {
      policy: input.policy,
      inputProblem,
      customerId: input.confirmWith?.customerId,
      wonderCustomerUuid: input.wonderCustomerUuid,
      firstStep: input.confirmWith ? 'CONSULTING' : 'SYNCING_WONDER',
      wonderSync: 'PENDING',
    },
  );
  const { state, journal, session } = journey;
  setHandler(stateQuery, journey.readState);
  setHandler(submitOtpSignal, session.submitCode);
  setHandler(verifyOtpUpdate, session.verifyCode, { validator: session.checkCode });
  setHandler(resendOtpSignal, session.queueResend);
  setHandler(requestResendUpdate, session.requestResend, { validator: session.checkOpen });
  setHandler(cancelSignal, session.cancel);

  try {
    const refused = journey.refusedInput();
    if (refused) return journey.finish(refused);
    if (input.confirmWith) {
      const possession = await session.confirmPossession(input.confirmWith);
      if (!possession.proven) return journey.finish(journey.unproven(possession));
      if (session.cancelled) return journey.finish(journey.cancelled());
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
    return journey.finish({
      status: 'UPDATED',
      ...journey.base(),
      changed: customer.changed,
      cleared: customer.cleared,
    });
  } catch (err) {
    // Runs cancelled before this change ended CANCELED without an outcome, and replay so.
    if (isCancellation(err) && !journey.patches.takes(patches.paymentMethodCancelOutcome)) throw err;
    return journey.failed(err);
  }
}
