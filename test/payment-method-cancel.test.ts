import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { paymentMethodWorkflowId } from '../workflows/ids.js';
import { cancelSignal, stateQuery } from '../workflows/messages.js';
import { changeWonderPaymentMethod } from '../workflows/payment-method.js';
import { verificationOutcomeKey, verificationStepKey } from '../workflows/search-attributes.js';
import { waitForStep, withVerificationWorker, verificationStack } from './helpers/verification-env.js';

/** sandbox/wonder/README.md: a seeded customer and one of its tokens */
const cardCustomer = 'c2a4e0f1-7b3d-4c8e-9f10-2a3b4c5d6e01';
const cardCustomerReference = 'MERCHANT-CUST-0001';
const alipayToken = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c22';

const cancels = [
  [
    'an operator (Temporal cancellation)',
    (h: WorkflowHandle) => h.cancel(),
    'workflow cancelled by an operator',
  ],
  [
    'the app (the cancel signal)',
    (h: WorkflowHandle) => h.signal(cancelSignal, { reason: 'user closed the app' }),
    'user closed the app',
  ],
] as const;

describe('cancelling a Wonder payment-method change', function () {
  const stack = verificationStack();

  for (const [by, cancel, reason] of cancels) {
    it(`ends DONE and CANCELLED, with its outcome searchable, when cancelled by ${by}`, async function () {
      await withVerificationWorker(stack.env, stack.sandbox, async ({ control, taskQueue }) => {
        const walletUser = await control.addCustomer();
        const before = stack.sandbox.wonder.ledger(cardCustomer).length;
        const handle = await stack.env.client.workflow.start(changeWonderPaymentMethod, {
          args: [
            {
              wonderCustomerUuid: cardCustomer,
              wonderReferenceNumber: cardCustomerReference,
              update: { default_payment_method: 'Alipay', default_payment_token: alipayToken },
              confirmWith: { customerId: walletUser.customerId },
            },
          ],
          taskQueue,
          workflowId: paymentMethodWorkflowId(cardCustomer),
        });
        await waitForStep(handle, 'AWAITING_INPUT');
        await cancel(handle);

        const outcome = await handle.result();
        assert.equal(outcome.status, 'CANCELLED');
        assert.equal(outcome.status === 'CANCELLED' && outcome.reason, reason);
        assert.equal(outcome.wonderCustomerUuid, cardCustomer);
        const state = await handle.query(stateQuery);
        assert.equal(state.step, 'DONE');
        assert.equal(state.outcome, 'CANCELLED');
        assert.equal(state.customerId, walletUser.customerId);
        assert.equal(state.wonderCustomerUuid, cardCustomer);
        const { status, typedSearchAttributes } = await handle.describe();
        assert.equal(status.name, 'COMPLETED');
        assert.equal(typedSearchAttributes.get(verificationOutcomeKey), 'CANCELLED');
        assert.equal(typedSearchAttributes.get(verificationStepKey), 'DONE');
        assert.equal(stack.sandbox.wonder.ledger(cardCustomer).length, before, 'Wonder is not changed');
      });
    });
  }
});
