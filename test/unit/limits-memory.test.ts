import assert from 'node:assert/strict';
import { ConfigError } from '../../config/errors.js';
import { createLimitsStore, describeLimitsStore, readLimitsSettings } from '../../limits/config.js';
import { MemoryLimitsStore } from '../../limits/memory-store.js';
import { defaultSendBudget, SendBudget } from '../../limits/send-budget.js';
import {
  LimitKeyError,
  LimitsStoreUnavailableError,
  maxIdLength,
  maxKeyLength,
  type LimitDecision,
  type LimitWindow,
} from '../../limits/store.js';

/** A store on a clock the test moves, so windows pass without sleeping. */
function clockedStore(options: { maxEntries?: number } = {}) {
  const clock = { now: Date.UTC(2026, 0, 1) };
  const store = new MemoryLimitsStore({ ...options, now: () => clock.now });
  return {
    store,
    advance: (seconds: number) => {
      clock.now += seconds * 1000;
    },
  };
}

function refused(decision: LimitDecision) {
  assert.equal(decision.allowed, false, `expected a refusal, got ${JSON.stringify(decision)}`);
  return decision as Extract<LimitDecision, { allowed: false }>;
}

const fivePerTenMinutes: LimitWindow = { limit: 5, windowSeconds: 600 };

