/**
 * Counters in a Redis-protocol server, shared by every replica and kept across their restarts. Each
 * operation is one Lua script, so the check and the count happen in one step on the server: two replicas
 * hitting the same key at the same moment cannot both see the last free place. The server's clock (TIME)
 * dates every event, so replicas whose clocks drift still agree on the windows.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  checkRequest,
  LimitsStoreUnavailableError,
  retryAfterSeconds,
  type HitOptions,
  type LimitDecision,
  type LimitsStore,
  type LimitWindow,
} from './store.js';

export interface RedisLimitsStoreOptions {
  /** redis:// or rediss:// (TLS), with credentials and database when the server needs them */
  url: string;
  /** the namespace of every key this store writes, so one server can be shared with other users */
  prefix?: string;
  /**
   * The most a call waits for a connection being made, and then for its command: a call answers within
   * twice this, with `LimitsStoreUnavailableError` when the server did not, so a route that counts still
   * answers within its own bound.
   */
  timeoutMs?: number;
  /** Told when the store becomes unreachable and when it is back, once per change (for the log). */
  onStateChange?: (state: 'unavailable' | 'ready', err?: Error) => void;
}

export const defaultRedisPrefix = 'dws-verify:limits';
/** Well inside the HTTP service's 10 s answer bound, and far above a healthy server's milliseconds. */
export const defaultRedisTimeoutMs = 1000;

const prefixPattern = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The longest key this store writes: the prefix, two base64url SHA-256 digests and the separators. */
export function maxRedisKeyLength(prefix: string = defaultRedisPrefix): number {
  return prefix.length + ':{}:id:'.length + 2 * 43;
}

// KEYS: one counter per window, then the id's record when ARGV[2] is '1'.
// ARGV: the number of windows, '1' when the hit has an id, the member a sliding entry is stored as, then
// per window its limit, its length in ms and its kind ('s' sliding, 'f' fixed).
// Answers {1, remaining, 0} or {0, ms until every window has room, the index of the window that waits longest}.
const commonLua = `
local n = tonumber(ARGV[1])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local function window(i)
  return tonumber(ARGV[1 + i * 3]), tonumber(ARGV[2 + i * 3]), ARGV[3 + i * 3]
end
local function fixedWait(key, windowMs)
  local left = redis.call('PTTL', key)
  if left < 1 then return windowMs end
  return left
end
`;

const hitLua = `${commonLua}
local hasId = ARGV[2] == '1'
if hasId then
  local seen = redis.call('GET', KEYS[n + 1])
  if seen then
    local allowed, a, b = string.match(seen, '^(%d):(%d+):?(%d*)$')
    if allowed == '1' then return {1, tonumber(a), 0} end
    return {0, tonumber(a) - now, tonumber(b)}
  end
end
local counts = {}
local waitMs, waitIndex = 0, 0
for i = 1, n do
  local limit, windowMs, kind = window(i)
  local key = KEYS[i]
  local count, wait = 0, 0
  if kind == 's' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - windowMs)
    count = redis.call('ZCARD', key)
    if count >= limit then
      local entry = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
      wait = tonumber(entry[2]) + windowMs - now
    end
  else
    count = tonumber(redis.call('GET', key) or '0')
    if count >= limit then wait = fixedWait(key, windowMs) end
  end
  counts[i] = count
  if wait > waitMs then waitMs, waitIndex = wait, i end
end
if waitIndex > 0 then
  if hasId then
    redis.call('SET', KEYS[n + 1], string.format('0:%d:%d', now + waitMs, waitIndex), 'PX', waitMs)
  end
  return {0, waitMs, waitIndex}
end
local remaining, longest = nil, 0
for i = 1, n do
  local limit, windowMs, kind = window(i)
  local key = KEYS[i]
  if kind == 's' then
    redis.call('ZADD', key, now, ARGV[3])
    redis.call('PEXPIRE', key, windowMs)
  elseif redis.call('INCR', key) == 1 then
    redis.call('PEXPIRE', key, windowMs)
  end
  local left = limit - counts[i] - 1
  if remaining == nil or left < remaining then remaining = left end
  if windowMs > longest then longest = windowMs end
end
if hasId then redis.call('SET', KEYS[n + 1], string.format('1:%d', remaining), 'PX', longest) end
return {1, remaining, 0}
`;

const peekLua = `${commonLua}
local remaining = nil
local waitMs, waitIndex = 0, 0
for i = 1, n do
  local limit, windowMs, kind = window(i)
  local key = KEYS[i]
  local count, wait = 0, 0
  if kind == 's' then
    local after = '(' .. string.format('%d', now - windowMs)
    count = redis.call('ZCOUNT', key, after, '+inf')
    if count >= limit then
      local entry = redis.call('ZRANGEBYSCORE', key, after, '+inf', 'WITHSCORES', 'LIMIT', count - limit, 1)
      wait = tonumber(entry[2]) + windowMs - now
    end
  else
    count = tonumber(redis.call('GET', key) or '0')
    if count >= limit then wait = fixedWait(key, windowMs) end
  end
  if wait > waitMs then waitMs, waitIndex = wait, i end
  if remaining == nil or limit - count < remaining then remaining = limit - count end
end
if waitIndex > 0 then return {0, waitMs, waitIndex} end
return {1, remaining, 0}
`;

type ScriptReply = [number, number, number];

