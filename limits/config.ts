/**
 * The limits' settings, read once at start: where the counters live and the send budget. Every process
 * that counts (the worker for the send budget, each HTTP replica for its request limits) reads the same
 * variables, so they share one store when `LIMITS_REDIS_URL` is set.
 */
import { ConfigError } from '../config/errors.js';
import { listEntries, readInt, readString, type Env } from '../config/settings.js';
import { MemoryLimitsStore } from './memory-store.js';
import {
  defaultRedisPrefix,
  defaultRedisTimeoutMs,
  RedisLimitsStore,
  type RedisLimitsStoreOptions,
} from './redis-store.js';
import { defaultSendBudget } from './send-budget.js';
import { describeWindow, maxSlidingLimit, maxWindows, maxWindowSeconds, type LimitWindow } from './store.js';

export interface LimitsSettings {
  /** unset: counters in each process's memory (the embedded default) */
  redisUrl?: string;
  redisPrefix: string;
  redisTimeoutMs: number;
  sendBudget: readonly LimitWindow[];
}

export function readLimitsSettings(env: Env = process.env): LimitsSettings {
  const redisUrl = readString(env, 'LIMITS_REDIS_URL');
  if (redisUrl !== undefined) checkRedisUrl(redisUrl, 'LIMITS_REDIS_URL');
  const redisPrefix = readString(env, 'LIMITS_REDIS_PREFIX', defaultRedisPrefix);
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(redisPrefix)) {
    throw new ConfigError(
      'LIMITS_REDIS_PREFIX',
      `must be 1 to 64 letters, digits and _ . : -, got "${redisPrefix}"`,
    );
  }
  return {
    ...(redisUrl !== undefined ? { redisUrl } : {}),
    redisPrefix,
    redisTimeoutMs: readInt(env, 'LIMITS_REDIS_TIMEOUT_MS', defaultRedisTimeoutMs, { min: 50, max: 10_000 }),
    sendBudget: readWindows(env, 'SEND_BUDGET_PER_CUSTOMER', defaultSendBudget),
  };
}

/**
 * `<count>/<seconds>` entries separated by commas, such as `5/600,10/86400`: every window applies at once.
 * The same shape as the HTTP service's `HTTP_LIMIT_*` settings, with more than one window allowed.
 */
export function readWindows(
  env: Env,
  name: string,
  fallback: readonly LimitWindow[],
): readonly LimitWindow[] {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  const problem = `must be <count>/<seconds> entries separated by commas, such as 5/600,10/86400 (at most ${maxWindows}, each count 1 to ${maxSlidingLimit}, each window 1 to ${maxWindowSeconds} s, no window length twice), got "${raw}"`;
  const entries = listEntries(raw);
  if (entries.length === 0 || entries.length > maxWindows) throw new ConfigError(name, problem);
  const windows = entries.map((entry) => {
    const match = /^(\d{1,9})\s*\/\s*(\d{1,9})$/.exec(entry);
    const limit = Number(match?.[1]);
    const windowSeconds = Number(match?.[2]);
    if (
      !match ||
      limit < 1 ||
      limit > maxSlidingLimit ||
      windowSeconds < 1 ||
      windowSeconds > maxWindowSeconds
    ) {
      throw new ConfigError(name, problem);
    }
    return { limit, windowSeconds };
  });
  if (new Set(windows.map((w) => w.windowSeconds)).size !== windows.length)
    throw new ConfigError(name, problem);
  return windows;
}

/** A URL can carry the server's password, so the error does not quote it. */
function checkRedisUrl(value: string, variable: string): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['redis:', 'rediss:'].includes(url.protocol) || !url.hostname) {
    throw new ConfigError(
      variable,
      'must be a redis:// or rediss:// URL such as redis://limits.internal:6379/0',
    );
  }
}

export type CreateLimitsStoreOptions = Pick<RedisLimitsStoreOptions, 'onStateChange'>;

/** The store the settings name: Redis when `LIMITS_REDIS_URL` is set, else this process's memory. */
export function createLimitsStore(
  settings: LimitsSettings,
  options: CreateLimitsStoreOptions = {},
): MemoryLimitsStore | RedisLimitsStore {
  if (settings.redisUrl === undefined) return new MemoryLimitsStore();
  return new RedisLimitsStore({
    url: settings.redisUrl,
    prefix: settings.redisPrefix,
    timeoutMs: settings.redisTimeoutMs,
    ...options,
  });
}

/**
 * One line for a process's start-up log saying where the limits count, so an operator running several
 * replicas on the in-memory default sees that each counts alone. No credentials from the URL.
 */
export function describeLimitsStore(settings: LimitsSettings): string {
  const budget = `send budget per customer (codes): ${settings.sendBudget.map(describeWindow).join(', ')}`;
  if (settings.redisUrl === undefined) {
    return `limits count in this process's memory only (LIMITS_REDIS_URL is unset): each replica counts on its own and a restart forgets the counts; ${budget}`;
  }
  const url = new URL(settings.redisUrl);
  const where = `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  return `limits count in Redis at ${where} under "${settings.redisPrefix}:", shared by every replica; ${budget}`;
}
