/**
 * The HTTP limits as a load balancer sees them: three service replicas on loopback ports, one real
 * redis-server, a real dev server. The limits are one count whichever replica answers; a flood of new
 * keys leaves a victim's counter where it was; a stopped store answers within its bound, refusing what
 * must not go uncounted and letting a cancel through; a forged X-Forwarded-For chooses no bucket.
 * Nothing here needs a worker: a request is counted before it reaches Temporal, so answers for
 * verifications that do not exist (404) or name another customer (403) count as any other.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import got, { type Response } from 'got';
import { VerificationClient } from '@dws-verify/client';
import { loadHttpConfig } from '../http/config.js';
import { startHttpService, type RunningHttpService } from '../http/server.js';
import { pollUntil } from '../scripts/processes.js';
import { verificationWorkflowId } from '../workflows/ids.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { devServer, uniqueName } from './helpers/temporal.js';

const tokens = {
  a: `shared-a-${randomBytes(12).toString('hex')}`,
  b: `shared-b-${randomBytes(12).toString('hex')}`,
};
const other = `shared-o-${randomBytes(12).toString('hex')}`;
const storeTimeoutMs = 500;

/** Runs `task` over `items` with at most `width` in flight. */
async function inParallel<T>(
  items: readonly T[],
  width: number,
  task: (item: T, index: number) => Promise<void>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const index = next++;
        await task(items[index]!, index);
      }
    }),
  );
}

interface Body {
  error?: string;
  message?: string;
  retryAfterSeconds?: number;
}