describe('the in-memory limits store', function () {
  it('refuses past the limit and names the moment the oldest event leaves the window', async function () {
    const { store, advance } = clockedStore();
    const remaining: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const decision = await store.hit('k', [fivePerTenMinutes]);
      assert.ok(decision.allowed);
      remaining.push(decision.remaining);
      advance(60);
    }
    assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
    // Events at 0, 60, ..., 240 s; now 300 s: the first leaves at 600 s.
    const refusal = refused(await store.hit('k', [fivePerTenMinutes]));
    assert.equal(refusal.retryAfterSeconds, 300);
    assert.deepEqual(refusal.window, fivePerTenMinutes);
    advance(299.5);
    assert.equal(refused(await store.hit('k', [fivePerTenMinutes])).retryAfterSeconds, 1);
    advance(0.5);
    assert.deepEqual(await store.hit('k', [fivePerTenMinutes]), { allowed: true, remaining: 0 });
    // Sliding: the second event (60 s) leaves at 660 s, not when a fixed window would reset.
    assert.equal(refused(await store.hit('k', [fivePerTenMinutes])).retryAfterSeconds, 60);
  });

  it('does not count a refused hit, in any of its windows', async function () {
    const { store, advance } = clockedStore();
    const short: LimitWindow = { limit: 2, windowSeconds: 10 };
    const long: LimitWindow = { limit: 50, windowSeconds: 3600 };
    await store.hit('k', [short, long]);
    await store.hit('k', [short, long]);
    advance(5);
    for (let i = 0; i < 100; i += 1) refused(await store.hit('k', [short, long]));
    assert.deepEqual(await store.peek('k', [long]), { allowed: true, remaining: 48 });
    // The knocks at 5 s would still fill the short window at 10 s had they been counted.
    advance(5);
    assert.deepEqual(await store.hit('k', [short, long]), { allowed: true, remaining: 1 });
  });

  it('answers with the window that stays full longest when several are full', async function () {
    const { store, advance } = clockedStore();
    const perMinute: LimitWindow = { limit: 2, windowSeconds: 60 };
    const perHour: LimitWindow = { limit: 3, windowSeconds: 3600 };
    await store.hit('k', [perMinute, perHour]);
    await store.hit('k', [perMinute, perHour]);
    const minute = refused(await store.hit('k', [perMinute, perHour]));
    assert.deepEqual([minute.window, minute.retryAfterSeconds], [perMinute, 60]);
    advance(60);
    assert.deepEqual(await store.hit('k', [perMinute, perHour]), { allowed: true, remaining: 0 });
    const hour = refused(await store.hit('k', [perMinute, perHour]));
    assert.deepEqual([hour.window, hour.retryAfterSeconds], [perHour, 3540]);
  });

  it('counts a fixed window from its first event and resets it whole', async function () {
    const { store, advance } = clockedStore();
    const fixed: LimitWindow = { limit: 3, windowSeconds: 60, kind: 'fixed' };
    for (let i = 0; i < 3; i += 1) {
      assert.ok((await store.hit('k', [fixed])).allowed);
      advance(10);
    }
    assert.equal(refused(await store.hit('k', [fixed])).retryAfterSeconds, 30);
    advance(30);
    assert.deepEqual(await store.hit('k', [fixed]), { allowed: true, remaining: 2 });
  });

  it('counts a hit with the same id once and answers it as the first time', async function () {
    const { store, advance } = clockedStore();
    const two: LimitWindow = { limit: 2, windowSeconds: 600 };
    const first = await store.hit('k', [two], { id: 'send-1' });
    assert.deepEqual(first, { allowed: true, remaining: 1 });
    advance(100);
    assert.deepEqual(await store.hit('k', [two], { id: 'send-1' }), first);
    assert.deepEqual(await store.peek('k', [two]), { allowed: true, remaining: 1 });
    // The same id under another key is another event.
    assert.deepEqual(await store.hit('other', [two], { id: 'send-1' }), { allowed: true, remaining: 1 });

    assert.ok((await store.hit('k', [two], { id: 'send-2' })).allowed);
    const refusal = refused(await store.hit('k', [two], { id: 'send-3' }));
    assert.equal(refusal.retryAfterSeconds, 500);
    advance(200);
    // Still refused, with the wait that is left; once the wait has passed the id is judged afresh.
    assert.equal(refused(await store.hit('k', [two], { id: 'send-3' })).retryAfterSeconds, 300);
    advance(300);
    assert.deepEqual(await store.hit('k', [two], { id: 'send-3' }), { allowed: true, remaining: 0 });
    assert.deepEqual(await store.hit('k', [two], { id: 'send-3' }), { allowed: true, remaining: 0 });
  });

  it('peeks without counting', async function () {
    const { store } = clockedStore();
    const one: LimitWindow = { limit: 1, windowSeconds: 60 };
    for (let i = 0; i < 3; i += 1)
      assert.deepEqual(await store.peek('k', [one]), { allowed: true, remaining: 1 });
    await store.hit('k', [one]);
    assert.equal(refused(await store.peek('k', [one])).retryAfterSeconds, 60);
  });

  it('drops expired counters, and keeps a victim counted when junk keys fill it up', async function () {
    const { store, advance } = clockedStore({ maxEntries: 100 });
    const victim: LimitWindow = { limit: 3, windowSeconds: 3600 };
    const junk: LimitWindow = { limit: 3, windowSeconds: 60 };
    for (let i = 0; i < 3; i += 1) await store.hit('victim', [victim]);

    let counted = 0;
    let turnedAway = 0;
    for (let i = 0; i < 1000; i += 1) {
      try {
        await store.hit(`junk-${i}`, [junk]);
        counted += 1;
      } catch (err) {
        assert.ok(err instanceof LimitsStoreUnavailableError);
        turnedAway += 1;
      }
    }
    assert.equal(counted, 99);
    assert.equal(turnedAway, 901);
    assert.equal(refused(await store.hit('victim', [victim])).retryAfterSeconds, 3600);

    advance(60);
    assert.ok((await store.hit('junk-new', [junk])).allowed);
    assert.equal(store.size, 2);
    assert.equal(refused(await store.hit('victim', [victim])).retryAfterSeconds, 3540);
    advance(3540);
    await store.hit('another', [junk]);
    assert.equal(store.size, 1);
  });

  it('refuses keys and ids beyond their bounds, and windows that make no sense', async function () {
    const { store } = clockedStore();
    await assert.rejects(store.hit('k'.repeat(maxKeyLength + 1), [fivePerTenMinutes]), LimitKeyError);
    await assert.rejects(store.hit('', [fivePerTenMinutes]), LimitKeyError);
    await assert.rejects(store.peek('k'.repeat(maxKeyLength + 1), [fivePerTenMinutes]), LimitKeyError);
    await assert.rejects(
      store.hit('k', [fivePerTenMinutes], { id: 'i'.repeat(maxIdLength + 1) }),
      LimitKeyError,
    );
    assert.ok((await store.hit('k'.repeat(maxKeyLength), [fivePerTenMinutes])).allowed);
    await assert.rejects(store.hit('k', []), RangeError);
    await assert.rejects(store.hit('k', [{ limit: 0, windowSeconds: 60 }]), RangeError);
    await assert.rejects(store.hit('k', [{ limit: 1, windowSeconds: 0.5 }]), RangeError);
    await assert.rejects(store.hit('k', [fivePerTenMinutes, { limit: 9, windowSeconds: 600 }]), RangeError);
    assert.equal(store.size, 1);
  });

  it('throws LimitsStoreUnavailableError once closed', async function () {
    const { store } = clockedStore();
    await store.close();
    await assert.rejects(store.hit('k', [fivePerTenMinutes]), LimitsStoreUnavailableError);
  });
});

