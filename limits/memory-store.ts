/**
 * The embedded default: counters in this process's memory. Each replica counts on its own and a restart
 * forgets everything, so a limit of 5 is 5 per replica per process lifetime; `LIMITS_REDIS_URL` is the
 * production answer (limits/README.md).
 */
import {
  checkRequest,
  LimitsStoreUnavailableError,
  retryAfterSeconds,
  type HitOptions,
  type LimitDecision,
  type LimitsStore,
  type LimitWindow,
} from './store.js';

export interface MemoryLimitsStoreOptions {
  /**
   * Counters (one per key and window) and remembered ids kept at most. Past it, a hit that needs a new
   * entry throws `LimitsStoreUnavailableError` while the existing ones keep counting (see `reserve`).
   */
  maxEntries?: number;
  /** the clock, in epoch milliseconds (tests move it instead of sleeping) */
  now?: () => number;
}

/** Room for a busy single-process deployment: about 100 bytes per sliding entry, so tens of megabytes. */
export const defaultMaxEntries = 100_000;

// Expired entries are dropped on a schedule rather than on every call, so a call costs O(windows).
const sweepEveryMs = 10_000;
// When full, a sweep is tried at most this often: a flood of new keys must not make every call O(entries).
const sweepWhenFullEveryMs = 1_000;

type Counter =
  | { kind: 'sliding'; times: number[]; expiresAt: number }
  | { kind: 'fixed'; count: number; expiresAt: number };

type Remembered =
  | { allowed: true; remaining: number; expiresAt: number }
  | { allowed: false; retryAt: number; window: LimitWindow; expiresAt: number };

interface Evaluation {
  window: LimitWindow;
  counterKey: string;
  counter: Counter | undefined;
  count: number;
  /** ms until this window has room; 0 when it has room now */
  waitMs: number;
}

export class MemoryLimitsStore implements LimitsStore {
  readonly kind = 'memory';
  readonly #counters = new Map<string, Counter>();
  readonly #ids = new Map<string, Remembered>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  #nextSweepAt = 0;
  #lastSweepAt = Number.NEGATIVE_INFINITY;
  #closed = false;

  constructor(options: MemoryLimitsStoreOptions = {}) {
    this.#maxEntries = options.maxEntries ?? defaultMaxEntries;
    this.#now = options.now ?? Date.now;
  }

  /** Entries held now (counters and remembered ids), to show that expired ones are dropped. */
  get size(): number {
    return this.#counters.size + this.#ids.size;
  }

