import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import got, { RequestError, type Got } from 'got';
import { loadHttpConfig } from '../http/config.js';
import { startHttpService } from '../http/server.js';
import { Client, Connection } from '@temporalio/client';
import { encryptPin, VerificationClient } from '@dws-verify/client';
import type { VerificationState } from '../workflows/types.js';
import { leakedFields } from './helpers/history-scan.js';
import { withVerificationWorker, verificationStack } from './helpers/verification-env.js';

const token = `e2e-${randomBytes(12).toString('hex')}`;

describe('HTTP service on a loopback port, end to end', function () {
  const stack = verificationStack();

  /** The HTTP service on a free loopback port, with the default limits, starting work on `taskQueue`. */
  function serviceOnLoopback(taskQueue: string) {
    return startHttpService({
      config: loadHttpConfig({ HTTP_PORT: '0', HTTP_AUTH_TOKENS: token }),
      verifications: new VerificationClient(stack.env.client, taskQueue),
      logger: false,
    });
  }

  async function stateUntil(
    http: Got,
    verificationId: string,
    predicate: (state: VerificationState) => boolean,
  ): Promise<VerificationState> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const state = await http.get(`verifications/${verificationId}`).json<VerificationState>();
      if (predicate(state)) return state;
      if (state.step === 'DONE') throw new Error(`finished (${state.outcome}) before the awaited state`);
      if (Date.now() > deadline) throw new Error(`state never matched; step ${state.step}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('a PIN customer changes an email through HTTP with the PIN encrypted by the reference function', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ taskQueue, control }) => {
      const service = await serviceOnLoopback(taskQueue);
      try {
        const http = got.extend({
          prefixUrl: service.url,
          headers: { authorization: `Bearer ${token}` },
          retry: { limit: 0 },
        });
        const pin = '583920';
        const customer = await control.addCustomer({ challengeType: 'PAYMENT_PASSWORD', pin });
        const started = await http
          .post('verifications', {
            json: { customerId: customer.customerId, change: { email: 'pin.e2e@example.com' } },
          })
          .json<{ verificationId: string }>();
        const waiting = await stateUntil(http, started.verificationId, (s) => s.step === 'AWAITING_INPUT');
        assert.equal(waiting.challengeType, 'PAYMENT_PASSWORD');
        assert.ok(waiting.encryptionInfo, 'GET /verifications/:id shows the key material');

        const code = await encryptPin(pin, waiting.encryptionInfo);
        const verdict = await http
          .post(`verifications/${started.verificationId}/otp`, {
            json: { customerId: customer.customerId, code },
          })
          .json<{ verdict: string }>();
        assert.deepEqual(verdict, { verdict: 'ACCEPTED' });
        const done = await stateUntil(http, started.verificationId, (state) => state.step === 'DONE');
        assert.equal(done.outcome, 'MODIFIED');
        assert.equal((await control.customer(customer.customerId)).email, 'pin.e2e@example.com');

        const history = await stack.env.client.workflow.getHandle(started.verificationId).fetchHistory();
        assert.deepEqual(leakedFields(history, { pin }), [], 'the PIN is nowhere in the raw history');

        const doc = await http.get('openapi.json').json<{
          paths: Record<
            string,
            { get?: { responses: Record<string, { content: Record<string, unknown> }> } }
          >;
        }>();
        const stateDoc = JSON.stringify(doc.paths['/verifications/{id}']?.get?.responses['200']);
        assert.match(stateDoc, /encryptionInfo/, 'the OpenAPI document shows encryptionInfo');
      } finally {
        await service.close();
      }
    });
  });

  it('stops gracefully: readiness flips to 503 first, everything else is served while it drains, in-flight requests finish', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ taskQueue, control }) => {
      const service = await startHttpService({
        config: loadHttpConfig({ HTTP_PORT: '0', HTTP_AUTH_TOKENS: token, HTTP_DRAIN_SECONDS: '1' }),
        verifications: new VerificationClient(stack.env.client, taskQueue),
        logger: false,
      });
      const http = got.extend({
        prefixUrl: service.url,
        headers: { authorization: `Bearer ${token}` },
        retry: { limit: 0 },
        throwHttpErrors: false,
        // Each request on its own connection: the port is closed at the end of the drain.
        agent: { http: new Agent({ keepAlive: false }) },
      });
      const customer = await control.addCustomer();
      const started = await http
        .post('verifications', {
          json: { customerId: customer.customerId, change: { email: 'drain@example.com' } },
        })
        .json<{ verificationId: string }>();
      assert.equal((await http.get('readyz')).statusCode, 200);
      assert.deepEqual(JSON.parse((await http.get('readyz?scope=replica')).body), { ok: true });

      // A long poll in flight when the stop begins: it runs to its own end (202, still waiting).
      const inFlight = http.get(`verifications/${started.verificationId}/outcome`, {
        searchParams: { waitSeconds: 2 },
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const closed = service.close();

      const ready = await http.get('readyz');
      assert.equal(ready.statusCode, 503);
      assert.deepEqual(JSON.parse(ready.body), { ok: false, draining: true });
      const replicaReady = await http.get('readyz?scope=replica');
      assert.equal(replicaReady.statusCode, 503, 'the balancer check flips too');
      const state = await http.get(`verifications/${started.verificationId}`);
      assert.equal(state.statusCode, 200, 'requests are still served while the balancer takes it out');
      assert.equal(state.headers.connection, 'close', 'kept-alive clients are told to move on');

      const pending = await inFlight;
      assert.equal(pending.statusCode, 202, pending.body);
      await closed;
      await assert.rejects(
        http.get('healthz', { timeout: { request: 5000 }, throwHttpErrors: true }),
        (err: unknown) => err instanceof RequestError && err.code === 'ECONNREFUSED',
      );
    });
  });

  it("keeps the balancer's check green while Temporal is away: each replica answers the outage itself", async function () {
    // Nothing listens on port 1: Temporal is away for this service from the start.
    const away = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    const service = await startHttpService({
      config: loadHttpConfig({ HTTP_PORT: '0', HTTP_AUTH_TOKENS: token }),
      verifications: new VerificationClient(away, 'nowhere'),
      logger: false,
    });
    try {
      const http = got.extend({ prefixUrl: service.url, retry: { limit: 0 }, throwHttpErrors: false });
      const monitoring = await http.get('readyz');
      assert.equal(monitoring.statusCode, 503);
      assert.deepEqual(JSON.parse(monitoring.body), { ok: false, temporal: 'down' });
      const balancer = await http.get('readyz?scope=replica');
      assert.equal(balancer.statusCode, 200, 'the replica stays in the balancer');
      const unknownScope = await http.get('readyz?scope=everything');
      assert.equal(unknownScope.statusCode, 400);
      assert.equal(JSON.parse(unknownScope.body).field, 'scope');
    } finally {
      await service.close();
      await away.connection.close();
    }
  });

  it('changes an email driven only through HTTP: start, poll, code from the outbox, verdict, outcome', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ taskQueue, control }) => {
      const service = await serviceOnLoopback(taskQueue);
      try {
        assert.match(service.url, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.notEqual(service.url, 'http://127.0.0.1:0');
        const http = got.extend({
          prefixUrl: service.url,
          headers: { authorization: `Bearer ${token}` },
          retry: { limit: 0 },
        });
        const customer = await control.addCustomer();

        const started = await http.post('verifications', {
          json: { customerId: customer.customerId, change: { email: 'e2e.new@example.com' } },
          headers: { 'idempotency-key': `e2e-${customer.customerId}` },
        });
        assert.equal(started.statusCode, 201);
        const { verificationId } = JSON.parse(started.body) as { verificationId: string };

        const waiting = await stateUntil(http, verificationId, (state) => state.step === 'AWAITING_INPUT');
        assert.equal(waiting.challengeType, 'sms');

        const code = await control.latestOtp(customer.customerId);
        const verdict = await http
          .post(`verifications/${verificationId}/otp`, { json: { customerId: customer.customerId, code } })
          .json<{ verdict: string }>();
        assert.deepEqual(verdict, { verdict: 'ACCEPTED' });

        const done = await stateUntil(http, verificationId, (state) => state.step === 'DONE');
        assert.equal(done.outcome, 'MODIFIED');
        assert.equal((await control.customer(customer.customerId)).email, 'e2e.new@example.com');
        assert.equal((await control.ledger(customer.customerId)).count, 1);

        const unauthenticated = await got(`${service.url}/verifications/${verificationId}`, {
          throwHttpErrors: false,
          retry: { limit: 0 },
        });
        assert.equal(unauthenticated.statusCode, 401);
      } finally {
        await service.close();
      }
      await assert.rejects(
        got(`${service.url}/healthz`, {
          // A fresh connection: a kept-alive socket from before close() would fail differently.
          agent: { http: new Agent({ keepAlive: false }) },
          retry: { limit: 0 },
          timeout: { request: 5000 },
        }),
        (err: unknown) => err instanceof RequestError && err.code === 'ECONNREFUSED',
        'the port is released after close()',
      );
    });
  });
});
