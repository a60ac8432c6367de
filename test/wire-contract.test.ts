/**
 * The wire contract has one definition (workflows/wire-schemas.ts); the types derive from it. What the
 * compiler cannot see is whether the workflow's real answers fit it: a field added to the state or an
 * outcome without the schema would be dropped by the HTTP service or refused by a strict consumer. So
 * real flows run here and every answer is checked against its schema, closed to unknown fields.
 */
import assert from 'node:assert/strict';
import { Ajv, type AnySchema } from 'ajv';
import addFormats from 'ajv-formats';
import { buildHttpApp } from '../http/app.js';
import { PaymentMethodClient, VerificationClient } from '@dws-verify/client';
import {
  cancelSignal,
  challengeSentUpdate,
  requestResendUpdate,
  stateQuery,
  verifyOtpUpdate,
} from '../workflows/messages.js';
import * as wire from '../workflows/wire-schemas.js';
import { waitForStep, withVerificationWorker, verificationStack } from './helpers/verification-env.js';

const ajv = new Ajv({ strict: true, allErrors: true });
addFormats.default(ajv);

function conforms(schema: AnySchema, value: unknown, what: string): void {
  const validate = ajv.compile(schema);
  assert.ok(validate(value), `${what} does not fit its schema: ${ajv.errorsText(validate.errors)}`);
}

describe('the wire contract', function () {
  it('compiles every schema under strict Ajv (no unknown keywords, no loose unions)', function () {
    const schemas = Object.entries(wire).filter(
      ([, value]) => typeof value === 'object' && !Array.isArray(value),
    );
    assert.ok(schemas.length > 10);
    for (const [name, schema] of schemas) assert.doesNotThrow(() => ajv.compile(schema as AnySchema), name);
  });

  it('refuses an outcome or verdict the contract does not define', function () {
    const validate = ajv.compile(wire.verificationOutcomeSchema);
    assert.equal(validate({ status: 'MODIFIED', customerId: 'c', timeline: [], wonderSync: 'SYNCED' }), true);
    assert.equal(validate({ status: 'DONE', customerId: 'c', timeline: [] }), false);
    assert.equal(validate({ status: 'EXPIRED', customerId: 'c', timeline: [], extra: 1 }), false);
    assert.equal(ajv.validate(wire.verdictSchema, { verdict: 'INCORRECT' }), false, 'attemptsLeft required');
  });

  describe('against the workflow on the dev server', function () {
    const stack = verificationStack();

    it('every state, verdict, resend answer and outcome of real flows fits its schema', async function () {
      await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start, taskQueue }) => {
        const customer = await control.addCustomer();
        const handle = await start({
          customerId: customer.customerId,
          change: { email: 'wire@example.com' },
        });
        conforms(
          wire.challengeAnswerSchema,
          await handle.executeUpdate(challengeSentUpdate),
          "the start's answer (a challenge)",
        );
        conforms(wire.stateSchema, await waitForStep(handle, 'AWAITING_INPUT'), 'the waiting state');
        conforms(
          wire.resendAnswerSchema,
          await handle.executeUpdate(requestResendUpdate),
          'a refused resend',
        );
        const wrong = await handle.executeUpdate(verifyOtpUpdate, { args: [{ code: '000000' }] });
        conforms(wire.verdictSchema, wrong, 'an INCORRECT verdict');
        const right = await handle.executeUpdate(verifyOtpUpdate, {
          args: [{ code: await control.latestOtp(customer.customerId) }],
        });
        conforms(wire.verdictSchema, right, 'an ACCEPTED verdict');
        conforms(wire.verificationOutcomeSchema, await handle.result(), 'a MODIFIED outcome');
        conforms(wire.stateSchema, await handle.query(stateQuery), 'the final state');

        const other = await control.addCustomer();
        const cancelled = await start({ customerId: other.customerId, change: { email: 'x@example.com' } });
        await waitForStep(cancelled, 'AWAITING_INPUT');
        await cancelled.signal(cancelSignal, { reason: 'user left' });
        conforms(wire.verificationOutcomeSchema, await cancelled.result(), 'a CANCELLED outcome');

        // Through update-with-start, so the answer cannot miss a flow that ends at its consult.
        const { verificationId, runId, attached, ...refused } = await new VerificationClient(
          stack.env.client,
          taskQueue,
        ).start({ customerId: `unknown${Date.now()}`, change: { email: 'y@example.com' } });
        assert.ok(verificationId && runId && !attached);
        conforms(wire.challengeAnswerSchema, refused, "the start's answer (a REJECTED outcome)");
      });
    });

    it('a payment-method change outcome fits its schema', async function () {
      await withVerificationWorker(stack.env, stack.sandbox, async ({ taskQueue }) => {
        const paymentMethods = new PaymentMethodClient(stack.env.client, taskQueue);
        const uuid = 'c2a4e0f1-7b3d-4c8e-9f10-2a3b4c5d6e01';
        await paymentMethods.start({
          wonderCustomerUuid: uuid,
          wonderReferenceNumber: 'MERCHANT-CUST-0001',
          update: { default_payment_method: 'Alipay' },
        });
        conforms(
          wire.paymentMethodChangeOutcomeSchema,
          await paymentMethods.result(uuid),
          'an UPDATED outcome',
        );
      });
    });

    it('publishes the same definitions in the OpenAPI document', async function () {
      const app = await buildHttpApp({
        verifications: new VerificationClient(stack.env.client, 'unused'),
        authTokens: ['wire-contract-token'],
      });
      try {
        const document = (await app.inject({ url: '/openapi.json' })).json();
        const state =
          document.paths['/verifications/{id}'].get.responses['200'].content['application/json'].schema;
        assert.deepEqual(state.properties.outcome.enum, wire.outcomeStatusSchema.enum);
        assert.ok(state.properties.outcome.enum.includes('UPDATED'));
      } finally {
        await app.close();
      }
    });
  });
});
