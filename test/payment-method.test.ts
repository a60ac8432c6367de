import assert from 'node:assert/strict';
import { VerificationAlreadyRunningError } from '../client/errors.js';
import { VerificationClient } from '../client/verifications.js';
import { paymentMethodWorkflowId } from '../workflows/ids.js';
import { stateQuery, submitOtpSignal } from '../workflows/messages.js';
import { changeWonderPaymentMethod } from '../workflows/payment-method.js';
import type { PaymentMethodChangeInput } from '../workflows/types.js';
import { waitForStep, withVerificationWorker, verificationStack } from './helpers/verification-env.js';

const cardCustomer = 'c2a4e0f1-7b3d-4c8e-9f10-2a3b4c5d6e01';
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
      const verifications = new VerificationClient(stack.env.client, taskQueue);
      const input: PaymentMethodChangeInput = {
        wonderCustomerUuid: cardCustomer,
        update: { default_payment_method: null },
        confirmWith: { customerId: walletUser.customerId },
      };
      const started = await verifications.startPaymentMethodChange(input);
      assert.equal(started.verificationId, paymentMethodWorkflowId(cardCustomer));
      await assert.rejects(verifications.startPaymentMethodChange(input), VerificationAlreadyRunningError);
      const handle = verifications.paymentMethodChange(cardCustomer);
      await waitForStep(handle, 'AWAITING_INPUT');
      assert.equal(
        stack.sandbox.wonder.ledger(cardCustomer).length,
        before,
        'nothing changes before the code',
      );
      await handle.signal(submitOtpSignal, { code: await control.latestOtp(walletUser.customerId) });
      const outcome = await verifications.paymentMethodChangeResult(cardCustomer);
      assert.equal(outcome.status, 'UPDATED');
      assert.deepEqual(outcome.status === 'UPDATED' && outcome.cleared, ['default_payment_method']);
      assert.equal(stack.sandbox.wonder.customer(cardCustomer)?.default_payment_method, undefined);
      assert.equal((await handle.query(stateQuery)).wonderSync, 'SYNCED');
      assert.equal((await control.ledger(walletUser.customerId)).count, 0, 'no DWS modification was made');
    });
  });

  it('refuses an unknown payment method before any call to Wonder', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ taskQueue }) => {
      const before = stack.sandbox.wonder.requests().length;
      const handle = await start(taskQueue, {
        wonderCustomerUuid: cardCustomer,
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
