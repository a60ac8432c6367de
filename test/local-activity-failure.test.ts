/**
 * A provider's final "no" to one of the calls a user waits on (triggerChallenge, verifyAndResume), which
 * run as local activities, ends the flow with a REJECTED outcome, exactly as a "no" to an activity task
 * does: never a failed workflow. The sandbox answers F honestly here: a code verifies once (the test uses
 * it first, at the sandbox itself), an authentication already verified takes no new code, and a sandbox
 * that allows no code per authentication refuses the first trigger.
 */
import assert from 'node:assert/strict';
import { setTimeout } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { paymentMethodWorkflowId } from '../workflows/ids.js';
import { requestResendUpdate, stateQuery, submitOtpSignal, verifyOtpUpdate } from '../workflows/messages.js';
import { changeWonderPaymentMethod } from '../workflows/payment-method.js';
import { verificationOutcomeKey, verificationResultCodeKey } from '../workflows/search-attributes.js';
import type { PaymentMethodChangeOutcome, VerificationOutcome } from '../workflows/types.js';
import { startSandbox, type RunningSandbox } from '../sandbox/server.js';
import type { SandboxControlClient } from '../sandbox/control-client.js';
import { devServer } from './helpers/temporal.js';
import {
  waitForStep,
  withVerificationWorker,
  verificationStack,
  type VerificationRig,
} from './helpers/verification-env.js';

/** sandbox/wonder/README.md: a seeded Wonder customer, its reference and one of its tokens */
const cardCustomer = 'c2a4e0f1-7b3d-4c8e-9f10-2a3b4c5d6e01';
const cardCustomerReference = 'MERCHANT-CUST-0001';
const alipayToken = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c22';

/** The customer's current code, verified at the sandbox directly, as another channel might have. */
async function useCodeElsewhere(sandbox: RunningSandbox, control: SandboxControlClient, customerId: string) {
  const [message] = await control.outbox({ customerId });
  assert.ok(message, 'a code was sent');
  const { answer } = sandbox.dws.handle(
    'verifyAndResume',
    JSON.stringify({
      authenticationId: message.authenticationId,
      challengeData: { challengeType: 'SMS_OTP', otpValue: message.code },
    }),
  );
  assert.equal(answer.result.resultStatus, 'S');
  return message.code;
}

/** What the outcome, the search attributes and the provider's log must all say of a REJECTED flow. */
async function assertRejected(
  handle: WorkflowHandle,
  control: SandboxControlClient,
  expected: { resultCode: string; failedStep: string; api: 'triggerChallenge' | 'verifyAndResume' },
  since: number,
) {
  const outcome = (await handle.result()) as VerificationOutcome | PaymentMethodChangeOutcome;
  assert.equal(outcome.status, 'REJECTED', JSON.stringify(outcome));
  assert.equal(outcome.status === 'REJECTED' && outcome.resultCode, expected.resultCode);
  assert.equal(outcome.status === 'REJECTED' && outcome.failedStep, expected.failedStep);
  const { status, typedSearchAttributes } = await handle.describe();
  assert.equal(status.name, 'COMPLETED');
  assert.equal(typedSearchAttributes.get(verificationOutcomeKey), 'REJECTED');
  assert.equal(typedSearchAttributes.get(verificationResultCodeKey), expected.resultCode);
  // A final "no" is not retried: the provider saw the refused call once.
  const refused = (await control.requests({ api: expected.api })).filter(
    (r) => r.at >= since && r.resultCode === expected.resultCode,
  );
  assert.equal(refused.length, 1, JSON.stringify(refused));
}

function startPaymentMethodChange({ env, taskQueue }: VerificationRig, customerId: string) {
  return env.client.workflow.start(changeWonderPaymentMethod, {
    args: [
      {
        wonderCustomerUuid: cardCustomer,
        wonderReferenceNumber: cardCustomerReference,
        update: { default_payment_method: 'Alipay', default_payment_token: alipayToken },
        confirmWith: { customerId },
      },
    ],
    taskQueue,
    workflowId: paymentMethodWorkflowId(cardCustomer),
  });
}

