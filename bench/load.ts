/**
 * Closed-loop load: `concurrency` users each run one flow after another.
 *
 * Warm-up lasts at least `warmupMs` and until every user has finished a flow, so the measuring window
 * opens on a steady state even when one flow takes longer than the warm-up (200 users on a server that
 * finishes 20 flows a second each wait 10 s). The window lasts at least `measureMs` and until as many
 * flows as there are users have finished inside it. Throughput is the flows finished inside the window
 * over its length; latency covers every flow started inside it.
 */
import { performance } from 'node:perf_hooks';
import { summarise, type LatencySummary } from './stats.js';

export interface ClosedLoopOptions {
  concurrency: number;
  warmupMs: number;
  measureMs: number;
  /** work before the clock starts (a fresh customer); `n` numbers the flows of this run */
  prepare: (n: number) => Promise<string>;
  /** may answer the user-facing waits of the flow, in ms, summarised per name */
  flow: (prepared: string) => Promise<void | Record<string, number>>;
}

export interface LoadResult {
  concurrency: number;
  /** flows finished inside the measuring window */
  completed: number;
  failed: number;
  /** the first few distinct failure messages */
  failures: string[];
  flowsPerSecond: number;
  /** every flow that finished, warm-up and drain included (CPU figures are divided by it) */
  flowsFinished: number;
  latencyMs: LatencySummary;
  /** the waits the flows answered (e.g. codeSentMs, verdictMs), over the same flows as latencyMs */
  waitsMs: Record<string, LatencySummary>;
  warmupSeconds: number;
  measuredSeconds: number;
}

/** Ends a window that a wedged stack would otherwise keep open forever. */
const windowLimitFactor = 6;

export async function closedLoop(options: ClosedLoopOptions): Promise<LoadResult> {
  const { concurrency, warmupMs, measureMs } = options;
  const start = performance.now();
  let measureFrom: number | undefined;
  let measureUntil: number | undefined;
  const latencies: number[] = [];
  const waits = new Map<string, number[]>();
  const failures = new Set<string>();
  let completedInWindow = 0;
  let finished = 0;
  let failed = 0;
  let next = 0;

  /** Moves the phases on; answers whether users should start another flow. */
  const keepGoing = (now: number): boolean => {
    if (measureFrom === undefined) {
      if (now - start >= warmupMs && finished >= concurrency) measureFrom = now;
      // A stack that finishes nothing still gets measured (and shows 0), instead of warming up forever.
      else if (now - start >= warmupMs * windowLimitFactor + measureMs * windowLimitFactor) measureFrom = now;
      return true;
    }
    if (measureUntil !== undefined) return false;
    const open = now - measureFrom;
    if (open >= measureMs && (completedInWindow >= concurrency || open >= measureMs * windowLimitFactor)) {
      measureUntil = now;
      return false;
    }
    return true;
  };

  const user = async () => {
    while (keepGoing(performance.now())) {
      const n = next++;
      let began = performance.now();
      try {
        const prepared = await options.prepare(n);
        began = performance.now();
        const answered = await options.flow(prepared);
        const ended = performance.now();
        finished++;
        if (measureFrom !== undefined && began >= measureFrom) {
          latencies.push(ended - began);
          for (const [name, ms] of Object.entries(answered ?? {})) {
            waits.set(name, [...(waits.get(name) ?? []), ms]);
          }
        }
        if (measureFrom !== undefined && measureUntil === undefined && ended >= measureFrom)
          completedInWindow++;
      } catch (err) {
        if (measureFrom !== undefined && began >= measureFrom) failed++;
        if (failures.size < 5) failures.add((err as Error).message.slice(0, 200));
        // A broken stack would otherwise spin; a short pause keeps a failing run readable.
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, user));

  const from = measureFrom ?? start;
  const windowMs = (measureUntil ?? performance.now()) - from;
  return {
    concurrency,
    completed: completedInWindow,
    failed,
    failures: [...failures],
    flowsPerSecond: Math.round((completedInWindow / (windowMs / 1000)) * 10) / 10,
    flowsFinished: finished,
    latencyMs: summarise(latencies),
    waitsMs: Object.fromEntries([...waits].map(([name, values]) => [name, summarise(values)])),
    warmupSeconds: Math.round(from - start) / 1000,
    measuredSeconds: Math.round(windowMs) / 1000,
  };
}

/** Runs `task` over `items` with at most `limit` in flight; resolves when all have settled. */
export async function inPool<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const runner = async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
}
