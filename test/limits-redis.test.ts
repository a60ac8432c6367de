import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createLimitsStore, readLimitsSettings } from '../limits/config.js';
import { maxRedisKeyLength, RedisLimitsStore } from '../limits/redis-store.js';
import { SendBudget } from '../limits/send-budget.js';
import {
  LimitKeyError,
  LimitsStoreUnavailableError,
  maxIdLength,
  maxKeyLength,
  type LimitDecision,
  type LimitWindow,
} from '../limits/store.js';
import { pollUntil } from '../scripts/processes.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

function refused(decision: LimitDecision) {
  assert.equal(decision.allowed, false, `expected a refusal, got ${JSON.stringify(decision)}`);
  return decision as Extract<LimitDecision, { allowed: false }>;
}

describe('the Redis limits store (a real redis-server)', function () {
  // The first run on a fresh machine may install Debian's redis-server.
  this.timeout(180_000);
  let redis: TestRedis;
  let inspector: Redis;
  const stores: RedisLimitsStore[] = [];
  // Each test counts under its own prefix, so none sees another's counters.
  let prefix: string;

  const store = (options: { timeoutMs?: number } = {}) => {
    const created = new RedisLimitsStore({ url: redis.url, prefix, ...options });
    stores.push(created);
    return created;
  };

  before(async function () {
    redis = await startRedis();
    inspector = new Redis(redis.url, { lazyConnect: true });
    // The outage test stops the server under it; its reconnect errors are expected, not news.
    inspector.on('error', () => undefined);
  });
  after(async function () {
    inspector?.disconnect();
    await Promise.all(stores.map((s) => s.close()));
    await redis?.close();
  });
  beforeEach(function () {
    prefix = `test-${randomUUID().slice(0, 8)}:limits`;
  });

  it('refuses past the limit with a Retry-After that is right', async function () {
    const replica = store();
    const perTenMinutes: LimitWindow = { limit: 3, windowSeconds: 600 };
    const remaining: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const decision = await replica.hit('customer-1', [perTenMinutes]);
      assert.ok(decision.allowed);
      remaining.push(decision.remaining);
    }
    assert.deepEqual(remaining, [2, 1, 0]);
    const refusal = refused(await replica.hit('customer-1', [perTenMinutes]));
    assert.deepEqual(refusal.window, perTenMinutes);
    assert.ok(
      refusal.retryAfterSeconds >= 599 && refusal.retryAfterSeconds <= 600,
      String(refusal.retryAfterSeconds),
    );

    const fixed: LimitWindow = { limit: 2, windowSeconds: 600, kind: 'fixed' };
    await replica.hit('caller-1', [fixed]);
    await replica.hit('caller-1', [fixed]);
    const fixedRefusal = refused(await replica.hit('caller-1', [fixed]));
    assert.ok(fixedRefusal.retryAfterSeconds >= 599 && fixedRefusal.retryAfterSeconds <= 600);

    // Waiting as long as it says is enough, and not waiting is not.
    const short: LimitWindow = { limit: 1, windowSeconds: 2 };
    await replica.hit('short', [short]);
    const wait = refused(await replica.hit('short', [short])).retryAfterSeconds;
    assert.ok(wait >= 1 && wait <= 2);
    await sleep(wait * 1000 - 900);
    refused(await replica.hit('short', [short]));
    await sleep(1000);
    assert.deepEqual(await replica.hit('short', [short]), { allowed: true, remaining: 0 });
  });

  it('does not count a refused hit, in any of its windows', async function () {
    const replica = store();
    const small: LimitWindow = { limit: 2, windowSeconds: 600 };
    const large: LimitWindow = { limit: 50, windowSeconds: 3600, kind: 'fixed' };
    await replica.hit('k', [small, large]);
    await replica.hit('k', [small, large]);
    for (let i = 0; i < 30; i += 1) refused(await replica.hit('k', [small, large]));
    assert.deepEqual(await replica.peek('k', [large]), { allowed: true, remaining: 48 });
    assert.equal((await inspector.zcard(`${prefix}:{${keyDigest('k')}}:s600`)) as number, 2);
  });

  it('counts a hit with the same id once, whichever replica sees it', async function () {
    const [a, b] = [store(), store()];
    const two: LimitWindow = { limit: 2, windowSeconds: 600 };
    const first = await a.hit('customer-1', [two], { id: 'trigger-1' });
    assert.deepEqual(first, { allowed: true, remaining: 1 });
    assert.deepEqual(await b.hit('customer-1', [two], { id: 'trigger-1' }), first);
    assert.deepEqual(await a.peek('customer-1', [two]), { allowed: true, remaining: 1 });
    assert.ok((await b.hit('customer-1', [two], { id: 'trigger-2' })).allowed);
    const refusal = refused(await a.hit('customer-1', [two], { id: 'trigger-3' }));
    const again = refused(await b.hit('customer-1', [two], { id: 'trigger-3' }));
    assert.deepEqual(again.window, refusal.window);
    assert.ok(again.retryAfterSeconds <= refusal.retryAfterSeconds);
  });

  it('counts as one for three replicas hitting at once', async function () {
    const replicas = [store(), store(), store()];
    const ten: LimitWindow = { limit: 10, windowSeconds: 600 };
    const decisions = await Promise.all(
      Array.from({ length: 60 }, (_, i) => replicas[i % 3]!.hit('customer-1', [ten])),
    );
    const allowed = decisions.filter((d) => d.allowed);
    assert.equal(allowed.length, 10);
    // Each place handed out once: no two replicas saw the same count.
    assert.deepEqual(
      allowed.map((d) => (d.allowed ? d.remaining : -1)).sort((x, y) => x - y),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );

    const budgets = replicas.map((replica) => new SendBudget(replica, [{ limit: 3, windowSeconds: 600 }]));
    const spent = await Promise.all(
      Array.from({ length: 12 }, (_, i) => budgets[i % 3]!.spend('customer-2', `trigger-${i % 6}`)),
    );
    assert.equal(spent.filter((d) => d.allowed).length, 6, 'the three allowed sends, each answered twice');
    const refusal = spent.find((d) => !d.allowed);
    assert.ok(refusal && !refusal.allowed);
    assert.equal(refusal.reason, 'at most 3 codes per 10 minutes are sent to one customer');
  });

  it("keeps a victim's counter through a flood of distinct junk keys", async function () {
    const replica = store();
    const victim: LimitWindow = { limit: 3, windowSeconds: 3600 };
    for (let i = 0; i < 3; i += 1) await replica.hit('verification:victim', [victim]);
    for (let batch = 0; batch < 20; batch += 1) {
      await Promise.all(
        Array.from({ length: 500 }, (_, i) => replica.hit(`verification:junk-${batch}-${i}`, [victim])),
      );
    }
    const refusal = refused(await replica.hit('verification:victim', [victim]));
    assert.ok(refusal.retryAfterSeconds > 3500);
    assert.equal(await countKeys(inspector, prefix), 10_001);
  });

  it('writes keys of a bounded length with no caller text in them, and refuses longer input', async function () {
    const replica = store();
    const window: LimitWindow = { limit: 5, windowSeconds: 600 };
    const longest = `customer:PII-${'x'.repeat(maxKeyLength - 13)}`;
    await replica.hit(longest, [window, { limit: 9, windowSeconds: 60, kind: 'fixed' }], {
      id: 'i'.repeat(maxIdLength),
    });
    await replica.hit('customer:PII-short', [window]);
    await assert.rejects(replica.hit(`${longest}x`, [window]), LimitKeyError);
    await assert.rejects(replica.hit('k', [window], { id: 'i'.repeat(maxIdLength + 1) }), LimitKeyError);

    const keys = await inspector.keys(`${prefix}:*`);
    assert.equal(keys.length, 4);
    for (const key of keys) {
      assert.ok(key.length <= maxRedisKeyLength(prefix), `${key} is ${key.length} long`);
      assert.ok(!key.includes('PII') && !key.includes('iiii'), key);
    }
  });

  it('answers within its timeout with LimitsStoreUnavailableError while Redis is away, and counts again once it is back', async function () {
    const timeoutMs = 300;
    const changes: string[] = [];
    const replica = new RedisLimitsStore({
      url: redis.url,
      prefix,
      timeoutMs,
      onStateChange: (state) => changes.push(state),
    });
    stores.push(replica);
    const window: LimitWindow = { limit: 5, windowSeconds: 600 };
    assert.ok((await replica.hit('customer-1', [window])).allowed);
    // Far above the timeout, far below "hangs": a bound, not a speed.
    const bound = timeoutMs * 5 + 1000;

    const answered = async (call: () => Promise<unknown>) => {
      const started = Date.now();
      await assert.rejects(call(), LimitsStoreUnavailableError);
      return Date.now() - started;
    };

    // Frozen: the connection stays open and nothing answers; only the command timeout ends the wait.
    redis.pause();
    try {
      assert.ok((await answered(() => replica.hit('customer-1', [window]))) < bound);
      assert.ok((await answered(() => replica.peek('customer-1', [window]))) < bound);
    } finally {
      redis.resume();
    }
    await pollUntil(
      async () => (await replica.peek('customer-1', [window])).allowed,
      10_000,
      'Redis never thawed',
    );

    await redis.stop();
    try {
      for (let i = 0; i < 3; i += 1) {
        assert.ok((await answered(() => replica.hit('customer-1', [window], { id: `t-${i}` }))) < bound);
      }
      const budget = new SendBudget(replica);
      assert.ok((await answered(() => budget.spend('customer-1', 'trigger-1'))) < bound);
      // A store created during the outage answers the same way rather than waiting for a connection.
      const late = createLimitsStore({
        ...readLimitsSettings({}),
        redisUrl: redis.url,
        redisTimeoutMs: timeoutMs,
      });
      stores.push(late as RedisLimitsStore);
      assert.ok((await answered(() => late.hit('customer-1', [window]))) < bound);
    } finally {
      await redis.start();
    }

    await pollUntil(
      async () => (await replica.hit('customer-1', [window])).allowed,
      10_000,
      'the store did not count again after Redis came back',
    );
    assert.ok(changes.includes('unavailable'));
    assert.equal(changes.at(-1), 'ready');
  });
});

/** The digest the store names a key's counters by (redis-store.ts). */
function keyDigest(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}

async function countKeys(client: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let count = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    count += keys.length;
  } while (cursor !== '0');
  return count;
}