describe('HTTP limits shared by three replicas through one redis-server', function () {
  this.timeout(180_000);
  let redis: TestRedis;
  let env: TestWorkflowEnvironment;
  let services: RunningHttpService[] = [];
  let serial = 0;

  before(async function () {
    [redis, env] = await Promise.all([startRedis(), devServer()]);
  });
  afterEach(async function () {
    await Promise.all(services.map((service) => service.close()));
    services = [];
  });
  after(async () => redis?.close());

  /** `count` replicas sharing one store under a prefix of this test's own, with these settings. */
  async function replicas(count: number, settings: Record<string, string> = {}) {
    const serviceEnv = {
      HTTP_PORT: '0',
      HTTP_CALLERS: `app-backend:${tokens.a}|${tokens.b},support-tool:${other}`,
      LIMITS_REDIS_URL: redis.url,
      LIMITS_REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}`,
      LIMITS_REDIS_TIMEOUT_MS: String(storeTimeoutMs),
      ...settings,
    };
    const taskQueue = uniqueName('no-worker');
    const started = await Promise.all(
      Array.from({ length: count }, () =>
        startHttpService({
          env: serviceEnv,
          config: loadHttpConfig(serviceEnv),
          verifications: new VerificationClient(env.client, taskQueue),
          logger: false,
        }),
      ),
    );
    services.push(...started);
    /** One request to replica `index % count`, as `token`. */
    return async (
      index: number,
      method: 'GET' | 'POST',
      path: string,
      options: { json?: object; headers?: Record<string, string>; token?: string } = {},
    ): Promise<Response<string> & { json: Body }> => {
      const response = await got(`${started[index % count]!.url}/${path}`, {
        method,
        headers: { authorization: `Bearer ${options.token ?? tokens.a}`, ...options.headers },
        ...(options.json ? { json: options.json } : {}),
        throwHttpErrors: false,
        retry: { limit: 0 },
      });
      return Object.assign(response, { json: JSON.parse(response.body || '{}') as Body });
    };
  }

  const fresh = (label: string) => `${label}${randomBytes(4).toString('hex')}n${++serial}`;

  function assertLimited(response: Response<string> & { json: Body }, scope: RegExp, label: string) {
    assert.equal(response.statusCode, 429, `${label}: ${response.body}`);
    assert.equal(response.json.error, 'TOO_MANY_REQUESTS');
    assert.match(response.json.message ?? '', scope, label);
    const retryAfter = Number(response.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter === response.json.retryAfterSeconds, label);
  }

  it('holds each limit as one count whichever replica answers: per verification, per customer, per user and per caller (all its tokens)', async function () {
    const call = await replicas(3, {
      HTTP_LIMIT_OTP_PER_VERIFICATION: '4/600',
      HTTP_LIMIT_START_PER_CUSTOMER: '3/600',
      HTTP_LIMIT_CANCEL_PER_USER: '3/60',
      HTTP_LIMIT_RESEND_PER_CALLER: '6/60',
    });

    const victim = fresh('victim');
    const otp = (index: number, token?: string) =>
      call(index, 'POST', `verifications/${verificationWorkflowId(victim)}/otp`, {
        json: { customerId: victim, code: '123456' },
        ...(token ? { token } : {}),
      });
    for (let i = 0; i < 4; i++) {
      const answer = await otp(i, i % 2 ? tokens.b : tokens.a);
      assert.equal(answer.statusCode, 404, answer.body);
    }
    for (let i = 4; i < 7; i++) assertLimited(await otp(i), /for this verification/, `code ${i + 1}`);
    assert.equal((await otp(0, other)).statusCode, 404, "another caller's count is its own");

    const customerId = fresh('starter');
    const start = (index: number) =>
      call(index, 'POST', 'verifications', {
        json: { customerId, change: { email: 'limits@example.com' }, answer: 'started' },
      });
    assert.equal((await start(0)).statusCode, 201);
    assert.equal((await start(1)).statusCode, 409);
    assert.equal((await start(2)).statusCode, 409);
    assertLimited(await start(3), /too many starts for this customer/, 'fourth start');
    await env.client.workflow.getHandle(verificationWorkflowId(customerId)).terminate();

    const cancel = (index: number, user: string) => {
      const id = fresh('cancel');
      return call(index, 'POST', `verifications/${verificationWorkflowId(id)}/cancel`, {
        json: { customerId: id },
        headers: { 'x-end-user-id': user },
      });
    };
    for (let i = 0; i < 3; i++) assert.equal((await cancel(i, 'end-user-1')).statusCode, 404);
    assertLimited(await cancel(3, 'end-user-1'), /too many cancels for this user/, 'fourth cancel');
    assert.equal((await cancel(4, 'end-user-2')).statusCode, 404, 'another user has their own count');

    const resend = (index: number, token: string) => {
      const id = fresh('resend');
      return call(index, 'POST', `verifications/${verificationWorkflowId(id)}/resend`, {
        json: { customerId: id },
        token,
      });
    };
    // A caller is counted by its name: its two tokens share one count.
    for (let i = 0; i < 6; i++) assert.equal((await resend(i, i % 2 ? tokens.b : tokens.a)).statusCode, 404);
    assertLimited(await resend(6, tokens.b), /for this caller/, 'seventh resend');
    assert.equal((await resend(7, other)).statusCode, 404, 'another caller is not limited by it');
  });

  it("keeps a victim's counter through a flood of thousands of new keys (junk ids and end users)", async function () {
    const call = await replicas(3, {
      HTTP_LIMIT_OTP_PER_VERIFICATION: '4/600',
      HTTP_LIMIT_OTP_PER_CALLER: '100000/60',
    });
    const victim = fresh('victim');
    const victimOtp = (index: number) =>
      call(index, 'POST', `verifications/${verificationWorkflowId(victim)}/otp`, {
        json: { customerId: victim, code: '123456' },
      });
    for (let i = 0; i < 2; i++) assert.equal((await victimOtp(i)).statusCode, 404);

    // More keys than the per-replica LRU this replaced held (5,000), every one counted then refused 403
    // (the body names another customer), so the flood costs Temporal nothing.
    const flood = 6000;
    const startedAt = Date.now();
    const statuses = new Map<number, number>();
    await inParallel(Array.from({ length: flood }), 24, async (_, n) => {
      const response = await call(
        n,
        'POST',
        `verifications/${verificationWorkflowId(`junk${serial}x${n}`)}/otp`,
        {
          json: { customerId: 'someone-else', code: '123456' },
          headers: { 'x-end-user-id': `rotating-${n}-${randomBytes(8).toString('hex')}` },
        },
      );
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
    });
    assert.deepEqual([...statuses], [[403, flood]]);
    console.log(`      ${flood} flood requests in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);

    for (let i = 2; i < 4; i++) assert.equal((await victimOtp(i)).statusCode, 404, `code ${i + 1}`);
    assertLimited(await victimOtp(4), /for this verification/, 'fifth code after the flood');
  });

  it('answers within the bound when the store is stopped: codes, resends and starts refused 503 with Retry-After, cancels let through; counting resumes when it is back', async function () {
    const call = await replicas(3, { HTTP_LIMIT_OTP_PER_VERIFICATION: '2/600' });
    const customerId = fresh('outage');
    const id = verificationWorkflowId(customerId);
    const requests = {
      otp: (i: number) =>
        call(i, 'POST', `verifications/${id}/otp`, { json: { customerId, code: '123456' } }),
      resend: (i: number) => call(i, 'POST', `verifications/${id}/resend`, { json: { customerId } }),
      start: (i: number) =>
        call(i, 'POST', 'verifications', {
          json: { customerId, change: { email: 'outage@example.com' }, answer: 'started' },
        }),
      cancel: (i: number) => call(i, 'POST', `verifications/${id}/cancel`, { json: { customerId } }),
      state: (i: number) => call(i, 'GET', `verifications/${id}`),
    };
    assert.equal((await requests.otp(0)).statusCode, 404);

    await redis.stop();
    try {
      // The store's bound is twice its timeout; the rest is the answer's own way through HTTP.
      const bound = 2 * storeTimeoutMs + 1000;
      for (let i = 0; i < 3; i++) {
        for (const name of ['otp', 'resend', 'start'] as const) {
          const startedAt = Date.now();
          const response = await requests[name](i);
          const took = Date.now() - startedAt;
          assert.equal(response.statusCode, 503, `${name} on replica ${i}: ${response.body}`);
          assert.equal(response.json.error, 'LIMITS_UNAVAILABLE');
          assert.equal(response.headers['retry-after'], String(response.json.retryAfterSeconds));
          assert.ok(took < bound, `${name} answered after ${took} ms`);
        }
        // Not counted, and not refused: they reached Temporal, which knows no such verification.
        assert.equal((await requests.cancel(i)).statusCode, 404);
        assert.equal((await requests.state(i)).statusCode, 404);
      }
    } finally {
      await redis.start();
    }
    // The server restarted empty (no persistence in tests): the count starts over, on every replica.
    await pollUntil(
      async () => (await requests.otp(1)).statusCode === 404,
      10_000,
      'the store never came back',
      200,
    );
    assert.equal((await requests.otp(2)).statusCode, 404);
    assertLimited(await requests.otp(0), /for this verification/, 'after the outage');
  });

  it('counts the client address a named proxy forwards, and lets no forged X-Forwarded-For choose the bucket', async function () {
    // This test's client is the proxy: its address is named, so the right-most other address counts.
    const viaProxy = await replicas(1, {
      HTTP_TRUSTED_PROXIES: '127.0.0.1',
      HTTP_LIMIT_OTP_PER_USER: '3/60',
    });
    const otp = (call: typeof viaProxy, forwardedFor: string) => {
      const id = fresh('proxied');
      return call(0, 'POST', `verifications/${verificationWorkflowId(id)}/otp`, {
        json: { customerId: id, code: '123456' },
        headers: { 'x-forwarded-for': forwardedFor },
      });
    };
    const forged = () => `${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}.1`;
    for (let i = 0; i < 3; i++)
      assert.equal((await otp(viaProxy, `${forged()}, 203.0.113.7`)).statusCode, 404);
    assertLimited(
      await otp(viaProxy, `${forged()}, 203.0.113.7`),
      /for this user/,
      'a new forged left-most entry',
    );
    assert.equal(
      (await otp(viaProxy, `${forged()}, 203.0.113.8`)).statusCode,
      404,
      'another client, another count',
    );

    // Here the peer is no named proxy: what it forwards is not believed, so it makes no bucket at all.
    const direct = await replicas(1, { HTTP_TRUSTED_PROXIES: '10.0.0.0/8', HTTP_LIMIT_OTP_PER_USER: '3/60' });
    for (let i = 0; i < 6; i++)
      assert.equal((await otp(direct, forged())).statusCode, 404, `forged ${i + 1}`);
  });
});