describe('the send budget', function () {
  it('spends one send per customer, counts a retried send once and says why it refuses', async function () {
    const { store, advance } = clockedStore();
    const budget = new SendBudget(store, [
      { limit: 2, windowSeconds: 600 },
      { limit: 3, windowSeconds: 86400 },
    ]);
    assert.deepEqual(await budget.spend('customer-1', 'trigger-a'), { allowed: true, remaining: 1 });
    assert.deepEqual(await budget.spend('customer-1', 'trigger-a'), { allowed: true, remaining: 1 });
    assert.deepEqual(await budget.check('customer-1'), { allowed: true, remaining: 1 });
    assert.deepEqual(await budget.spend('customer-1', 'trigger-b'), { allowed: true, remaining: 0 });
    // Another customer has a budget of its own.
    assert.ok((await budget.spend('customer-2', 'trigger-a')).allowed);

    const perTenMinutes = await budget.spend('customer-1', 'trigger-c');
    assert.deepEqual(perTenMinutes, {
      allowed: false,
      retryAfterSeconds: 600,
      window: { limit: 2, windowSeconds: 600, kind: 'sliding' },
      reason: 'at most 2 codes per 10 minutes are sent to one customer',
    });
    advance(600);
    assert.ok((await budget.spend('customer-1', 'trigger-d')).allowed);
    advance(600);
    const perDay = await budget.spend('customer-1', 'trigger-e');
    assert.ok(!perDay.allowed);
    assert.equal(perDay.retryAfterSeconds, 86400 - 1200);
    assert.equal(perDay.reason, 'at most 3 codes per day are sent to one customer');
  });

  it('fails closed: a store that cannot answer is an error, never an allowance', async function () {
    const store = new MemoryLimitsStore();
    const budget = new SendBudget(store);
    await store.close();
    await assert.rejects(budget.spend('customer-1', 'trigger-a'), LimitsStoreUnavailableError);
  });
});

describe('limits settings', function () {
  const configError = (variable: string, pattern: RegExp, secret?: string) => (err: unknown) =>
    err instanceof ConfigError &&
    err.variable === variable &&
    pattern.test(err.message) &&
    (!secret || !err.message.includes(secret));

  it('defaults to the in-memory store, 5 codes per 10 minutes and 10 per day, and says so', function () {
    const settings = readLimitsSettings({});
    assert.equal(settings.redisUrl, undefined);
    assert.deepEqual(settings.sendBudget, defaultSendBudget);
    assert.deepEqual(defaultSendBudget, [
      { limit: 5, windowSeconds: 600 },
      { limit: 10, windowSeconds: 86400 },
    ]);
    assert.ok(createLimitsStore(settings) instanceof MemoryLimitsStore);
    assert.match(describeLimitsStore(settings), /this process's memory only \(LIMITS_REDIS_URL is unset\)/);
    assert.match(describeLimitsStore(settings), /5 per 10 minutes, 10 per day/);
  });

  it('reads the Redis URL, prefix and budget, and names the Redis server without its password', function () {
    const settings = readLimitsSettings({
      LIMITS_REDIS_URL: 'redis://:s3cret@limits.internal:6380/2',
      LIMITS_REDIS_PREFIX: 'brand-a:limits',
      SEND_BUDGET_PER_CUSTOMER: '3/300, 20/604800',
    });
    assert.equal(settings.redisPrefix, 'brand-a:limits');
    assert.deepEqual(settings.sendBudget, [
      { limit: 3, windowSeconds: 300 },
      { limit: 20, windowSeconds: 604800 },
    ]);
    const line = describeLimitsStore(settings);
    assert.match(line, /Redis at redis:\/\/limits\.internal:6380\/2 under "brand-a:limits:"/);
    assert.ok(!line.includes('s3cret'));
  });

  it('names the variable when a setting is malformed, without quoting a URL', function () {
    for (const budget of [
      '5',
      '5/0',
      '0/600',
      'five/600',
      '5/600,6/600',
      '1/1,2/2,3/3,4/4,5/5,6/6,7/7,8/8,9/9',
    ]) {
      assert.throws(
        () => readLimitsSettings({ SEND_BUDGET_PER_CUSTOMER: budget }),
        configError('SEND_BUDGET_PER_CUSTOMER', /<count>\/<seconds>/),
      );
    }
    assert.throws(
      () => readLimitsSettings({ LIMITS_REDIS_URL: 'http://:s3cret@limits.internal' }),
      configError('LIMITS_REDIS_URL', /redis:\/\/ or rediss:\/\//, 's3cret'),
    );
    assert.throws(
      () => readLimitsSettings({ LIMITS_REDIS_PREFIX: 'has space' }),
      configError('LIMITS_REDIS_PREFIX', /letters, digits/),
    );
    assert.throws(
      () => readLimitsSettings({ LIMITS_REDIS_TIMEOUT_MS: '0' }),
      configError('LIMITS_REDIS_TIMEOUT_MS', /whole number/),
    );
  });
});
