/**
 * Named callers own what they start, on a real dev server with the real workflow: every route (and every
 * client-library call) answers another caller's verification exactly as one that does not exist; a
 * caller's second token reaches its verifications; an operator reads and cancels any, and answers none;
 * a verification started with no caller recorded belongs to the caller "default".
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import {
  PaymentMethodClient,
  VerificationAlreadyRunningError,
  VerificationClient,
  VerificationNotFoundError,
} from '@dws-verify/client';
import { buildHttpApp } from '../http/app.js';
import { paymentMethodWorkflowId, verificationWorkflowId } from '../workflows/ids.js';
import type { VerificationState } from '../workflows/types.js';
import { uniqueName } from './helpers/temporal.js';
import {
  verificationStack,
  waitForStep,
  withVerificationWorker,
  type VerificationRig,
} from './helpers/verification-env.js';

const token = () => `callers-${randomBytes(12).toString('hex')}`;
const tokens = { appA: token(), appB: token(), support: token(), operator: token(), legacy: token() };

type Who = keyof typeof tokens;

describe('named callers: each sees only its own verifications', function () {
  this.timeout(120_000);
  const stack = verificationStack();

  async function withApp<T>(rig: VerificationRig, fn: (app: FastifyInstance) => Promise<T>): Promise<T> {
    const app = await buildHttpApp({
      verifications: new VerificationClient(stack.env.client, rig.taskQueue),
      callers: [
        // Two tokens for one caller: a rotation in progress.
        { name: 'app-backend', tokens: [tokens.appA, tokens.appB], operator: false },
        { name: 'support-tool', tokens: [tokens.support], operator: false },
        { name: 'ops-console', tokens: [tokens.operator], operator: true },
      ],
      authTokens: [tokens.legacy],
    });
    try {
      return await fn(app);
    } finally {
      await app.close();
    }
  }

  function call(app: FastifyInstance, who: Who, method: 'GET' | 'POST', url: string, payload?: object) {
    return app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tokens[who]}` },
      ...(payload ? { payload } : {}),
    });
  }

  /** Every route on one verification, as `who`, with a code that would be right. */
  async function everyRoute(app: FastifyInstance, who: Who, customerId: string, code: string) {
    const id = verificationWorkflowId(customerId);
    const input = { customerId, change: { email: 'other@example.com' } };
    return {
      state: await call(app, who, 'GET', `/verifications/${id}`),
      outcome: await call(app, who, 'GET', `/verifications/${id}/outcome?waitSeconds=0`),
      otp: await call(app, who, 'POST', `/verifications/${id}/otp`, { customerId, code }),
      resend: await call(app, who, 'POST', `/verifications/${id}/resend`, { customerId }),
      cancel: await call(app, who, 'POST', `/verifications/${id}/cancel`, { customerId }),
      attach: await call(app, who, 'POST', '/verifications', { ...input, ifRunning: 'attach' }),
    };
  }

  function assertAbsent(answers: Record<string, LightMyRequestResponse>, who: string) {
    for (const [route, answer] of Object.entries(answers)) {
      assert.equal(answer.statusCode, 404, `${who} ${route}: ${answer.body}`);
      assert.deepEqual(
        { ...answer.json<object>(), verificationId: undefined },
        { error: 'NOT_FOUND', message: 'no such verification', verificationId: undefined },
        `${who} ${route}`,
      );
    }
  }

  async function stateOf(app: FastifyInstance, who: Who, customerId: string) {
    const answer = await call(app, who, 'GET', `/verifications/${verificationWorkflowId(customerId)}`);
    assert.equal(answer.statusCode, 200, answer.body);
    return answer.json<VerificationState>();
  }

  it('answers 404 on every route to another caller, as for a verification that does not exist; the owner reaches it with either token', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, (rig) =>
      withApp(rig, async (app) => {
        const customer = await rig.control.addCustomer();
        const { customerId } = customer;
        const requestKey = uniqueName('key');
        const started = await call(app, 'appA', 'POST', '/verifications', {
          customerId,
          change: { email: 'owner@example.com' },
          requestKey,
        });
        assert.equal(started.statusCode, 201, started.body);
        const code = await rig.control.latestOtp(customerId);

        // The same routes on a customer nobody has started for: what "does not exist" looks like.
        const nobody = `nobody${randomBytes(4).toString('hex')}`;
        const { attach: startedInstead, ...missing } = await everyRoute(app, 'support', nobody, '123456');
        assert.equal(startedInstead.statusCode, 201, 'an attach with nothing to join starts');
        assertAbsent(missing, 'nonexistent');

        assertAbsent(await everyRoute(app, 'support', customerId, code), 'support-tool');
        const sameKey = await call(app, 'support', 'POST', '/verifications', {
          customerId,
          change: { email: 'other@example.com' },
          requestKey,
        });
        assertAbsent({ sameKey }, 'support-tool');
        // The customer's one slot is taken: a plain start says so, and nothing more.
        const plain = await call(app, 'support', 'POST', '/verifications', {
          customerId,
          change: { email: 'other@example.com' },
        });
        assert.equal(plain.statusCode, 409, plain.body);
        assert.equal(plain.json<{ error: string }>().error, 'ALREADY_RUNNING');

        // The operator reads it and may cancel it, but neither answers nor joins it.
        assert.equal((await stateOf(app, 'operator', customerId)).step, 'AWAITING_INPUT');
        const id = verificationWorkflowId(customerId);
        const operatorOutcome = await call(
          app,
          'operator',
          'GET',
          `/verifications/${id}/outcome?waitSeconds=0`,
        );
        assert.equal(operatorOutcome.statusCode, 202, operatorOutcome.body);
        assertAbsent(
          {
            otp: await call(app, 'operator', 'POST', `/verifications/${id}/otp`, { customerId, code }),
            resend: await call(app, 'operator', 'POST', `/verifications/${id}/resend`, { customerId }),
            attach: await call(app, 'operator', 'POST', '/verifications', {
              customerId,
              change: { email: 'other@example.com' },
              ifRunning: 'attach',
            }),
          },
          'operator',
        );

        // None of it touched the flow; the owner's other token (a rotation) reaches it.
        const state = await stateOf(app, 'appB', customerId);
        assert.equal(state.attemptsLeft, 5);
        assert.equal(state.resendsLeft, 3);
        assert.equal((await rig.control.outbox({ customerId })).length, 1, 'no code was sent for them');
        const retried = await call(app, 'appB', 'POST', '/verifications', {
          customerId,
          change: { email: 'owner@example.com' },
          requestKey,
        });
        assert.equal(retried.statusCode, 200, retried.body);
        const verdict = await call(app, 'appB', 'POST', `/verifications/${id}/otp`, { customerId, code });
        assert.deepEqual(verdict.json(), { verdict: 'ACCEPTED' });
        const outcome = await call(app, 'appA', 'GET', `/verifications/${id}/outcome`);
        assert.equal(outcome.json<{ status: string }>().status, 'MODIFIED');

        // Finished, it is still not theirs: and its request key does not join them to it.
        assertAbsent(
          { outcome: await call(app, 'support', 'GET', `/verifications/${id}/outcome?waitSeconds=0`) },
          'support-tool after the end',
        );
        const fresh = await call(app, 'support', 'POST', '/verifications', {
          customerId,
          change: { email: 'support@example.com' },
          requestKey,
          answer: 'started',
        });
        assert.equal(fresh.statusCode, 201, 'a new run: the finished one was not theirs to join');
        assertAbsent({ state: await call(app, 'appA', 'GET', `/verifications/${id}`) }, 'the first owner');
        const cancelled = await call(app, 'support', 'POST', `/verifications/${id}/cancel`, { customerId });
        assert.equal(cancelled.statusCode, 202, cancelled.body);
        await waitForStep(stack.env.client.workflow.getHandle(id), 'DONE');
      }),
    );
  });

  it('gives a verification that records no caller (started before callers had names) to the caller "default" and operators', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, (rig) =>
      withApp(rig, async (app) => {
        const { customerId } = await rig.control.addCustomer();
        const handle = await rig.start({ customerId, change: { email: 'legacy@example.com' } });
        await waitForStep(handle, 'AWAITING_INPUT');
        assert.equal((await stateOf(app, 'legacy', customerId)).step, 'AWAITING_INPUT');
        assert.equal((await stateOf(app, 'operator', customerId)).step, 'AWAITING_INPUT');
        assertAbsent(
          { state: await call(app, 'appA', 'GET', `/verifications/${handle.workflowId}`) },
          'app-backend',
        );
        const cancelled = await call(app, 'operator', 'POST', `/verifications/${handle.workflowId}/cancel`, {
          customerId,
          reason: 'support closed it',
        });
        assert.equal(cancelled.statusCode, 202, cancelled.body);
        assert.equal((await waitForStep(handle, 'DONE')).outcome, 'CANCELLED');
      }),
    );
  });

  it('scopes the client library the same way: a caller option sees only its own verifications and payment-method changes', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async (rig) => {
      const mine = new VerificationClient(stack.env.client, rig.taskQueue, { caller: 'app-backend' });
      const theirs = new VerificationClient(stack.env.client, rig.taskQueue, { caller: 'support-tool' });
      const operator = new VerificationClient(stack.env.client, rig.taskQueue, {
        caller: { name: 'ops-console', operator: true },
      });
      const { customerId } = await rig.control.addCustomer();
      const requestKey = uniqueName('lib');
      const input = { customerId, change: { email: 'lib.owner@example.com' }, requestKey };
      await mine.start(input);
      const code = await rig.control.latestOtp(customerId);

      const refused: Array<[string, () => Promise<unknown>]> = [
        ['state', () => theirs.state(customerId)],
        ['outcome', () => theirs.outcome(customerId, 0)],
        ['result', () => theirs.result(customerId)],
        ['verifyOtp', () => theirs.verifyOtp(customerId, code)],
        ['submitOtp', () => theirs.submitOtp(customerId, code)],
        ['resend', () => theirs.resend(customerId)],
        ['cancel', () => theirs.cancel(customerId)],
        ['attach', () => theirs.start({ ...input, requestKey: undefined }, { ifRunning: 'attach' })],
        ['same request key', () => theirs.start(input)],
        ['operator verifyOtp', () => operator.verifyOtp(customerId, code)],
        ['operator resend', () => operator.resend(customerId)],
      ];
      for (const [name, call] of refused) await assert.rejects(call(), VerificationNotFoundError, name);
      await assert.rejects(
        theirs.start({ ...input, requestKey: undefined }),
        VerificationAlreadyRunningError,
      );
      assert.equal((await operator.state(customerId)).attemptsLeft, 5);
      assert.deepEqual(await mine.verifyOtp(customerId, code), { verdict: 'ACCEPTED' });
      assert.equal((await mine.result(customerId)).status, 'MODIFIED');

      // The payment-method client records and checks its caller the same way (no worker needed to tell).
      const payments = (caller: string) =>
        new PaymentMethodClient(stack.env.client, uniqueName('no-worker'), { caller });
      const wonderCustomerUuid = randomBytes(16).toString('hex');
      await payments('app-backend').start({
        wonderCustomerUuid,
        wonderReferenceNumber: 'MERCHANT-CUST-0001',
        update: { default_payment_method: 'Credit Card' },
      });
      await assert.rejects(
        payments('support-tool').state(wonderCustomerUuid, 2000),
        VerificationNotFoundError,
      );
      await assert.rejects(payments('support-tool').cancel(wonderCustomerUuid), VerificationNotFoundError);
      await payments('app-backend').cancel(wonderCustomerUuid);
      await stack.env.client.workflow.getHandle(paymentMethodWorkflowId(wonderCustomerUuid)).terminate();
    });
  });
});
