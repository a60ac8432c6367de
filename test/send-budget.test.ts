/**
 * The send budget per customer, where the send happens (the triggerChallenge activity): whatever path
 * starts or resends (HTTP, the client library), however many runs, cancels, replicas and workers, the
 * customer gets at most the budget's codes; every refusal is a 429 with Retry-After (or the library's
 * SendBudgetExceededError) and a reason the app can show, never a 5xx or a flow left hanging.
 */
import assert from 'node:assert/strict';
import { setTimeout } from 'node:timers/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import got, { type Got } from 'got';
import { sandboxDwsEnv } from '../activities/dws/config.js';
import { createDataConverter } from '../codec/data-converter.js';
import { formatKeyEntry, parseKeyRing } from '../codec/keyring.js';
import { SendBudgetExceededError, VerificationClient } from '@dws-verify/client';
import { loadHttpConfig } from '../http/config.js';
import { startHttpService, type RunningHttpService } from '../http/server.js';
import { readLimitsSettings } from '../limits/config.js';
import type { LimitsStore } from '../limits/store.js';
import { SandboxControlClient } from '../sandbox/control-client.js';
import { spawnNode, stopProcess, waitForLine, workerStartedLine } from '../scripts/processes.js';
import { createSendBudget } from '../worker/run.js';
import { verificationWorkflowId } from '../workflows/ids.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { uniqueName } from './helpers/temporal.js';
import {
  createVerificationWorker,
  verificationStack,
  waitForStep,
  withVerificationWorker,
} from './helpers/verification-env.js';

const token = `budget-${randomBytes(12).toString('hex')}`;
/** Three codes per ten minutes: small enough that a short loop meets it. */
const budgetEnv = { SEND_BUDGET_PER_CUSTOMER: '3/600' };
const refusalReason = /^at most 3 codes per 10 minutes are sent to one customer$/;

interface Answered {
  statusCode: number;
  retryAfter?: string;
  body: { error?: string; message?: string; retryAfterSeconds?: number };
}

