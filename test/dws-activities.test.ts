import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, Worker, type LogEntry } from '@temporalio/worker';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { createDwsActivities } from '../activities/dws/activities.js';
import { DwsClient } from '../activities/dws/client.js';
import { sandboxDwsConfig } from '../activities/dws/config.js';
import { MemoryLimitsStore } from '../limits/memory-store.js';
import { SendBudget } from '../limits/send-budget.js';
import type { DwsActivities } from '../activities/dws/types.js';
import { SandboxControlClient } from '../sandbox/control-client.js';
import type { RequestLogEntry } from '../sandbox/dws/request-log.js';
import { startSandbox, type RunningSandbox } from '../sandbox/server.js';
import { devServer, uniqueName, workflowBundle } from './helpers/temporal.js';
import { encryptPin } from '@dws-verify/client';
import { consultOnce, modifyOnce } from './fixtures/dws-activity-workflows.js';
import {
  gatewayErrorPage,
  startGatewayProxy,
  withoutSignature,
  type ProxiedAnswer,
} from './helpers/gateway-proxy.js';

const workflowsPath = fileURLToPath(new URL('./fixtures/dws-activity-workflows.ts', import.meta.url));

const SMS_CUSTOMER = '2188000000000000001';
const PIN_CUSTOMER = '2188000000000000002';
const RISKY_CUSTOMER = '2188000000000000003';
const OTP_TTL_MS = 60_000;

/** What the log lines say, for searching (LogEntry's nanosecond timestamp is a bigint). */
function dump(lines: LogEntry[]): string {
  return JSON.stringify(lines.map((line) => [line.message, line.meta]));
}

