/**
 * The OTP-entry service through outages, with every piece its own process or server: a real worker
 * process killed with SIGKILL, a dev server stopped and started again on its state file, the HTTP service
 * on a loopback port. Every answer comes within the bound (503 + Retry-After while Temporal cannot
 * answer), and the same submission sent again with the same Idempotency-Key afterwards gets the verdict
 * of the first, verified once, applied once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import got, { type Got, type Response } from 'got';
import { SANDBOX_CLIENT_ID } from '../../activities/dws/config.js';
import { createDataConverter } from '../../codec/data-converter.js';
import { formatKeyEntry, parseKeyRing } from '../../codec/keyring.js';
import { loadHttpConfig } from '../../http/config.js';
import { startHttpService, type RunningHttpService } from '../../http/server.js';
import { VerificationClient } from '@dws-verify/client';
import { SandboxControlClient } from '../../sandbox/control-client.js';
import { startSandbox, type RunningSandbox } from '../../sandbox/server.js';
import { defaultPolicy } from '../../workflows/types.js';
import { verificationWorkflowId } from '../../workflows/ids.js';
import { verificationStepKey } from '../../workflows/search-attributes.js';
import { RestartableDevServer, sandboxWorkerEnv, WorkerProcess } from '../helpers/chaos-processes.js';
import { uniqueName } from '../helpers/temporal.js';

// Short, so the test is quick; the production default is 10 s (HTTP_ANSWER_WITHIN_SECONDS).
const boundMs = 3_000;
// What a loaded 2-core machine adds to the bound between the deadline and the answer on the socket.
const marginMs = 2_000;
const token = `outage-${randomBytes(8).toString('hex')}`;

interface Timed {
  response: Response<string>;
  elapsedMs: number;
}

describe('outages: bounded answers and idempotent submissions through a killed worker and a restarted server', function () {
  this.timeout(240_000);
  const workDir = mkdtempSync(join(tmpdir(), 'dws-outages-'));
  const codecKeys = formatKeyEntry('outage-1', randomBytes(32));
  const taskQueue = uniqueName('outages');
  let server: RestartableDevServer;
  let sandbox: RunningSandbox;
  let control: SandboxControlClient;
  let worker: WorkerProcess;
  let connection: Connection | undefined;
  let verifications: VerificationClient;
  let service: RunningHttpService | undefined;
  let http: Got;
  let passed = 0;

  before(async function () {
    this.timeout(120_000);
    server = await RestartableDevServer.onFreePorts(join(workDir, 'temporal.sqlite'));
    await server.start();
    sandbox = await startSandbox();
    control = new SandboxControlClient(sandbox.url);
    worker = new WorkerProcess({
      logFile: join(workDir, 'worker.log'),
      env: sandboxWorkerEnv({
        temporalAddress: server.address,
        taskQueue,
        codecKeys,
        dwsUrl: sandbox.url,
        dwsClientId: SANDBOX_CLIENT_ID,
      }),
    });
    await worker.start();
    connection = await Connection.connect({ address: server.address });
    const client = new Client({
      connection,
      namespace: 'default',
      dataConverter: createDataConverter(parseKeyRing(codecKeys, 'the outage key')),
    });
    verifications = new VerificationClient(client, taskQueue, { answerWithinMs: boundMs });
    service = await startHttpService({
      config: loadHttpConfig({
        HTTP_PORT: '0',
        HTTP_AUTH_TOKENS: token,
        HTTP_ANSWER_WITHIN_SECONDS: String(boundMs / 1000),
      }),
      verifications,
      logger: false,
    });
    http = got.extend({
      prefixUrl: service.url,
      headers: { authorization: `Bearer ${token}` },
      retry: { limit: 0 },
      throwHttpErrors: false,
      // Far above the bound: a hang shows as a failed assertion on the elapsed time, not as a got error.
      timeout: { request: 60_000 },
    });
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.allSettled([service?.close(), worker?.close()]);
    await Promise.allSettled([connection?.close(), server?.stop(), sandbox?.close()]);
    if (passed === 3) rmSync(workDir, { recursive: true, force: true });
    else console.error(`outage run kept for inspection in ${workDir} (worker.log)`);
  });

  async function timed(request: () => Promise<Response<string>>): Promise<Timed> {
    const startedAt = Date.now();
    const response = await request();
    return { response, elapsedMs: Date.now() - startedAt };
  }

  const submitOtp = (customerId: string, code: string, key: string) =>
    timed(() =>
      http.post(`verifications/${verificationWorkflowId(customerId)}/otp`, {
        json: { customerId, code },
        headers: { 'idempotency-key': key },
      }),
    );
  const resend = (customerId: string, key: string) =>
    timed(() =>
      http.post(`verifications/${verificationWorkflowId(customerId)}/resend`, {
        json: { customerId },
        headers: { 'idempotency-key': key },
      }),
    );
  const state = (customerId: string) =>
    timed(() => http.get(`verifications/${verificationWorkflowId(customerId)}`));

  function assertUnavailable({ response, elapsedMs }: Timed, what: string): void {
    assert.equal(response.statusCode, 503, `${what}: ${response.statusCode} ${response.body}`);
    assert.ok(elapsedMs < boundMs + marginMs, `${what} answered after ${elapsedMs} ms`);
    const retryAfter = Number(response.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `${what}: Retry-After ${retryAfter}`);
    const body = JSON.parse(response.body) as { error: string; message: string; retryAfterSeconds: number };
    assert.equal(body.error, 'TEMPORAL_UNAVAILABLE');
    assert.equal(body.retryAfterSeconds, retryAfter);
    assert.match(body.message, /retry/);
  }

  /** Sends `request` until it is no longer answered 503 (Temporal coming back), within a minute. */
  async function once503sEnd(request: () => Promise<Timed>): Promise<Response<string>> {
    for (let attempt = 1; ; attempt++) {
      const { response } = await request();
      if (response.statusCode !== 503 || attempt >= 60) return response;
      await sleep(1_000);
    }
  }

  /** Fresh sandbox customers, each with its flow started over HTTP and waiting for the code. */
  async function waitingFlows(count: number): Promise<string[]> {
    const customerIds: string[] = [];
    for (let i = 0; i < count; i++) {
      const { customerId } = await control.addCustomer();
      const started = await http.post('verifications', {
        json: {
          customerId,
          change: { email: `outage.${i}.${customerId}@example.com` },
        },
      });
      assert.equal(started.statusCode, 201, started.body);
      customerIds.push(customerId);
    }
    for (const customerId of customerIds) {
      for (let polls = 0; ; polls++) {
        const description = await verifications.client.workflow
          .getHandle(verificationWorkflowId(customerId))
          .describe();
        if (description.typedSearchAttributes.get(verificationStepKey) === 'AWAITING_INPUT') break;
        assert.ok(polls < 300, `${customerId} never waited for its code`);
        await sleep(100);
      }
    }
    return customerIds;
  }

  /**
   * Waits out a flow's resend cooldown (the operator's default, at least 30 s: policySchema's hard bound),
   * so the resend it meets when a worker returns is honoured. Timed from the sandbox's outbox, not by a
   * query: nothing here may touch the flow before the outage the test stages.
   */
  async function untilResendable(customerId: string): Promise<void> {
    const [sent] = await control.outbox({ customerId });
    const resendFrom = (sent?.issuedAt ?? Date.now()) + defaultPolicy.resendCooldownSeconds * 1000;
    await sleep(Math.max(resendFrom - Date.now(), 0) + 1_000);
  }

  /** What the provider saw and did for one flow that ended MODIFIED. */
  async function assertVerifiedAndAppliedOnce(customerId: string, key: string): Promise<void> {
    assert.equal((await verifications.result(customerId)).status, 'MODIFIED');
    assert.equal((await control.ledger(customerId)).count, 1, `${customerId} changed more than once`);
    const [message] = await control.outbox({ customerId });
    const verifies = (await control.requests({ api: 'verifyAndResume' })).filter(
      (call) => call.authenticationId === message?.authenticationId,
    );
    assert.equal(verifies.length, 1, `${customerId}: the code was verified ${verifies.length} times`);
    const final = await verifications.state(customerId);
    assert.equal(final.attemptsLeft, 5, 'the accepted code cost no attempt');
    assert.deepEqual(
      final.submissions?.map((s) => (s.kind === 'otp' ? [s.key, s.verdict.verdict] : [s.key])),
      [[key, 'ACCEPTED']],
    );
  }

  it('answers code, resend and state 503 within the bound while no worker polls; the same keys afterwards get the first answers', async function () {
    const [a, b, c] = (await waitingFlows(3)) as [string, string, string];
    const codeA = await control.latestOtp(a);
    const codeB = await control.latestOtp(b);
    await worker.crash();

    const during = await Promise.all([
      submitOtp(a, codeA, 'worker-down-a'),
      submitOtp(b, codeB, 'worker-down-b'),
      resend(c, 'worker-down-c'),
      state(a),
    ]);
    during.forEach((answer, index) =>
      assertUnavailable(answer, ['code A', 'code B', 'resend C', 'state'][index]!),
    );
    assert.equal(JSON.parse(during[0]!.response.body).reason, 'NO_ANSWER_IN_TIME');

    await untilResendable(c);
    await worker.start();
    // The server kept the submissions while no worker ran; the retries meet them, answered or not yet.
    for (const [customerId, code, key] of [
      [a, codeA, 'worker-down-a'],
      [b, codeB, 'worker-down-b'],
    ] as const) {
      const retried = await once503sEnd(() => submitOtp(customerId, code, key));
      assert.equal(retried.statusCode, 200, retried.body);
      assert.deepEqual(JSON.parse(retried.body), { verdict: 'ACCEPTED' });
      assert.equal(retried.headers['idempotency-key'], key);
    }
    const resent = await once503sEnd(() => resend(c, 'worker-down-c'));
    assert.equal(resent.statusCode, 200, resent.body);
    const resendAnswer = JSON.parse(resent.body) as { honoured: boolean; resendsLeft: number };
    assert.deepEqual([resendAnswer.honoured, resendAnswer.resendsLeft], [true, 2]);
    // Once more, after the flow has finished: still the first verdict, not 409.
    await verifications.result(a);
    assert.deepEqual(JSON.parse((await submitOtp(a, codeA, 'worker-down-a')).response.body), {
      verdict: 'ACCEPTED',
    });

    await assertVerifiedAndAppliedOnce(a, 'worker-down-a');
    await assertVerifiedAndAppliedOnce(b, 'worker-down-b');
    assert.equal((await control.outbox({ customerId: c })).length, 2, 'one code and one resend, not two');
    assert.equal(JSON.parse((await resend(c, 'worker-down-c')).response.body).resendsLeft, 2);
    const codeC = await control.latestOtp(c);
    assert.deepEqual(JSON.parse((await submitOtp(c, codeC, 'c-after')).response.body), {
      verdict: 'ACCEPTED',
    });
    assert.equal((await verifications.result(c)).status, 'MODIFIED');
    assert.equal((await control.ledger(c)).count, 1);
    passed += 1;
  });

  it('answers 503 within the bound while the server is down, and the same keys afterwards get the first verdicts, also for a code the restart lost', async function () {
    const [d, e, f] = (await waitingFlows(3)) as [string, string, string];
    const codes = { d: await control.latestOtp(d), f: await control.latestOtp(f) };
    // f's code reaches the server while no worker polls: the server holds it in memory only.
    await worker.crash();
    assertUnavailable(await submitOtp(f, codes.f, 'restart-f'), 'code F, no worker');
    await server.stop();

    const during = await Promise.all([submitOtp(d, codes.d, 'restart-d'), resend(e, 'restart-e'), state(d)]);
    during.forEach((answer, index) => assertUnavailable(answer, ['code D', 'resend E', 'state D'][index]!));

    await untilResendable(e);
    await server.start();
    await worker.start();
    for (const [customerId, code, key] of [
      [d, codes.d, 'restart-d'],
      [f, codes.f, 'restart-f'],
    ] as const) {
      const retried = await once503sEnd(() => submitOtp(customerId, code, key));
      assert.equal(retried.statusCode, 200, retried.body);
      assert.deepEqual(JSON.parse(retried.body), { verdict: 'ACCEPTED' });
    }
    const resent = await once503sEnd(() => resend(e, 'restart-e'));
    assert.equal(JSON.parse(resent.body).honoured, true, resent.body);

    await assertVerifiedAndAppliedOnce(d, 'restart-d');
    await assertVerifiedAndAppliedOnce(f, 'restart-f');
    assert.equal((await control.outbox({ customerId: e })).length, 2, 'one code and one resend, not two');
    const codeE = await control.latestOtp(e);
    assert.deepEqual(JSON.parse((await submitOtp(e, codeE, 'e-after')).response.body), {
      verdict: 'ACCEPTED',
    });
    assert.equal((await verifications.result(e)).status, 'MODIFIED');
    assert.equal((await control.ledger(e)).count, 1);
    passed += 1;
  });

  it('answers an unknown namespace 503 naming it, not 404 or 500', async function () {
    const elsewhere = new VerificationClient(
      new Client({
        connection: connection!,
        namespace: `no-such-namespace-${randomBytes(3).toString('hex')}`,
      }),
      taskQueue,
      { answerWithinMs: boundMs },
    );
    const { customerId } = await control.addCustomer();
    for (const call of [() => elsewhere.state(customerId), () => elsewhere.verifyOtp(customerId, '123456')]) {
      const startedAt = Date.now();
      await assert.rejects(call(), (err: Error & { reason?: string; retryAfterSeconds?: number }) => {
        assert.equal(err.name, 'VerificationUnavailableError');
        assert.equal(err.reason, 'NAMESPACE_UNKNOWN', err.message);
        assert.match(err.message, /no-such-namespace/);
        assert.ok((err.retryAfterSeconds ?? 0) >= 1);
        return true;
      });
      assert.ok(Date.now() - startedAt < boundMs + marginMs);
    }
    passed += 1;
  });
});
