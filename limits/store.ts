/**
 * The contract of a counter store: events counted against windows, shared by every process that uses the
 * same store. The in-process store (memory-store.ts) is the embedded default; the Redis one
 * (redis-store.ts) is what makes a limit hold across replicas and restarts. Both answer the same way for
 * the same sequence of calls, so a caller never needs to know which one it has.
 */

/**
 * `limit` events per `windowSeconds`. A sliding window (the default) counts the events of the last
 * `windowSeconds`, exactly: no burst of twice the limit across a window's edge, and a Retry-After that is
 * the moment the oldest counted event leaves the window. It keeps one entry per counted event, so it
 * suits small limits (codes, attempts). A fixed window keeps one number: it starts at the first event and
 * resets `windowSeconds` later, for the large limits (requests per caller per minute) where an entry per
 * event would cost more than the precision is worth.
 */
export interface LimitWindow {
  limit: number;
  windowSeconds: number;
  kind?: 'sliding' | 'fixed';
}

export type LimitDecision =
  | {
      allowed: true;
      /** events still allowed right now: the smallest margin of all windows */
      remaining: number;
    }
  | {
      allowed: false;
      /** whole seconds (at least 1) until every window has room again: the value of a Retry-After */
      retryAfterSeconds: number;
      /** the window that is full for longest, to say why */
      window: LimitWindow;
    };

export interface HitOptions {
  /**
   * The event's own id (a send's id, an idempotency key). A second hit with the same id is answered as the
   * first one was and counted once: an allowed answer is remembered for the longest window, a refusal
   * until its Retry-After has passed (after that the id is judged afresh, so "retry in N s" stays true).
   */
  id?: string;
}

export interface LimitsStore {
  /** 'memory' counts in this process only; 'redis' counts for every process on the same server */
  readonly kind: 'memory' | 'redis';
  /**
   * Counts one event under `key` against every window at once, or none of them: refused when any window
   * is full, and a refused hit is not counted (a caller that keeps knocking does not push its own
   * Retry-After further away). Throws `LimitsStoreUnavailableError` when the store cannot answer.
   */
  hit(key: string, windows: readonly LimitWindow[], options?: HitOptions): Promise<LimitDecision>;
  /** What `hit` would answer now, without counting. */
  peek(key: string, windows: readonly LimitWindow[]): Promise<LimitDecision>;
  close(): Promise<void>;
}

/**
 * The store could not answer (unreachable, too slow, out of memory, closed). Whether the guarded action
 * goes ahead is the caller's decision: fail closed where the action costs money or protects a secret
 * (sending a code, checking a code), open only where the limit is a courtesy. See limits/README.md.
 */
export class LimitsStoreUnavailableError extends Error {
  override readonly name = 'LimitsStoreUnavailableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A key or id the store refuses to count: empty or longer than the bounds below. Keys come from requests,
 * so this is the caller's validation missing, not an outage; it never means "allowed".
 */
export class LimitKeyError extends RangeError {
  override readonly name = 'LimitKeyError';
}

/** Longer than any key a caller builds from validated ids (a customer id is at most 64 characters). */
export const maxKeyLength = 256;
export const maxIdLength = 128;
/** More windows than any policy needs; each costs a counter per key. */
export const maxWindows = 8;
/** A month: longer windows belong in a database with an audit trail, not in a counter. */
export const maxWindowSeconds = 31 * 24 * 60 * 60;
/** Bounds a sliding window's entries per key (one per counted event). */
export const maxSlidingLimit = 10_000;
export const maxFixedLimit = 1_000_000_000;

/**
 * The checks both stores make before they count, so a bad call fails the same way on either: an invalid
 * key or id throws `LimitKeyError`, an invalid window (a programming or configuration mistake) RangeError.
 */
export function checkRequest(key: string, windows: readonly LimitWindow[], id?: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > maxKeyLength) {
    throw new LimitKeyError(`a limits key must be 1 to ${maxKeyLength} characters`);
  }
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > maxIdLength)) {
    throw new LimitKeyError(`a hit's id must be 1 to ${maxIdLength} characters`);
  }
  if (windows.length === 0 || windows.length > maxWindows) {
    throw new RangeError(`a hit needs 1 to ${maxWindows} windows, got ${windows.length}`);
  }
  const counters = new Set<string>();
  for (const window of windows) {
    const kind = window.kind ?? 'sliding';
    // Both would share one counter and the event would be counted twice on it.
    if (counters.has(`${kind}/${window.windowSeconds}`)) {
      throw new RangeError(`two ${kind} windows of ${window.windowSeconds} s in one hit`);
    }
    counters.add(`${kind}/${window.windowSeconds}`);
    const maxLimit = kind === 'sliding' ? maxSlidingLimit : maxFixedLimit;
    if (!Number.isInteger(window.limit) || window.limit < 1 || window.limit > maxLimit) {
      throw new RangeError(`a ${kind} window's limit must be a whole number from 1 to ${maxLimit}`);
    }
    if (
      !Number.isInteger(window.windowSeconds) ||
      window.windowSeconds < 1 ||
      window.windowSeconds > maxWindowSeconds
    ) {
      throw new RangeError(`a window must last 1 to ${maxWindowSeconds} whole seconds`);
    }
  }
}

/** The Retry-After for a wait in milliseconds: whole seconds, rounded up, never 0 (0 means "now"). */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

/** "5 per 10 minutes": a window as a person reads it, for refusal messages and start-up logs. */
export function describeWindow(window: LimitWindow): string {
  return `${window.limit} per ${describeSeconds(window.windowSeconds)}`;
}

function describeSeconds(seconds: number): string {
  const units: Array<[number, string]> = [
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    if (seconds % size === 0) {
      const count = seconds / size;
      return count === 1 ? name : `${count} ${name}s`;
    }
  }
  return seconds === 1 ? 'second' : `${seconds} seconds`;
}
