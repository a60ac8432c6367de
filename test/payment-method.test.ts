import assert from 'node:assert/strict';
import { PaymentMethodClient, VerificationAlreadyRunningError } from '@dws-verify/client';
import { paymentMethodWorkflowId } from '../workflows/ids.js';
import { stateQuery, submitOtpSignal } from '../workflows/messages.js';
import { changeWonderPaymentMethod } from '../workflows/payment-method.js';
import type { PaymentMethodChangeInput } from '../workflows/types.js';
import { waitForStep, withVerificationWorker, verificationStack } from './helpers/verification-env.js';

const cardCustomer = 'c2a4e0f1-7b3d-4c8e-9f10-2a3b4c5d6e01';
const cardCustomerReference = 'MERCHANT-CUST-0001';
const otherCustomer = 'e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a02';
const alipayToken = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c22';

describe('changing a Wonder default payment method', function () {
  const stack = verificationStack();

  const start = (taskQueue: string, input: PaymentMethodChangeInput) =>
    stack.env.client.workflow.start(changeWonderPaymentMethod, {
      args: [input],
      taskQueue,
      workflowId: paymentMethodWorkflowId(input.wonderCustomerUuid),
    });

  it('switches method and token without confirmation', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ taskQueue }) => {
      const handle = await start(taskQueue, {
        wonderCustomerUuid: cardCustomer,
        wonderReferenceNumber: cardCustomerReference,
        update: { default_payment_method: 'Alipay', default_payment_token: alipayToken },
      });
      const outcome = await handle.result();
      assert.equal(outcome.status, 'UPDATED');
      assert.deepEqual(outcome.status === 'UPDATED' && outcome.changed.sort(), [
        'default_payment_method',
        'default_payment_token',
      ]);
      assert.equal(stack.sandbox.wonder.customer(cardCustomer)?.default_payment_method, 'Alipay');
    });
  });

  it('waits for the wallet user to confirm by SMS code when asked, then clears the method (client library)', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, taskQueue }) => {
      const walletUser = await control.addCustomer();
      const before = stack.sandbox.wonder.ledger(cardCustomer).length;
      const paymentMethods = new PaymentMethodClient(stack.env.client, taskQueue);
      const input: PaymentMethodChangeInput = {
        wonderCustomerUuid: cardCustomer,
        wonderReferenceNumber: cardCustomerReference,
        update: { default_payment_method: null },
        confirmWith: { customerId: walletUser.customerId },
      };
      const started = await paymentMethods.start(input);
      assert.equal(started.verificationId, paymentMethodWorkflowId(cardCustomer));
      await assert.rejects(paymentMethods.start(input), VerificationAlreadyRunningError);
      await waitForStep(stack.env.client.workflow.getHandle(started.verificationId), 'AWAITING_INPUT');
      assert.equal(
        stack.sandbox.wonder.ledger(cardCustomer).length,
        before,
        'nothing changes before the code',
      );
      const code = await control.latestOtp(walletUser.customerId);
      assert.deepEqual(await paymentMethods.verifyOtp(cardCustomer, code), { verdict: 'ACCEPTED' });
      const outcome = await paymentMethods.result(cardCustomer);
      assert.equal(outcome.status, 'UPDATED');
      assert.deepEqual(outcome.status === 'UPDATED' && outcome.cleared, ['default_payment_method']);
      assert.equal(stack.sandbox.wonder.customer(cardCustomer)?.default_payment_method, undefined);
      assert.equal((await paymentMethods.state(cardCustomer)).wonderSync, 'SYNCED');
      assert.equal((await control.ledger(walletUser.customerId)).count, 0, 'no DWS modification was made');
    });
  });

  it("refuses a record that does not carry the confirming customer's reference: REJECTED, nothing written", async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, taskQueue }) => {
      const walletUser = await control.addCustomer();
      // The backend keeps Chan's reference for this wallet user but names Wong's uuid.
      const before = stack.sandbox.wonder.customer(otherCustomer);
      const handle = await start(taskQueue, {
        wonderCustomerUuid: otherCustomer,
        wonderReferenceNumber: cardCustomerReference,
        update: { default_payment_method: 'FPS' },
        confirmWith: { customerId: walletUser.customerId },
      });
      await waitForStep(handle, 'AWAITING_INPUT');
      await handle.signal(submitOtpSignal, { code: await control.latestOtp(walletUser.customerId) });
      const outcome = await handle.result();
      assert.equal(outcome.status, 'REJECTED');
      assert.equal(outcome.status === 'REJECTED' && outcome.resultCode, 'WONDER_CUSTOMER_MISMATCH');
      assert.equal(outcome.status === 'REJECTED' && outcome.failedStep, 'SYNCING_WONDER');
      assert.doesNotMatch(
        outcome.status === 'REJECTED' ? outcome.resultMessage : '',
        new RegExp(cardCustomer),
        'the message never names the record that does carry the reference',
      );
      assert.equal((await handle.query(stateQuery)).wonderSync, 'FAILED');
      assert.deepEqual(stack.sandbox.wonder.customer(otherCustomer), before);
      assert.deepEqual(stack.sandbox.wonder.ledger(otherCustomer), []);
      assert.equal(
        stack.sandbox.wonder
          .requests()
          .filter((r) => r.api === 'putCustomer' && r.path.includes(otherCustomer)).length,
        0,
        'no PUT was sent',
      );
    });
  });

  it('refuses an unknown payment method before any call to Wonder', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ taskQueue }) => {
      const before = stack.sandbox.wonder.requests().length;
      const handle = await start(taskQueue, {
        wonderCustomerUuid: cardCustomer,
        wonderReferenceNumber: cardCustomerReference,
        update: { default_payment_method: 'Bitcoin' as never },
      });
      const outcome = await handle.result();
      assert.equal(outcome.status, 'REJECTED');
      assert.equal(outcome.status === 'REJECTED' && outcome.resultCode, 'WONDER_INVALID_INPUT');
      assert.match(outcome.status === 'REJECTED' ? outcome.resultMessage : '', /default_payment_method/);
      assert.equal(stack.sandbox.wonder.requests().length, before);
    });
  });
});