describe("a provider's final answer to a local activity (trigger, verify)", function () {
  const stack = verificationStack();

  it('verify answered F PROCESS_FAIL: the contact change ends REJECTED at VERIFYING, nothing modified', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      const since = Date.now();
      const handle = await start({ customerId: customer.customerId, change: { email: 'new@example.com' } });
      await waitForStep(handle, 'AWAITING_INPUT');
      const code = await useCodeElsewhere(stack.sandbox, control, customer.customerId);
      await handle.signal(submitOtpSignal, { code });
      await assertRejected(
        handle,
        control,
        {
          resultCode: 'PROCESS_FAIL',
          failedStep: 'VERIFYING',
          api: 'verifyAndResume',
        },
        since,
      );
      assert.equal((await control.ledger(customer.customerId)).count, 0);
    });
  });

  it("verify answered F PROCESS_FAIL to the app's verifyOtp update: its caller is answered CLOSED REJECTED", async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      const since = Date.now();
      const handle = await start({ customerId: customer.customerId, change: { email: 'new@example.com' } });
      await waitForStep(handle, 'AWAITING_INPUT');
      const code = await useCodeElsewhere(stack.sandbox, control, customer.customerId);
      const verdict = await handle.executeUpdate(verifyOtpUpdate, { args: [{ code }] });
      assert.deepEqual(verdict, { verdict: 'CLOSED', outcome: 'REJECTED' });
      await assertRejected(
        handle,
        control,
        { resultCode: 'PROCESS_FAIL', failedStep: 'VERIFYING', api: 'verifyAndResume' },
        since,
      );
    });
  });

  it('a resent code answered F PROCESS_FAIL: REJECTED at CHALLENGING, the resend caller answered', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      const since = Date.now();
      const handle = await start({
        customerId: customer.customerId,
        change: { email: 'new@example.com' },
        // the shortest cooldown the workflow allows (its hard bound): the resend must be honoured to be sent
        policy: { resendCooldownSeconds: 30 },
      });
      await waitForStep(handle, 'AWAITING_INPUT');
      await useCodeElsewhere(stack.sandbox, control, customer.customerId);
      const { resendAvailableAt } = await handle.query(stateQuery);
      await setTimeout(Math.max(0, Date.parse(resendAvailableAt ?? '') - Date.now()) + 250);
      const answer = await handle.executeUpdate(requestResendUpdate);
      assert.deepEqual(answer, { honoured: false, reason: 'NOT_AWAITING_INPUT' });
      await assertRejected(
        handle,
        control,
        {
          resultCode: 'PROCESS_FAIL',
          failedStep: 'CHALLENGING',
          api: 'triggerChallenge',
        },
        since,
      );
    });
  });

  it('verify answered F PROCESS_FAIL: the payment-method change (confirmWith) ends REJECTED, Wonder untouched', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async (rig) => {
      const walletUser = await rig.control.addCustomer();
      const before = stack.sandbox.wonder.ledger(cardCustomer).length;
      const since = Date.now();
      const handle = await startPaymentMethodChange(rig, walletUser.customerId);
      await waitForStep(handle, 'AWAITING_INPUT');
      const code = await useCodeElsewhere(stack.sandbox, rig.control, walletUser.customerId);
      await handle.signal(submitOtpSignal, { code });
      await assertRejected(
        handle,
        rig.control,
        {
          resultCode: 'PROCESS_FAIL',
          failedStep: 'VERIFYING',
          api: 'verifyAndResume',
        },
        since,
      );
      assert.equal(stack.sandbox.wonder.ledger(cardCustomer).length, before);
    });
  });

  describe('the first trigger answered F (a sandbox that allows no code per authentication)', function () {
    let sandbox: RunningSandbox;
    before(async () => {
      sandbox = await startSandbox({ maxSendsPerAuthentication: 0 });
    });
    after(async () => sandbox?.close());

    it('the contact change ends REJECTED SEND_TIMES_EXCEED_LIMIT at CHALLENGING', async function () {
      await withVerificationWorker(await devServer(), sandbox, async ({ control, start }) => {
        const customer = await control.addCustomer();
        const since = Date.now();
        const handle = await start({ customerId: customer.customerId, change: { email: 'new@example.com' } });
        await assertRejected(
          handle,
          control,
          {
            resultCode: 'SEND_TIMES_EXCEED_LIMIT',
            failedStep: 'CHALLENGING',
            api: 'triggerChallenge',
          },
          since,
        );
      });
    });

    it('the payment-method change (confirmWith) ends REJECTED SEND_TIMES_EXCEED_LIMIT at CHALLENGING', async function () {
      await withVerificationWorker(await devServer(), sandbox, async (rig) => {
        const walletUser = await rig.control.addCustomer();
        const since = Date.now();
        const handle = await startPaymentMethodChange(rig, walletUser.customerId);
        await assertRejected(
          handle,
          rig.control,
          {
            resultCode: 'SEND_TIMES_EXCEED_LIMIT',
            failedStep: 'CHALLENGING',
            api: 'triggerChallenge',
          },
          since,
        );
      });
    });
  });
});