  async hit(key: string, windows: readonly LimitWindow[], options: HitOptions = {}): Promise<LimitDecision> {
    this.#open();
    checkRequest(key, windows, options.id);
    const now = this.#now();
    this.#sweepIfDue(now);
    const idKey = options.id === undefined ? undefined : `${key.length}:${key}${options.id}`;
    const seen = idKey === undefined ? undefined : this.#ids.get(idKey);
    if (seen && seen.expiresAt > now) {
      return seen.allowed
        ? { allowed: true, remaining: seen.remaining }
        : { allowed: false, retryAfterSeconds: retryAfterSeconds(seen.retryAt - now), window: seen.window };
    }

    const evaluations = windows.map((window) => this.#evaluate(key, window, now));
    const refusal = longestWait(evaluations);
    if (refusal) {
      // A refusal that cannot be remembered for want of room is judged afresh on a retry, which is
      // what happens to it anyway once its Retry-After has passed.
      if (idKey !== undefined && this.#reserve(this.#ids.has(idKey) ? 0 : 1, now)) {
        const retryAt = now + refusal.waitMs;
        this.#ids.set(idKey, { allowed: false, retryAt, window: refusal.window, expiresAt: retryAt });
      }
      return {
        allowed: false,
        retryAfterSeconds: retryAfterSeconds(refusal.waitMs),
        window: refusal.window,
      };
    }

    const newCounters = evaluations.filter((e) => e.counter === undefined).length;
    const newIds = idKey !== undefined && !this.#ids.has(idKey) ? 1 : 0;
    if (!this.#reserve(newCounters + newIds, now)) {
      throw new LimitsStoreUnavailableError(
        `the in-memory limits store holds its maximum of ${this.#maxEntries} live counters; a new key cannot be counted until some expire`,
      );
    }
    let remaining = Number.POSITIVE_INFINITY;
    let longestMs = 0;
    for (const { window, counterKey, counter, count } of evaluations) {
      const windowMs = window.windowSeconds * 1000;
      longestMs = Math.max(longestMs, windowMs);
      if (counter?.kind === 'sliding') {
        counter.times.push(now);
        counter.expiresAt = now + windowMs;
      } else if (counter?.kind === 'fixed') {
        counter.count += 1;
      } else if ((window.kind ?? 'sliding') === 'sliding') {
        this.#counters.set(counterKey, { kind: 'sliding', times: [now], expiresAt: now + windowMs });
      } else {
        this.#counters.set(counterKey, { kind: 'fixed', count: 1, expiresAt: now + windowMs });
      }
      remaining = Math.min(remaining, window.limit - count - 1);
    }
    if (idKey !== undefined) this.#ids.set(idKey, { allowed: true, remaining, expiresAt: now + longestMs });
    return { allowed: true, remaining };
  }

  async peek(key: string, windows: readonly LimitWindow[]): Promise<LimitDecision> {
    this.#open();
    checkRequest(key, windows);
    const now = this.#now();
    const evaluations = windows.map((window) => this.#evaluate(key, window, now));
    const refusal = longestWait(evaluations);
    if (refusal) {
      return {
        allowed: false,
        retryAfterSeconds: retryAfterSeconds(refusal.waitMs),
        window: refusal.window,
      };
    }
    return { allowed: true, remaining: Math.min(...evaluations.map((e) => e.window.limit - e.count)) };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#counters.clear();
    this.#ids.clear();
  }

  #open(): void {
    if (this.#closed) throw new LimitsStoreUnavailableError('the in-memory limits store is closed');
  }

  /** The window's live count at `now`, with the events that have left it dropped. */
  #evaluate(key: string, window: LimitWindow, now: number): Evaluation {
    const kind = window.kind ?? 'sliding';
    const windowMs = window.windowSeconds * 1000;
    // Same key and length, same counter, whatever the limit: a lowered limit applies to what was counted.
    const counterKey = `${kind === 'sliding' ? 's' : 'f'}${window.windowSeconds}:${key}`;
    let counter = this.#counters.get(counterKey);
    if (counter && counter.expiresAt <= now) {
      this.#counters.delete(counterKey);
      counter = undefined;
    }
    if (!counter) return { window, counterKey, counter, count: 0, waitMs: 0 };
    if (counter.kind === 'fixed') {
      const waitMs = counter.count >= window.limit ? counter.expiresAt - now : 0;
      return { window, counterKey, counter, count: counter.count, waitMs };
    }
    const firstLive = counter.times.findIndex((time) => time > now - windowMs);
    counter.times.splice(0, firstLive === -1 ? counter.times.length : firstLive);
    const count = counter.times.length;
    // Room comes back when the event `count - limit + 1` places from the end leaves the window.
    const waitMs = count >= window.limit ? counter.times[count - window.limit]! + windowMs - now : 0;
    return { window, counterKey, counter, count, waitMs };
  }

  /**
   * Whether `count` new entries fit. A full store refuses new keys instead of evicting live counters:
   * evicting one silently resets somebody's limit, and the keys an attacker controls are exactly the ones
   * that would push a victim's counter out (the LRU hole of issue 22). An outage the caller handles by its
   * own policy is the honest answer; counting resumes as entries expire.
   */
  #reserve(count: number, now: number): boolean {
    if (this.size + count <= this.#maxEntries) return true;
    if (now - this.#lastSweepAt >= sweepWhenFullEveryMs) this.#sweep(now);
    return this.size + count <= this.#maxEntries;
  }

  #sweepIfDue(now: number): void {
    if (now >= this.#nextSweepAt) this.#sweep(now);
  }

  #sweep(now: number): void {
    for (const [counterKey, counter] of this.#counters) {
      if (counter.expiresAt <= now) this.#counters.delete(counterKey);
    }
    for (const [idKey, remembered] of this.#ids) {
      if (remembered.expiresAt <= now) this.#ids.delete(idKey);
    }
    this.#lastSweepAt = now;
    this.#nextSweepAt = now + sweepEveryMs;
  }
}

/** The full window that stays full longest, or undefined when every window has room. */
function longestWait(evaluations: Evaluation[]): Evaluation | undefined {
  let longest: Evaluation | undefined;
  for (const evaluation of evaluations) {
    if (evaluation.waitMs > 0 && (!longest || evaluation.waitMs > longest.waitMs)) longest = evaluation;
  }
  return longest;
}