describe('DWS activities against the sandbox', function () {
  let sandbox: RunningSandbox;
  let control: SandboxControlClient;
  let client: DwsClient;
  // The sandbox's clock runs this far ahead of ours: how a test lets an OTP expire without waiting.
  let clockOffsetMs = 0;

  async function latestCode(authenticationId: string): Promise<string> {
    const [message] = await control.outbox({ authenticationId });
    assert.ok(message, `a code was sent for ${authenticationId}`);
    return message.code;
  }

  async function requestsFor(requestId: string): Promise<RequestLogEntry[]> {
    return (await control.requests()).filter((entry) => entry.requestId === requestId);
  }

  before(async function () {
    sandbox = await startSandbox({ otpTtlMs: OTP_TTL_MS, now: () => Date.now() + clockOffsetMs });
    control = new SandboxControlClient(sandbox.url);
    client = new DwsClient(sandboxDwsConfig(sandbox.url));
  });

  after(async function () {
    client?.close();
    await sandbox?.close();
  });

  beforeEach(async function () {
    clockOffsetMs = 0;
    await control.reset();
  });

  interface MockRun {
    /** runs one activity in the mock activity context */
    run<I, O>(activity: (input: I) => Promise<O>, input: I): Promise<O>;
  }

  function mockEnvironment(): { env: MockRun; lines: LogEntry[]; activities: DwsActivities } {
    const lines: LogEntry[] = [];
    const mock = new MockActivityEnvironment(undefined, {
      logger: new DefaultLogger('TRACE', (entry) => {
        if (entry.message.startsWith('DWS ')) lines.push(entry);
      }),
    });
    const env: MockRun = { run: (activity, input) => mock.run(activity, input) };
    return { env, lines, activities: createDwsActivities(client, new SendBudget(new MemoryLimitsStore())) };
  }

  /** consult → trigger → verify with the code from the outbox: an authenticationId a modify may use. */
  async function verifiedAuthentication(env: MockRun, a: DwsActivities, customerId: string): Promise<string> {
    const consult = await env.run(a.consultModification, {
      requestId: randomUUID(),
      customerId,
      businessSceneCode: 'MOBILE_AVAILABLE',
    });
    await env.run(a.triggerChallenge, {
      challengeId: consult.authenticationId,
      triggerRequestId: randomUUID(),
      customerId,
    });
    const verified = await env.run(a.verifyAndResume, {
      requestId: randomUUID(),
      authenticationId: consult.authenticationId,
      challengeData: { challengeType: 'SMS_OTP', otpValue: await latestCode(consult.authenticationId) },
    });
    assert.equal(verified.verdict, 'ACCEPTED');
    return consult.authenticationId;
  }

  describe('under MockActivityEnvironment', function () {
    it('consult, trigger, a wrong code, the right code, modify: the email is changed, and the logs hold no secrets', async function () {
      const { env, lines, activities: a } = mockEnvironment();
      const consultRequestId = randomUUID();

      const consult = await env.run(a.consultModification, {
        requestId: consultRequestId,
        customerId: SMS_CUSTOMER,
        businessSceneCode: 'MOBILE_AVAILABLE',
      });
      assert.deepEqual(consult.actionForm, { challengeType: 'sms', challengeRenderValue: '+65******5551' });
      assert.equal(consult.resultCode, 'SUCCESS');
      assert.ok(consult.authenticationId);

      const triggered = await env.run(a.triggerChallenge, {
        challengeId: consult.authenticationId,
        triggerRequestId: randomUUID(),
        customerId: SMS_CUSTOMER,
      });
      assert.deepEqual(triggered, {
        challengeType: 'sms',
        challengeRenderValue: '+65******5551',
        resultCode: 'SUCCESS',
      });

      const code = await latestCode(consult.authenticationId);
      const wrong = code === '000000' ? '111111' : '000000';
      const rejected = await env.run(a.verifyAndResume, {
        requestId: randomUUID(),
        authenticationId: consult.authenticationId,
        challengeData: { challengeType: 'SMS_OTP', otpValue: wrong },
      });
      assert.equal(rejected.verdict, 'INCORRECT');
      assert.equal(rejected.resultCode, 'VERIFY_CODE_INCORRECT');

      const accepted = await env.run(a.verifyAndResume, {
        requestId: randomUUID(),
        authenticationId: consult.authenticationId,
        challengeData: { challengeType: 'SMS_OTP', otpValue: code },
      });
      assert.deepEqual(accepted, { verdict: 'ACCEPTED', resultCode: 'SUCCESS' });

      const modifyRequestId = randomUUID();
      const modified = await env.run(a.modifyCustomer, {
        requestId: modifyRequestId,
        authenticationId: consult.authenticationId,
        customerId: SMS_CUSTOMER,
        user: { email: 'new.address@example.org' },
      });
      assert.deepEqual(modified, { applied: true, resultCode: 'SUCCESS' });
      const customer = await control.customer(SMS_CUSTOMER);
      assert.equal(customer.email, 'new.address@example.org');

      // One line per call, with the identifiers an operator needs and none of the secrets.
      assert.equal(lines.length, 5);
      assert.deepEqual(
        lines.map((l) => [l.meta?.api, l.meta?.resultCode]),
        [
          ['modifyCustomer', 'SUCCESS'],
          ['triggerChallenge', 'SUCCESS'],
          ['verifyAndResume', 'VERIFY_CODE_INCORRECT'],
          ['verifyAndResume', 'SUCCESS'],
          ['modifyCustomer', 'SUCCESS'],
        ],
      );
      assert.equal(lines[0]?.meta?.requestId, consultRequestId);
      assert.equal(lines[0]?.meta?.customerId, SMS_CUSTOMER);
      assert.equal(lines[0]?.meta?.attempt, 1);
      assert.equal(lines[4]?.meta?.requestId, modifyRequestId);
      assert.equal(lines[4]?.meta?.authenticationId, consult.authenticationId);
      assert.equal(lines[4]?.meta?.newEmail, 'n*****s@example.org');
      const logged = dump(lines);
      // As a number of its own: a six-digit code can occur inside the long provider ids.
      assert.doesNotMatch(logged, new RegExp(`(?<!\\d)${code}(?!\\d)`), 'the OTP is not logged');
      assert.doesNotMatch(logged, new RegExp(`(?<!\\d)${wrong}(?!\\d)`), 'the wrong OTP is not logged');
      assert.ok(!logged.includes('new.address@example.org'), 'the new email is not logged');
    });

    it('a PIN customer: PAYMENT_PASSWORD is challenged with key material, and the encrypted PIN verifies', async function () {
      const { env, activities: a } = mockEnvironment();
      const consult = await env.run(a.consultModification, {
        requestId: randomUUID(),
        customerId: PIN_CUSTOMER,
        businessSceneCode: 'MOBILE_AVAILABLE',
      });
      assert.deepEqual(consult.actionForm, { challengeType: 'PAYMENT_PASSWORD', challengeRenderValue: '' });
      const triggered = await env.run(a.triggerChallenge, {
        challengeId: consult.authenticationId,
        triggerRequestId: randomUUID(),
        customerId: PIN_CUSTOMER,
      });
      assert.equal(triggered.challengeType, 'PAYMENT_PASSWORD');
      assert.ok(triggered.encryptionInfo?.publicKey, 'the key material reaches the workflow');
      const verified = await env.run(a.verifyAndResume, {
        requestId: randomUUID(),
        authenticationId: consult.authenticationId,
        challengeData: {
          challengeType: 'PAYMENT_PASSWORD',
          passwordValue: await encryptPin('123456', triggered.encryptionInfo),
        },
      });
      assert.equal(verified.verdict, 'ACCEPTED');
    });

    it('a risky phone change answers another challenge, whose verification applies the change', async function () {
      const { env, lines, activities: a } = mockEnvironment();
      const authenticationId = await verifiedAuthentication(env, a, RISKY_CUSTOMER);
      const newPhone = { countryCode: '65', phoneNo: '91234567' };
      const modified = await env.run(a.modifyCustomer, {
        requestId: randomUUID(),
        authenticationId,
        customerId: RISKY_CUSTOMER,
        user: { mobileNoInfo: newPhone },
      });
      assert.equal(modified.applied, false);
      assert.ok(!modified.applied && modified.authenticationId !== authenticationId);
      if (modified.applied) return;
      assert.deepEqual(modified.actionForm, { challengeType: 'sms', challengeRenderValue: '+65******4567' });
      assert.equal(lines.at(-1)?.meta?.newPhone, '+65******4567');
      assert.ok(!dump(lines).includes('91234567'), 'the new phone number is not logged');

      let customer = await control.customer(RISKY_CUSTOMER);
      assert.notDeepEqual(customer.mobileNoInfo, newPhone, 'not applied before the second challenge');

      await env.run(a.triggerChallenge, {
        challengeId: modified.authenticationId,
        triggerRequestId: randomUUID(),
        customerId: RISKY_CUSTOMER,
      });
      const verified = await env.run(a.verifyAndResume, {
        requestId: randomUUID(),
        authenticationId: modified.authenticationId,
        challengeData: { challengeType: 'SMS_OTP', otpValue: await latestCode(modified.authenticationId) },
      });
      assert.equal(verified.verdict, 'ACCEPTED');
      customer = await control.customer(RISKY_CUSTOMER);
      assert.deepEqual(customer.mobileNoInfo, newPhone);
    });

    it('an expired code is the verdict EXPIRED; too many wrong codes is LOCKED', async function () {
      const { env, activities: a } = mockEnvironment();
      const consult = await env.run(a.consultModification, {
        requestId: randomUUID(),
        customerId: SMS_CUSTOMER,
        businessSceneCode: 'MOBILE_AVAILABLE',
      });
      await env.run(a.triggerChallenge, {
        challengeId: consult.authenticationId,
        triggerRequestId: randomUUID(),
        customerId: SMS_CUSTOMER,
      });
      const code = await latestCode(consult.authenticationId);
      const verify = (otpValue: string) =>
        env.run(a.verifyAndResume, {
          requestId: randomUUID(),
          authenticationId: consult.authenticationId,
          challengeData: { challengeType: 'SMS_OTP', otpValue },
        });

      clockOffsetMs = OTP_TTL_MS + 1_000;
      const expired = await verify(code);
      assert.equal(expired.verdict, 'EXPIRED');
      assert.equal(expired.resultCode, 'VERIFY_CODE_EXPIRED');

      clockOffsetMs = 0;
      const wrong = code === '000000' ? '111111' : '000000';
      const verdicts: string[] = [];
      for (let i = 0; i < 5; i += 1) verdicts.push((await verify(wrong)).verdict);
      assert.deepEqual(verdicts, ['INCORRECT', 'INCORRECT', 'INCORRECT', 'INCORRECT', 'LOCKED']);
    });

    it('an F answer is thrown as a non-retryable failure typed by the result code', async function () {
      const { env, lines, activities: a } = mockEnvironment();
      await assert.rejects(
        env.run(a.modifyCustomer, {
          requestId: randomUUID(),
          authenticationId: 'not-a-verified-authentication',
          customerId: SMS_CUSTOMER,
          user: { email: 'someone@example.org' },
        }),
        (err: unknown) =>
          err instanceof ApplicationFailure && err.type === 'PROCESS_FAIL' && err.nonRetryable === true,
      );
      assert.equal(lines.length, 1);
      assert.equal(lines[0]?.level, 'WARN');
      assert.equal(lines[0]?.meta?.resultCode, 'PROCESS_FAIL');
    });

    it('triggerChallenge spends the send budget first: past it a typed final failure, no DWS call; a retried send counted once', async function () {
      const { env, lines } = mockEnvironment();
      const a = createDwsActivities(
        client,
        new SendBudget(new MemoryLimitsStore(), [{ limit: 1, windowSeconds: 600 }]),
      );
      const consult = await env.run(a.consultModification, {
        requestId: randomUUID(),
        customerId: SMS_CUSTOMER,
        businessSceneCode: 'MOBILE_AVAILABLE',
      });
      const send = {
        challengeId: consult.authenticationId,
        triggerRequestId: randomUUID(),
        customerId: SMS_CUSTOMER,
      };
      await env.run(a.triggerChallenge, send);
      await env.run(a.triggerChallenge, send);
      await assert.rejects(
        env.run(a.triggerChallenge, { ...send, triggerRequestId: randomUUID() }),
        (err: unknown) =>
          err instanceof ApplicationFailure &&
          err.type === 'SEND_BUDGET_EXCEEDED' &&
          err.nonRetryable === true &&
          (err.details?.[0] as { reason?: string }).reason ===
            'at most 1 code per 10 minutes is sent to one customer' &&
          (err.details?.[0] as { retryAfterSeconds?: number }).retryAfterSeconds! >= 1,
      );
      assert.equal(
        (await control.requests({ api: 'triggerChallenge' })).length,
        2,
        'the refused send never reached DWS',
      );
      assert.equal(lines.at(-1)?.meta?.failureType, 'SEND_BUDGET_EXCEEDED', 'the refusal logs its line');
    });

    it('triggerChallenge fails retryably, sending nothing, when the budget cannot be checked, and needs the customer id', async function () {
      const { env } = mockEnvironment();
      const store = new MemoryLimitsStore();
      await store.close();
      const a = createDwsActivities(client, new SendBudget(store));
      const send = { challengeId: 'any', triggerRequestId: randomUUID(), customerId: SMS_CUSTOMER };
      await assert.rejects(
        env.run(a.triggerChallenge, send),
        (err: unknown) =>
          err instanceof ApplicationFailure && err.type === 'SEND_BUDGET_UNAVAILABLE' && !err.nonRetryable,
      );
      await assert.rejects(
        env.run(a.triggerChallenge, { ...send, customerId: '' }),
        (err: unknown) =>
          err instanceof ApplicationFailure && err.type === 'INVALID_INPUT' && /customerId/.test(err.message),
      );
      assert.deepEqual(await control.requests(), []);
    });

    it('bad input fails without a call, naming the field', async function () {
      const { env, lines, activities: a } = mockEnvironment();
      await assert.rejects(
        env.run(a.consultModification, {
          requestId: 'x'.repeat(65),
          customerId: SMS_CUSTOMER,
          businessSceneCode: 'MOBILE_AVAILABLE',
        }),
        (err: unknown) =>
          err instanceof ApplicationFailure &&
          err.type === 'INVALID_INPUT' &&
          err.nonRetryable === true &&
          /requestId/.test(err.message),
      );
      await assert.rejects(
        env.run(a.verifyAndResume, {
          requestId: randomUUID(),
          authenticationId: 'a',
          challengeData: { challengeType: 'SMS_OTP', otpValue: '' },
        }),
        (err: unknown) => err instanceof ApplicationFailure && /challengeData\.otpValue/.test(err.message),
      );
      assert.deepEqual(await control.requests(), []);
      assert.equal(lines.length, 2, 'a refused call still logs its one line');
    });
  });

  describe('on a real worker', function () {
    async function runOnWorker<T>(fn: (taskQueue: string) => Promise<T>, via = client): Promise<T> {
      const env = await devServer();
      const taskQueue = uniqueName('dws-activities');
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: await workflowBundle(workflowsPath),
        activities: createDwsActivities(via, new SendBudget(new MemoryLimitsStore())),
      });
      return await worker.runUntil(fn(taskQueue));
    }

    /** A DWS client behind a gateway that alters the provider's answers on their way back. */
    async function behindGateway<T>(
      alter: (answer: ProxiedAnswer, call: number) => ProxiedAnswer,
      fn: (via: DwsClient) => Promise<T>,
    ): Promise<T> {
      const proxy = await startGatewayProxy({ target: sandbox.url, prefix: '/gw', alter });
      const via = new DwsClient(sandboxDwsConfig(proxy.url));
      try {
        return await fn(via);
      } finally {
        via.close();
        await proxy.close();
      }
    }

    it("two gateway error pages over DWS's answer, then the answer: retried with one requestId, applied once", async function () {
      const { env: mock, activities: a } = mockEnvironment();
      const authenticationId = await verifiedAuthentication(mock, a, SMS_CUSTOMER);
      const requestId = randomUUID();
      const env = await devServer();
      // DWS applies the change on the first call; the caller only sees the gateway's 403 page, twice.
      const result = await behindGateway(
        (answer, call) => (call <= 2 ? gatewayErrorPage(403) : answer),
        (via) =>
          runOnWorker(
            (taskQueue) =>
              env.client.workflow.execute(modifyOnce, {
                taskQueue,
                workflowId: uniqueName('dws-modify-unsigned'),
                args: [
                  {
                    requestId,
                    authenticationId,
                    customerId: SMS_CUSTOMER,
                    user: { email: 'gw@example.org' },
                  },
                ],
              }),
            via,
          ),
      );
      assert.deepEqual(result, { applied: true, resultCode: 'SUCCESS' });
      const calls = await requestsFor(requestId);
      assert.deepEqual(
        calls.map((call) => (call.replayed ? 'replayed' : call.resultStatus)),
        ['S', 'replayed', 'replayed'],
      );
      const ledger = await control.ledger(SMS_CUSTOMER);
      assert.deepEqual(ledger.requestIds, [requestId], 'the change was applied once');
    });

    it('a U that never arrives signed: retried under the bounded policy, then INVALID_RESPONSE_SIGNATURE', async function () {
      await control.setFaults({ failNext: [{ api: 'modifyCustomer', kind: 'unknown', count: 10 }] });
      const requestId = randomUUID();
      const env = await devServer();
      const failure = await behindGateway(
        (answer) => withoutSignature(answer),
        (via) =>
          runOnWorker(async (taskQueue) => {
            try {
              await env.client.workflow.execute(consultOnce, {
                taskQueue,
                workflowId: uniqueName('dws-consult-unsigned'),
                args: [{ requestId, customerId: SMS_CUSTOMER, businessSceneCode: 'MOBILE_AVAILABLE' }],
              });
            } catch (err) {
              return err;
            }
            return undefined;
          }, via),
      );
      assert.ok(failure instanceof WorkflowFailedError, 'the workflow failed');
      assert.ok(failure.cause instanceof ActivityFailure);
      const cause = failure.cause.cause;
      assert.ok(cause instanceof ApplicationFailure);
      assert.equal(cause.type, 'INVALID_RESPONSE_SIGNATURE');
      const calls = await requestsFor(requestId);
      assert.deepEqual(
        calls.map((call) => call.fault?.kind),
        ['unknown', 'unknown', 'unknown', 'unknown', 'unknown'],
        'every attempt of the fixture policy, all with the one requestId',
      );
    });

    it('two U answers, then S: the modify succeeds on attempt 3, every call with the same requestId, applied once', async function () {
      const { env: mock, activities: a } = mockEnvironment();
      const authenticationId = await verifiedAuthentication(mock, a, SMS_CUSTOMER);
      // 'after': DWS applies the change on the first call, and the caller only ever sees U, twice.
      await control.setFaults({
        failNext: [{ api: 'modifyCustomer', kind: 'unknown', count: 2, phase: 'after' }],
      });
      const requestId = randomUUID();
      const env = await devServer();
      const { result, handle } = await runOnWorker(async (taskQueue) => {
        const handle = await env.client.workflow.start(modifyOnce, {
          taskQueue,
          workflowId: uniqueName('dws-modify-retry'),
          args: [
            { requestId, authenticationId, customerId: SMS_CUSTOMER, user: { email: 'retried@example.org' } },
          ],
        });
        return { result: await handle.result(), handle };
      });
      assert.deepEqual(result, { applied: true, resultCode: 'SUCCESS' });

      const calls = await requestsFor(requestId);
      assert.equal(calls.length, 3);
      assert.ok(calls.every((call) => call.api === 'modifyCustomer' && call.requestId === requestId));
      assert.deepEqual(
        calls.map((call) => call.fault?.kind ?? (call.replayed ? 'replayed' : 'answered')),
        ['unknown', 'unknown', 'replayed'],
      );
      const ledger = await control.ledger(SMS_CUSTOMER);
      assert.deepEqual(ledger.requestIds, [requestId], 'the change was applied once');

      const history = await handle.fetchHistory();
      const started = history.events?.filter((e) => e.activityTaskStartedEventAttributes) ?? [];
      assert.equal(started.length, 1);
      assert.equal(started[0]?.activityTaskStartedEventAttributes?.attempt, 3);
    });

    it('two U answers before processing, then S: the consult succeeds on attempt 3 with one requestId', async function () {
      await control.setFaults({
        failNext: [
          { api: 'modifyCustomer', kind: 'unknown', count: 1 },
          { api: 'modifyCustomer', kind: 'trafficLimit', count: 1 },
        ],
      });
      const requestId = randomUUID();
      const env = await devServer();
      const result = await runOnWorker((taskQueue) =>
        env.client.workflow.execute(consultOnce, {
          taskQueue,
          workflowId: uniqueName('dws-consult-retry'),
          args: [{ requestId, customerId: SMS_CUSTOMER, businessSceneCode: 'MOBILE_AVAILABLE' }],
        }),
      );
      assert.equal(result.actionForm.challengeType, 'sms');
      const calls = await requestsFor(requestId);
      assert.deepEqual(
        calls.map((call) => call.fault?.kind ?? call.resultStatus),
        ['unknown', 'trafficLimit', 'S'],
      );
    });

    it('INVALID_PHONE_NUMBER fails the activity non-retryably, typed by the code, after exactly one call', async function () {
      const { env: mock, activities: a } = mockEnvironment();
      const authenticationId = await verifiedAuthentication(mock, a, SMS_CUSTOMER);
      const requestId = randomUUID();
      const env = await devServer();
      const failure = await runOnWorker(async (taskQueue) => {
        try {
          await env.client.workflow.execute(modifyOnce, {
            taskQueue,
            workflowId: uniqueName('dws-modify-invalid-phone'),
            args: [
              {
                requestId,
                authenticationId,
                customerId: SMS_CUSTOMER,
                user: { mobileNoInfo: { countryCode: '65', phoneNo: '12ab' } },
              },
            ],
          });
        } catch (err) {
          return err;
        }
        return undefined;
      });
      assert.ok(failure instanceof WorkflowFailedError, 'the workflow failed');
      assert.ok(failure.cause instanceof ActivityFailure);
      const cause = failure.cause.cause;
      assert.ok(cause instanceof ApplicationFailure);
      assert.equal(cause.type, 'INVALID_PHONE_NUMBER');
      assert.equal(cause.nonRetryable, true);
      assert.match(cause.message, /invalid phone number/);
      assert.deepEqual(cause.details, [{ resultCode: 'INVALID_PHONE_NUMBER', resultStatus: 'F' }]);
      assert.equal((await requestsFor(requestId)).length, 1);
    });
  });
});