interface LimitsScripts {
  limitsHit(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<ScriptReply>;
  limitsPeek(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<ScriptReply>;
}

/** A digest as key material: fixed length whatever the input, and no customer id stored in the clear. */
function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

export class RedisLimitsStore implements LimitsStore {
  readonly kind = 'redis';
  readonly prefix: string;
  readonly #redis: Redis;
  readonly #scripts: LimitsScripts;
  readonly #timeoutMs: number;
  #available = true;
  #connecting: Promise<void> | undefined;
  #closed = false;
  #lastError: Error | undefined;

  constructor(options: RedisLimitsStoreOptions) {
    this.prefix = options.prefix ?? defaultRedisPrefix;
    if (!prefixPattern.test(this.prefix)) {
      throw new RangeError('a limits key prefix is 1 to 64 letters, digits and _ . : -');
    }
    const timeoutMs = options.timeoutMs ?? defaultRedisTimeoutMs;
    this.#timeoutMs = timeoutMs;
    this.#redis = new Redis(options.url, {
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      // While disconnected a call fails at once instead of waiting in a queue for a server that may not
      // come back; the caller's own policy decides what an outage means.
      enableOfflineQueue: false,
      // A hit is not idempotent without an id: a command resent after a reconnect could count twice.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // Reconnects quickly and forever: the store is back as soon as the server is.
      retryStrategy: (times) => Math.min(times * 100, 1000),
      connectionName: 'dws-verify-limits',
      scripts: {
        limitsHit: { lua: hitLua },
        limitsPeek: { lua: peekLua, readOnly: true },
      },
    });
    this.#scripts = this.#redis as unknown as LimitsScripts;
    // Without a listener ioredis prints every failed reconnect; the state change is what a log needs.
    this.#redis.on('error', (err: Error) => {
      this.#lastError = err;
      if (this.#available) {
        this.#available = false;
        options.onStateChange?.('unavailable', err);
      }
    });
    this.#redis.on('ready', () => {
      if (!this.#available) {
        this.#available = true;
        options.onStateChange?.('ready');
      }
    });
  }

  async hit(key: string, windows: readonly LimitWindow[], options: HitOptions = {}): Promise<LimitDecision> {
    checkRequest(key, windows, options.id);
    const keys = this.#keys(key, windows);
    if (options.id !== undefined) keys.push(`${this.#base(key)}:id:${digest(options.id)}`);
    const member = randomBytes(12).toString('base64url');
    const reply = await this.#call(() =>
      this.#scripts.limitsHit(keys.length, ...keys, ...scriptArgs(windows, options.id !== undefined, member)),
    );
    return decision(reply, windows);
  }

  async peek(key: string, windows: readonly LimitWindow[]): Promise<LimitDecision> {
    checkRequest(key, windows);
    const keys = this.#keys(key, windows);
    const reply = await this.#call(() =>
      this.#scripts.limitsPeek(keys.length, ...keys, ...scriptArgs(windows, false, '')),
    );
    return decision(reply, windows);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#redis.quit();
    } catch {
      // Not connected: nothing to say goodbye to.
      this.#redis.disconnect();
    }
  }

  /**
   * All of a key's counters share one hash tag (`{...}`), so a Redis Cluster keeps them in one slot and
   * the script may touch them together.
   */
  #base(key: string): string {
    return `${this.prefix}:{${digest(key)}}`;
  }

  #keys(key: string, windows: readonly LimitWindow[]): string[] {
    const base = this.#base(key);
    return windows.map((w) => `${base}:${(w.kind ?? 'sliding') === 'sliding' ? 's' : 'f'}${w.windowSeconds}`);
  }

  /**
   * Waits (up to the timeout) for a connection that is still being made, so a replica's first calls after
   * start are not refused; once the store has seen the server go away, calls fail at once until it is
   * back rather than each waiting out the timeout during an outage.
   */
  async #connected(): Promise<void> {
    if (this.#redis.status === 'ready' || !this.#available) return;
    // One wait shared by every call that arrives meanwhile: a burst at start adds no listener per call.
    this.#connecting ??= new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#redis.off('ready', done);
        this.#redis.off('error', done);
        this.#connecting = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.#timeoutMs);
      this.#redis.once('ready', done);
      this.#redis.once('error', done);
    });
    await this.#connecting;
  }

  async #call(command: () => Promise<ScriptReply>): Promise<ScriptReply> {
    if (this.#closed) throw new LimitsStoreUnavailableError('the Redis limits store is closed');
    try {
      await this.#connected();
      return await command();
    } catch (err) {
      const reason = (err as Error).message;
      const last =
        this.#lastError && this.#lastError.message !== reason ? ` (${this.#lastError.message})` : '';
      throw new LimitsStoreUnavailableError(`the Redis limits store did not answer: ${reason}${last}`, {
        cause: err,
      });
    }
  }
}

function scriptArgs(windows: readonly LimitWindow[], hasId: boolean, member: string): Array<string | number> {
  return [
    windows.length,
    hasId ? '1' : '0',
    member,
    ...windows.flatMap((w) => [
      w.limit,
      w.windowSeconds * 1000,
      (w.kind ?? 'sliding') === 'sliding' ? 's' : 'f',
    ]),
  ];
}

function decision(reply: ScriptReply, windows: readonly LimitWindow[]): LimitDecision {
  const [allowed, value, windowNumber] = reply.map(Number) as ScriptReply;
  if (allowed === 1) return { allowed: true, remaining: value };
  // A remembered refusal names its window by position; one from a changed configuration may be gone.
  const window = windows[windowNumber - 1] ?? windows[0]!;
  return { allowed: false, retryAfterSeconds: retryAfterSeconds(value), window };
}
