/**
 * "Policy is the operator's" and "the workflow trusts its input" (issue 22), on the dev server with the
 * sandbox: a direct start (plain `client.workflow.start`, no client library, no HTTP) with a loosened
 * policy runs within the hard bounds; a malformed one ends REJECTED INVALID_INPUT before any provider call;
 * over HTTP a looser policy is refused naming the field and the operator's policy applies when none is
 * passed; with a real key the worker refuses a plaintext start, which then sends nothing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { AesGcmPayloadCodec } from '../codec/aes-gcm-codec.js';
import { createDataConverter, workerDataConverter } from '../codec/data-converter.js';
import { KeyRing } from '../codec/keyring.js';
import { VerificationClient } from '@dws-verify/client';
import { buildHttpApp } from '../http/app.js';
import { verificationWorkflowId, paymentMethodWorkflowId } from '../workflows/ids.js';
import { policyBounds } from '../workflows/input-contract.js';
import { requestResendUpdate } from '../workflows/messages.js';
import { changeWonderPaymentMethod } from '../workflows/payment-method.js';
import { defaultPolicy, type VerificationInput } from '../workflows/types.js';
import { verifyContactChange } from '../workflows/verification.js';
import { createActivities } from '../worker/run.js';
import { sandboxDwsConfig } from '../activities/dws/config.js';
import { sandboxWonderConfig } from '../activities/wonder/config.js';
import { SandboxControlClient } from '../sandbox/control-client.js';
import { uniqueName, workflowBundle } from './helpers/temporal.js';
import {
  verificationStack,
  verificationWorkflows,
  waitForStep,
  withVerificationWorker,
} from './helpers/verification-env.js';

const loosened = {
  otpValiditySeconds: 3600,
  maxVerifyAttempts: 1_000_000,
  maxResends: 10,
  resendCooldownSeconds: 0,
  maxChallengeRounds: 9,
};
const token = `policy-${randomBytes(12).toString('hex')}`;

describe('policy bounds and the checked input', function () {
  this.timeout(120_000);
  const stack = verificationStack();

  it('holds a direct start with a loosened policy to the hard bounds: attempts, resends, cooldown and expiry', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      const handle = await start({
        customerId: customer.customerId,
        change: { email: 'loose@example.com' },
        policy: loosened,
      } as VerificationInput);
      const state = await waitForStep(handle, 'AWAITING_INPUT');
      assert.equal(state.attemptsLeft, policyBounds.maxVerifyAttempts.maximum);
      assert.equal(state.resendsLeft, policyBounds.maxResends.maximum);
      const [sent] = await control.outbox({ customerId: customer.customerId });
      const sentAt = sent!.issuedAt;
      const validity = (Date.parse(state.expiresAt!) - sentAt) / 1000;
      assert.ok(validity <= policyBounds.otpValiditySeconds.maximum + 5, `valid for ${validity} s`);
      const cooldown = (Date.parse(state.resendAvailableAt!) - sentAt) / 1000;
      assert.ok(cooldown >= policyBounds.resendCooldownSeconds.minimum - 5, `cooldown ${cooldown} s`);
      assert.ok(state.timeline.some((entry) => entry.event.startsWith('policy held to the bounds')));

      const resend = await handle.executeUpdate(requestResendUpdate);
      assert.deepEqual([resend.honoured, !resend.honoured && resend.reason], [false, 'COOLDOWN']);
      assert.equal((await control.outbox({ customerId: customer.customerId })).length, 1, 'one code only');
      await handle.cancel();
    });
  });

  it('ends a malformed direct start REJECTED INVALID_INPUT naming the field, before any provider call', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, taskQueue }) => {
      const customer = await control.addCustomer();
      const callsBefore = (await control.requests()).length;
      const outcome = await stack.env.client.workflow.execute(verifyContactChange, {
        taskQueue,
        workflowId: verificationWorkflowId(customer.customerId),
        args: [{ customerId: customer.customerId, change: { email: 'new@example.com', fax: '1' } } as never],
      });
      assert.equal(outcome.status, 'REJECTED');
      assert.deepEqual(
        outcome.status === 'REJECTED' && [outcome.resultCode, outcome.field, outcome.failedStep],
        ['INVALID_INPUT', 'change.fax', 'CONSULTING'],
      );
      assert.equal((await control.requests()).length, callsBefore);
      assert.deepEqual(await control.outbox({ customerId: customer.customerId }), []);

      // Not even an object: the same outcome, not a workflow task failing for ever.
      const nothing = await stack.env.client.workflow.execute(verifyContactChange, {
        taskQueue,
        workflowId: uniqueName('not-an-object'),
        args: ['a string' as never],
      });
      assert.deepEqual(nothing.status === 'REJECTED' && [nothing.resultCode, nothing.field], [
        'INVALID_INPUT',
        '(body)',
      ]);
    });
  });

  it('holds a direct payment-method start to the bounds too, and refuses its malformed input', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, taskQueue }) => {
      const customer = await control.addCustomer();
      const handle = await stack.env.client.workflow.start(changeWonderPaymentMethod, {
        taskQueue,
        workflowId: paymentMethodWorkflowId(uniqueName('pm')),
        args: [
          {
            wonderCustomerUuid: 'c2a4e0f1-7b3d-4c8e-9f10-2a3b4c5d6e01',
            wonderReferenceNumber: 'MERCHANT-CUST-0001',
            update: { default_payment_method: null },
            confirmWith: { customerId: customer.customerId },
            policy: loosened,
          },
        ],
      });
      const state = await waitForStep(handle, 'AWAITING_INPUT');
      assert.deepEqual(
        [state.attemptsLeft, state.resendsLeft],
        [policyBounds.maxVerifyAttempts.maximum, policyBounds.maxResends.maximum],
      );
      await handle.cancel();

      const refused = await stack.env.client.workflow.execute(changeWonderPaymentMethod, {
        taskQueue,
        workflowId: paymentMethodWorkflowId(uniqueName('pm')),
        args: [
          {
            wonderCustomerUuid: 'c2a4e0f1-7b3d-4c8e-9f10-2a3b4c5d6e01',
            wonderReferenceNumber: 'MERCHANT-CUST-0001',
            update: { default_payment_method: null },
            confirmWith: { customerId: 'not a customer id!' },
          },
        ],
      });
      assert.deepEqual(refused.status === 'REJECTED' && [refused.resultCode, refused.field], [
        'INVALID_INPUT',
        'confirmWith.customerId',
      ]);
    });
  });

  it("over HTTP refuses a policy looser than the operator's naming the field, and applies the operator's when none is passed", async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, taskQueue }) => {
      const operator = { ...defaultPolicy, maxResends: 1, otpValiditySeconds: 120 };
      const verifications = new VerificationClient(stack.env.client, taskQueue, { policy: operator });
      const app = await buildHttpApp({ verifications, authTokens: [token] });
      const post = (payload: object) =>
        app.inject({
          method: 'POST',
          url: '/verifications',
          headers: { authorization: `Bearer ${token}` },
          payload,
        });
      try {
        const customer = await control.addCustomer();
        const body = { customerId: customer.customerId, change: { email: 'http@example.com' } };
        const cases: [object, string][] = [
          [{ maxResends: 2 }, 'policy.maxResends'],
          [{ resendCooldownSeconds: 29 }, 'policy.resendCooldownSeconds'],
          [{ otpValiditySeconds: 3600 }, 'policy.otpValiditySeconds'],
          [{ otpValiditySeconds: 300 }, 'policy.otpValiditySeconds'],
        ];
        for (const [policy, field] of cases) {
          const answer = await post({ ...body, policy });
          assert.equal(answer.statusCode, 400, answer.body);
          assert.deepEqual(
            [answer.json<{ error: string }>().error, answer.json<{ field: string }>().field],
            ['BAD_REQUEST', field],
          );
        }
        assert.deepEqual(await control.outbox({ customerId: customer.customerId }), []);

        const started = await post(body);
        assert.equal(started.statusCode, 201, started.body);
        const answer = started.json<{ resendsLeft: number; expiresAt: string }>();
        assert.equal(answer.resendsLeft, 1);
        const [sent] = await control.outbox({ customerId: customer.customerId });
        assert.ok(Date.parse(answer.expiresAt) - sent!.issuedAt <= 125_000);
        await verifications.cancel(customer.customerId);

        const tighter = await control.addCustomer();
        const tightened = await post({
          customerId: tighter.customerId,
          change: { email: 'tight@example.com' },
          policy: { maxResends: 0, maxVerifyAttempts: 2 },
        });
        assert.equal(tightened.statusCode, 201, tightened.body);
        assert.deepEqual(
          [
            tightened.json<{ resendsLeft: number }>().resendsLeft,
            tightened.json<{ attemptsLeft: number }>().attemptsLeft,
          ],
          [0, 2],
        );
        await verifications.cancel(tighter.customerId);
      } finally {
        await app.close();
      }
    });
  });

  it('with a real key, the worker refuses a plaintext start (no provider call, no code sent) and runs an encrypted one', async function () {
    const keyRing = new KeyRing([{ id: 'real-1', key: randomBytes(32) }]);
    const taskQueue = uniqueName('plaintext');
    const worker = await Worker.create({
      connection: stack.env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(verificationWorkflows),
      activities: createActivities({
        dws: sandboxDwsConfig(stack.sandbox.url),
        wonder: sandboxWonderConfig(stack.sandbox.url),
      }),
      dataConverter: workerDataConverter(keyRing),
    });
    const control = new SandboxControlClient(stack.sandbox.url);
    const encrypted = new Client({
      connection: stack.env.connection,
      dataConverter: createDataConverter(keyRing),
    });
    await worker.runUntil(async () => {
      const attacker = await control.addCustomer();
      const callsBefore = (await control.requests()).length;
      const plain = await stack.env.client.workflow.start(verifyContactChange, {
        taskQueue,
        workflowId: verificationWorkflowId(attacker.customerId),
        args: [{ customerId: attacker.customerId, change: { email: 'attacker@example.com' } }],
      });
      const failedTask = await waitForTaskFailure(plain.workflowId);
      // The reason is in history encrypted like every failure: an operator reads it through the codec.
      const encoded = failedTask.workflowTaskFailedEventAttributes?.failure?.encodedAttributes;
      const [reason] = await new AesGcmPayloadCodec(keyRing).decode([encoded!]);
      assert.match(Buffer.from(reason!.data!).toString('utf8'), /unencrypted/);

      const user = await control.addCustomer();
      const verifications = new VerificationClient(encrypted, taskQueue);
      const started = await verifications.start({
        customerId: user.customerId,
        change: { email: 'user@example.com' },
      });
      assert.equal('challengeType' in started && started.challengeType, 'sms');
      assert.equal((await verifications.state(user.customerId)).step, 'AWAITING_INPUT');
      await verifications.cancel(user.customerId);
      await verifications.result(user.customerId);

      // Checked after the encrypted flow got its code: the plaintext one had all that time and sent nothing.
      assert.deepEqual(await control.outbox({ customerId: attacker.customerId }), []);
      const calls = (await control.requests()).slice(callsBefore).map((call) => call.api);
      assert.deepEqual(
        calls,
        ['modifyCustomer', 'triggerChallenge'],
        "the encrypted flow's consult and trigger only",
      );
      assert.equal((await plain.describe()).status.name, 'RUNNING');
      await plain.terminate('test: a plaintext start');
    });

    async function waitForTaskFailure(workflowId: string) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const history = await stack.env.client.workflow.getHandle(workflowId).fetchHistory();
        const event = history.events?.find(
          (e) => e.eventType === proto.temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        );
        if (event) return event;
        if (Date.now() > deadline) throw new Error(`no failed workflow task in ${workflowId}'s history`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  });
});
