import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import {
  InvalidVerificationInputError,
  PaymentMethodClient,
  VerificationClient,
  VerificationFinishedError,
  VerificationNotFoundError,
} from '@dws-verify/client';
import { buildHttpApp, type HttpAppOptions } from '../http/app.js';
import { MemoryLimitsStore } from '../limits/memory-store.js';
import { SendBudget } from '../limits/send-budget.js';
import { verificationWorkflowId } from '../workflows/ids.js';
import { uniqueName } from './helpers/temporal.js';
import { waitForStep, withVerificationWorker, verificationStack } from './helpers/verification-env.js';

const token = `failures-${randomBytes(12).toString('hex')}`;
const auth = { authorization: `Bearer ${token}` };
const plenty = { max: 1000, windowSeconds: 600 };

describe('typed failures: every Temporal error a caller can meet is a documented answer', function () {
  const stack = verificationStack();

  async function withApp<T>(
    verifications: VerificationClient,
    fn: (app: FastifyInstance) => Promise<T>,
    options: Pick<HttpAppOptions, 'rateLimits'> = {},
  ) {
    const app = await buildHttpApp({ verifications, authTokens: [token], ...options });
    try {
      return await fn(app);
    } finally {
      await app.close();
    }
  }

  function post(app: FastifyInstance, url: string, payload: object) {
    return app.inject({ method: 'POST', url, headers: auth, payload });
  }

  function get(app: FastifyInstance, url: string) {
    return app.inject({ method: 'GET', url, headers: auth });
  }

  /** The error a call was refused with, for assertions that name the class and its fields at once. */
  async function refusal(call: Promise<unknown>): Promise<Error> {
    try {
      await call;
    } catch (err) {
      return err as Error;
    }
    throw new Error('the call was answered, not refused');
  }

  function finished(status: string) {
    return (err: unknown) => err instanceof VerificationFinishedError && err.status === status;
  }

  it('answers starts racing cancels on one customer 201 or 409 ALREADY_RUNNING, never 5xx', async function () {
    this.timeout(180_000);
    await withVerificationWorker(
      stack.env,
      stack.sandbox,
      async ({ control, taskQueue }) => {
        const customer = await control.addCustomer();
        const verificationId = verificationWorkflowId(customer.customerId);
        const answers: string[] = [];
        await withApp(
          new VerificationClient(stack.env.client, taskQueue),
          async (app) => {
            for (let loop = 0; loop < 30; loop++) {
              const start = await post(app, '/verifications', {
                customerId: customer.customerId,
                change: { email: `race${loop}@example.com` },
              });
              const cancel = await post(app, `/verifications/${verificationId}/cancel`, {
                customerId: customer.customerId,
              });
              answers.push(
                `start ${start.statusCode} ${start.json<{ error?: string }>().error ?? ''}`.trim(),
              );
              answers.push(
                `cancel ${cancel.statusCode} ${cancel.json<{ error?: string }>().error ?? ''}`.trim(),
              );
            }
            // The races are the point here; the start and cancel limits (which stop such a loop) have their own tests.
          },
          { rateLimits: { startPerCustomer: plenty, cancelPerCustomer: plenty } },
        );
        const undocumented = answers.filter(
          (answer) =>
            ![
              'start 201',
              'start 409 ALREADY_RUNNING',
              'cancel 202',
              'cancel 409 VERIFICATION_FINISHED',
            ].includes(answer),
        );
        assert.deepEqual(undocumented, [], answers.join('\n'));
        // A start while the cancelled run is still closing is refused 409; once it has closed, starts again.
        assert.ok(answers.filter((answer) => answer === 'start 201').length >= 5, answers.join('\n'));
      },
      // The race needs many starts that send; the budget that stops this loop is test/send-budget.test.ts's.
      { sendBudget: new SendBudget(new MemoryLimitsStore(), [{ limit: 100, windowSeconds: 600 }]) },
    );
  });

  it('refuses a code the open challenge cannot take (CODE_FORMAT) naming the field, at no attempt, 409 over HTTP', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, taskQueue }) => {
      const verifications = new VerificationClient(stack.env.client, taskQueue);
      const customer = await control.addCustomer();
      const { verificationId } = await verifications.start({
        customerId: customer.customerId,
        change: { email: 'format@example.com' },
      });
      // The HTTP schema lets an encrypted PIN through; an SMS challenge's validator refuses it.
      const refused = await refusal(verifications.verifyOtp(customer.customerId, 'abcdef'));
      assert.ok(refused instanceof InvalidVerificationInputError, String(refused));
      assert.equal(refused.field, 'code');
      assert.match(refused.message, /digits/);
      await withApp(verifications, async (app) => {
        const answer = await post(app, `/verifications/${verificationId}/otp`, {
          customerId: customer.customerId,
          code: 'abcdef',
        });
        // The document accepts the code's form; only this verification's challenge refuses it.
        assert.equal(answer.statusCode, 409, answer.body);
        assert.deepEqual(
          { error: answer.json<{ error: string }>().error, field: answer.json<{ field: string }>().field },
          { error: 'CODE_FORMAT', field: 'code' },
        );
      });
      assert.equal((await verifications.state(customer.customerId)).attemptsLeft, 5, 'no attempt was spent');
      await verifications.cancel(customer.customerId);
    });
  });

  it('answers a code and a resend to a finished verification VERIFICATION_FINISHED, 409 over HTTP', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, taskQueue }) => {
      const verifications = new VerificationClient(stack.env.client, taskQueue);
      const customer = await control.addCustomer();
      const { verificationId } = await verifications.start({
        customerId: customer.customerId,
        change: { email: 'over@example.com' },
      });
      await verifications.cancel(customer.customerId, 'test');
      assert.equal((await verifications.result(customer.customerId)).status, 'CANCELLED');
      await assert.rejects(verifications.verifyOtp(customer.customerId, '123456'), finished('COMPLETED'));
      await assert.rejects(verifications.resend(customer.customerId), finished('COMPLETED'));
      await assert.rejects(verifications.submitOtp(customer.customerId, '123456'), finished('COMPLETED'));
      await withApp(verifications, async (app) => {
        for (const [route, body] of [
          ['otp', { customerId: customer.customerId, code: '123456' }],
          ['resend', { customerId: customer.customerId }],
          ['cancel', { customerId: customer.customerId }],
        ] as const) {
          const answer = await post(app, `/verifications/${verificationId}/${route}`, body);
          assert.equal(answer.statusCode, 409, `${route}: ${answer.body}`);
          assert.equal(answer.json<{ error: string }>().error, 'VERIFICATION_FINISHED', route);
        }
      });
    });
  });

  it('answers every call on a verification terminated before any worker ran it VERIFICATION_FINISHED (TERMINATED)', async function () {
    const verifications = new VerificationClient(stack.env.client, uniqueName('no-worker'), {
      answerWithinMs: 5_000,
    });
    const customerId = `terminated${Date.now()}`;
    const { verificationId } = await verifications.start(
      { customerId, change: { email: 'never@example.com' } },
      { answer: 'started' },
    );
    await stack.env.client.workflow.getHandle(verificationId).terminate('test');
    // The query is refused by the server as WorkflowNotReady: read from its gRPC details, not its words.
    await assert.rejects(verifications.state(customerId), finished('TERMINATED'));
    await assert.rejects(verifications.result(customerId), finished('TERMINATED'));
    await assert.rejects(verifications.outcome(customerId, 1000), finished('TERMINATED'));
    await assert.rejects(verifications.verifyOtp(customerId, '123456'), finished('TERMINATED'));
    await assert.rejects(verifications.cancel(customerId), finished('TERMINATED'));
    await withApp(verifications, async (app) => {
      for (const answer of [
        await get(app, `/verifications/${verificationId}`),
        await get(app, `/verifications/${verificationId}/outcome?waitSeconds=1`),
        await post(app, `/verifications/${verificationId}/otp`, { customerId, code: '123456' }),
      ]) {
        assert.equal(answer.statusCode, 409, answer.body);
        assert.deepEqual(
          { error: answer.json<{ error: string }>().error, status: answer.json<{ status: string }>().status },
          { error: 'VERIFICATION_FINISHED', status: 'TERMINATED' },
        );
      }
    });
  });

  it('answers a code whose run was terminated before answering it VERIFICATION_FINISHED (TERMINATED)', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, taskQueue }) => {
      const verifications = new VerificationClient(stack.env.client, taskQueue, { answerWithinMs: 20_000 });
      const customer = await control.addCustomer();
      const { verificationId } = await verifications.start({
        customerId: customer.customerId,
        change: { email: 'slow@example.com' },
      });
      const code = await control.latestOtp(customer.customerId);
      await control.setFaults({ latencyMs: 4_000 });
      try {
        const verdict = refusal(verifications.verifyOtp(customer.customerId, code));
        const handle = stack.env.client.workflow.getHandle(verificationId);
        // The worker took the update and waits for the provider's verdict (slowed down), holding the workflow
        // task open meanwhile: a query would wait for it too, so the test waits for the clock instead.
        await sleep(1_000);
        await handle.terminate('test');
        assert.ok(finished('TERMINATED')(await verdict), String(await verdict));
      } finally {
        await control.setFaults({ latencyMs: 0 });
      }
    });
  });

  it('maps the payment-method change the same way: not found, finished, through its own client', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, taskQueue }) => {
      const paymentMethods = new PaymentMethodClient(stack.env.client, taskQueue);
      const unknown = `00000000-0000-4000-8000-${Date.now().toString().padStart(12, '0').slice(-12)}`;
      for (const call of [
        () => paymentMethods.state(unknown),
        () => paymentMethods.verifyOtp(unknown, '123456'),
        () => paymentMethods.resend(unknown),
        () => paymentMethods.cancel(unknown),
        () => paymentMethods.result(unknown),
      ]) {
        await assert.rejects(call(), VerificationNotFoundError);
      }

      const walletUser = await control.addCustomer();
      const uuid = 'c2a4e0f1-7b3d-4c8e-9f10-2a3b4c5d6e09';
      await paymentMethods.start({
        wonderCustomerUuid: uuid,
        wonderReferenceNumber: 'MERCHANT-CUST-0009',
        update: { default_payment_method: null },
        confirmWith: { customerId: walletUser.customerId },
      });
      await waitForStep(
        stack.env.client.workflow.getHandle(paymentMethods.verificationId(uuid)),
        'AWAITING_INPUT',
      );
      await paymentMethods.cancel(uuid, 'test');
      assert.equal((await paymentMethods.result(uuid)).status, 'CANCELLED');
      await assert.rejects(paymentMethods.verifyOtp(uuid, '123456'), finished('COMPLETED'));
      await assert.rejects(paymentMethods.cancel(uuid), finished('COMPLETED'));
      assert.equal((await paymentMethods.outcome(uuid, 1000))?.status, 'CANCELLED');
    });
  });
});