describe('the send budget per customer', function () {
  this.timeout(180_000);
  const stack = verificationStack();
  const stores: LimitsStore[] = [];

  after(async () => Promise.all(stores.map((store) => store.close())));

  /** The budget a worker builds from its settings (worker/run.ts), closed after the file. */
  function budgetFrom(env: Record<string, string>) {
    const { sendBudget, store } = createSendBudget(readLimitsSettings(env));
    stores.push(store);
    return sendBudget;
  }

  function service(taskQueue: string): Promise<RunningHttpService> {
    return startHttpService({
      // The loops here are the budget's to stop, not the start and cancel limits'.
      config: loadHttpConfig({
        HTTP_PORT: '0',
        HTTP_AUTH_TOKENS: token,
        HTTP_LIMIT_START_PER_CUSTOMER: '100/600',
        HTTP_LIMIT_CANCEL_PER_CUSTOMER: '100/600',
      }),
      verifications: new VerificationClient(stack.env.client, taskQueue),
      logger: false,
    });
  }

  function httpTo(running: RunningHttpService): Got {
    return got.extend({
      prefixUrl: running.url,
      headers: { authorization: `Bearer ${token}` },
      retry: { limit: 0 },
      throwHttpErrors: false,
    });
  }

  async function post(http: Got, url: string, json: object): Promise<Answered> {
    const response = await http.post(url, { json });
    return {
      statusCode: response.statusCode,
      ...(response.headers['retry-after'] ? { retryAfter: response.headers['retry-after'] } : {}),
      body: JSON.parse(response.body) as Answered['body'],
    };
  }

  /**
   * Start → cancel, `loops` times, on one customer, each through the replica its turn names. Answers
   * what each call got ("start 201"), and checks every budget refusal on the way.
   */
  async function startCancelLoop(replicas: Got[], customerId: string, loops: number): Promise<string[]> {
    const verificationId = verificationWorkflowId(customerId);
    const answers: string[] = [];
    for (let loop = 0; loop < loops; loop++) {
      const http = replicas[loop % replicas.length]!;
      const other = replicas[(loop + 1) % replicas.length]!;
      const start = await post(http, 'verifications', {
        customerId,
        change: { email: `loop${loop}@example.com` },
      });
      const cancel = await post(other, `verifications/${verificationId}/cancel`, { customerId });
      answers.push(`start ${start.statusCode} ${start.body.error ?? ''}`.trim());
      answers.push(`cancel ${cancel.statusCode} ${cancel.body.error ?? ''}`.trim());
      if (start.statusCode === 429) assertBudgetRefusal(start);
      // Each run closes before the next start, so the count of codes is exact, not a race's.
      const closed = await http.get(`verifications/${verificationId}/outcome?waitSeconds=10`);
      assert.equal(closed.statusCode, 200, closed.body);
    }
    return answers;
  }

  function assertBudgetRefusal(answer: Answered): void {
    assert.equal(answer.body.error, 'SEND_BUDGET_EXCEEDED', JSON.stringify(answer.body));
    assert.match(answer.body.message ?? '', refusalReason);
    const seconds = answer.body.retryAfterSeconds ?? 0;
    assert.ok(seconds >= 1 && seconds <= 600, `retryAfterSeconds ${seconds}`);
    assert.equal(answer.retryAfter, String(seconds), 'Retry-After says the same');
  }

  function assertDocumented(answers: string[]): void {
    const documented = [
      'start 201',
      'start 409 ALREADY_RUNNING',
      'start 429 SEND_BUDGET_EXCEEDED',
      'cancel 202',
      'cancel 409 VERIFICATION_FINISHED',
    ];
    assert.deepEqual(
      answers.filter((answer) => !documented.includes(answer)),
      [],
      answers.join('\n'),
    );
    assert.ok(answers.includes('start 429 SEND_BUDGET_EXCEEDED'), answers.join('\n'));
  }

  async function codesSent(control: SandboxControlClient, customerId: string): Promise<number> {
    return (await control.outbox({ customerId })).length;
  }

  it('a start → cancel loop on one customer through HTTP sends at most the budget: every refusal 429 with Retry-After, no 5xx', async function () {
    await withVerificationWorker(
      stack.env,
      stack.sandbox,
      async ({ control, taskQueue }) => {
        const customer = await control.addCustomer();
        const running = await service(taskQueue);
        try {
          const answers = await startCancelLoop([httpTo(running)], customer.customerId, 8);
          assertDocumented(answers);
          assert.equal(await codesSent(control, customer.customerId), 3, answers.join('\n'));
          assert.equal(answers.filter((answer) => answer === 'start 201').length, 3, answers.join('\n'));
        } finally {
          await running.close();
        }
        // The refused flow ended with the documented outcome, not waiting for a code that never came.
        const outcome = await new VerificationClient(stack.env.client, taskQueue).result(customer.customerId);
        assert.equal(outcome.status, 'REJECTED');
        assert.ok(outcome.status === 'REJECTED');
        assert.equal(outcome.resultCode, 'SEND_BUDGET_EXCEEDED');
        assert.equal(outcome.failedStep, 'CHALLENGING');
        assert.match(outcome.resultMessage, refusalReason);
        assert.ok((outcome.retryAfterSeconds ?? 0) >= 1);
      },
      { sendBudget: budgetFrom(budgetEnv) },
    );
  });

  it('the same through the client library: SendBudgetExceededError with retryAfterSeconds and the reason', async function () {
    await withVerificationWorker(
      stack.env,
      stack.sandbox,
      async ({ control, taskQueue }) => {
        const verifications = new VerificationClient(stack.env.client, taskQueue);
        const customer = await control.addCustomer();
        const refusals: SendBudgetExceededError[] = [];
        for (let loop = 0; loop < 6; loop++) {
          try {
            await verifications.start({
              customerId: customer.customerId,
              change: { email: 'lib@example.com' },
            });
            await verifications.cancel(customer.customerId);
          } catch (err) {
            if (!(err instanceof SendBudgetExceededError)) throw err;
            refusals.push(err);
          }
          // Each run closes before the next start, so every start is a start or a refusal.
          await verifications.outcome(customer.customerId, 10_000);
        }
        assert.equal(refusals.length, 3);
        for (const refusal of refusals) {
          assert.equal(refusal.verificationId, verificationWorkflowId(customer.customerId));
          assert.match(refusal.reason, refusalReason);
          assert.ok(refusal.retryAfterSeconds >= 1 && refusal.retryAfterSeconds <= 600);
        }
        assert.equal(await codesSent(control, customer.customerId), 3);
      },
      { sendBudget: budgetFrom(budgetEnv) },
    );
  });

  it('refuses a resend past the budget without using a resend: the flow keeps waiting for the code already sent (429 over HTTP)', async function () {
    await withVerificationWorker(
      stack.env,
      stack.sandbox,
      async ({ control, taskQueue }) => {
        const verifications = new VerificationClient(stack.env.client, taskQueue);
        const customer = await control.addCustomer();
        const { verificationId } = await verifications.start({
          customerId: customer.customerId,
          change: { email: 'resend@example.com' },
        });
        const code = await control.latestOtp(customer.customerId);
        // The first code spent the budget; the resend is asked once the cooldown (30 s at least, the
        // workflow's hard bound) is over, so it is the budget that refuses it.
        const { resendAvailableAt } = await verifications.state(customer.customerId);
        await setTimeout(Math.max(0, Date.parse(resendAvailableAt ?? '') - Date.now()) + 250);
        const refused = await verifications.resend(customer.customerId);
        assert.ok(!refused.honoured && refused.reason === 'SEND_BUDGET_EXCEEDED', JSON.stringify(refused));
        assert.ok((refused.retryAfterSeconds ?? 0) >= 1);
        assert.match(refused.message ?? '', /^at most 1 code per 10 minutes/);
        const running = await service(taskQueue);
        try {
          const answer = await post(httpTo(running), `verifications/${verificationId}/resend`, {
            customerId: customer.customerId,
          });
          assert.equal(answer.statusCode, 429, JSON.stringify(answer.body));
          assert.equal(answer.body.error, 'SEND_BUDGET_EXCEEDED');
          assert.equal(answer.retryAfter, String(answer.body.retryAfterSeconds));
        } finally {
          await running.close();
        }

        const state = await waitForStep(
          stack.env.client.workflow.getHandle(verificationId),
          'AWAITING_INPUT',
        );
        assert.equal(state.resendsLeft, 3, 'a refused resend uses none');
        assert.equal(await codesSent(control, customer.customerId), 1);
        assert.deepEqual(await verifications.verifyOtp(customer.customerId, code), { verdict: 'ACCEPTED' });
        assert.equal((await verifications.result(customer.customerId)).status, 'MODIFIED');
      },
      { sendBudget: budgetFrom({ SEND_BUDGET_PER_CUSTOMER: '1/600' }) },
    );
  });

  it('counts a retried trigger once: the answer lost after the send, the retry with the same id is not a second code', async function () {
    await withVerificationWorker(
      stack.env,
      stack.sandbox,
      async ({ control, taskQueue }) => {
        const verifications = new VerificationClient(stack.env.client, taskQueue);
        const customer = await control.addCustomer();
        await control.setFaults({
          failNext: [{ api: 'triggerChallenge', kind: 'unknown', count: 1, phase: 'after' }],
        });
        await verifications.start({
          customerId: customer.customerId,
          change: { email: 'retry@example.com' },
        });
        const faulted = (await control.requests({ api: 'triggerChallenge' })).find((r) => r.fault);
        assert.ok(faulted, 'the first answer was lost after the code was sent');
        const attempts = (await control.requests({ api: 'triggerChallenge' })).filter(
          (r) => r.triggerRequestId === faulted.triggerRequestId,
        );
        assert.ok(attempts.length >= 2, 'the trigger was retried with the same id');
        await verifications.cancel(customer.customerId);
        await verifications.outcome(customer.customerId, 10_000);

        // Budget 2: the retried send counted once leaves room for exactly one more.
        await verifications.start({
          customerId: customer.customerId,
          change: { email: 'retry@example.com' },
        });
        await verifications.cancel(customer.customerId);
        await verifications.outcome(customer.customerId, 10_000);
        await assert.rejects(
          verifications.start({ customerId: customer.customerId, change: { email: 'retry@example.com' } }),
          SendBudgetExceededError,
        );
        assert.equal(await codesSent(control, customer.customerId), 2);
      },
      { sendBudget: budgetFrom({ SEND_BUDGET_PER_CUSTOMER: '2/600' }) },
    );
  });

  describe('counted in one redis-server (LIMITS_REDIS_URL)', function () {
    let redis: TestRedis;

    before(async function () {
      redis = await startRedis();
    });
    after(async () => redis?.close());

    it('the worker process builds it from LIMITS_REDIS_URL and SEND_BUDGET_PER_CUSTOMER, says so at start, and stops cleanly', async function () {
      const codecKeys = formatKeyEntry('budget-k1', randomBytes(32));
      const taskQueue = uniqueName('budget-process');
      const child = spawnNode('worker/main.ts', {
        env: {
          PATH: process.env.PATH,
          TEMPORAL_ADDRESS: stack.env.address,
          TEMPORAL_TASK_QUEUE: taskQueue,
          TEMPORAL_CODEC_KEYS: codecKeys,
          ...sandboxDwsEnv(stack.sandbox.url, stack.sandbox.clientId),
          LIMITS_REDIS_URL: redis.url,
          LIMITS_REDIS_PREFIX: `test-${randomUUID().slice(0, 8)}:limits`,
          SEND_BUDGET_PER_CUSTOMER: '1/600',
        },
      });
      let exitCode: number | null | undefined;
      child.once('exit', (code) => (exitCode = code));
      try {
        const line = await waitForLine(child, workerStartedLine, { name: 'the worker', timeoutMs: 90_000 });
        const { limits } = JSON.parse(line) as { limits: string };
        assert.match(limits, new RegExp(`^limits count in Redis at redis://127\\.0\\.0\\.1:${redis.port} `));
        assert.match(limits, /send budget per customer \(codes\): 1 per 10 minutes$/);

        const verifications = new VerificationClient(
          new Client({
            connection: stack.env.connection,
            namespace: stack.env.namespace ?? 'default',
            dataConverter: createDataConverter(parseKeyRing(codecKeys, 'test')),
          }),
          taskQueue,
        );
        const control = new SandboxControlClient(stack.sandbox.url);
        const customer = await control.addCustomer();
        const input = { customerId: customer.customerId, change: { email: 'process@example.com' } };
        await verifications.start(input);
        await verifications.cancel(customer.customerId);
        await verifications.outcome(customer.customerId, 10_000);
        await assert.rejects(verifications.start(input), SendBudgetExceededError);
      } finally {
        await stopProcess(child, { graceMs: 20_000 });
      }
      assert.equal(exitCode, 0, 'the worker and its store closed without an error');
    });

    it('holds as one budget: codes within it, every refusal 429 with Retry-After, whichever replica and worker', async function () {
      const settings = {
        ...budgetEnv,
        LIMITS_REDIS_URL: redis.url,
        LIMITS_REDIS_PREFIX: `test-${randomUUID().slice(0, 8)}:limits`,
      };
      const taskQueue = uniqueName('budget-shared');
      const replicas = await Promise.all([service(taskQueue), service(taskQueue)]);
      const control = new SandboxControlClient(stack.sandbox.url);
      // Two workers as two processes would be: each with its own store connection, on one task queue.
      // One after the other (the SDK allows one worker per task queue in a process): the second can
      // only know of the first one's codes through the shared store.
      const worker = () =>
        createVerificationWorker(stack.env, stack.sandbox.url, taskQueue, {
          sendBudget: budgetFrom(settings),
        });
      try {
        const customer = await control.addCustomer();
        const http = replicas.map(httpTo);
        const before = await (await worker()).runUntil(startCancelLoop(http, customer.customerId, 2));
        const afterwards = await (await worker()).runUntil(startCancelLoop(http, customer.customerId, 6));
        const answers = [...before, ...afterwards];
        assertDocumented(answers);
        assert.equal(await codesSent(control, customer.customerId), 3, answers.join('\n'));
        assert.deepEqual(
          before.filter((answer) => answer.startsWith('start')),
          ['start 201', 'start 201'],
          'the first worker sent two codes',
        );
      } finally {
        await Promise.all(replicas.map((replica) => replica.close()));
      }
    });
  });
});
