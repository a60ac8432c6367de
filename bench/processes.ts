/**
 * The bench's child processes (sandbox, workers) and what it reads about every process it measures:
 * resident memory and CPU time from /proc, so each figure belongs to one process and no other.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { spawnNode, stopProcess } from '../scripts/processes.js';

export interface NodeChild {
  name: string;
  pid: number;
  process: ChildProcess;
  /** SIGTERM, then SIGKILL after 30 s */
  stop(): Promise<void>;
}

export interface BenchChildOptions {
  name: string;
  /** a .ts file, run under tsx's loader in the child itself so its pid is the one measured; or a .js file */
  entry: string;
  env: NodeJS.ProcessEnv;
  /** stdout and stderr go here, not to the bench's own output */
  logFile: string;
  onMessage?: (message: unknown) => void;
  /** the Node binary and the checkout to run from (bench/levers.ts compares both) */
  node?: string;
  cwd?: string;
}

export function spawnBenchChild(options: BenchChildOptions): NodeChild {
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawnNode(options.entry, {
    env: options.env,
    ipc: true,
    ...(options.node ? { node: options.node } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  if (options.onMessage) child.on('message', options.onMessage);
  if (child.pid === undefined) throw new Error(`${options.name} did not start`);
  killOnExit(child);
  let stopping: Promise<void> | undefined;
  const stop = async () => {
    await stopProcess(child, { graceMs: 30_000 });
    await new Promise<void>((done) => log.end(done));
  };
  return { name: options.name, pid: child.pid, process: child, stop: () => (stopping ??= stop()) };
}

const running = new Set<ChildProcess>();
const runningElsewhere = new Set<() => number | undefined>();
// A bench stopped by an error, Ctrl-C or SIGTERM leaves no server, worker or sandbox behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const pidOf of runningElsewhere) {
    const pid = pidOf();
    if (pid === undefined) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

/** Ends `child` with the bench, however the bench ends (for children this module did not spawn). */
export function killOnExit(child: ChildProcess): void {
  if (child.exitCode !== null) return;
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/**
 * The same for a process another module spawned and keeps to itself (the cluster's server and database),
 * by its current pid; returns the function that forgets it once it has been stopped properly.
 */
export function killPidOnExit(pidOf: () => number | undefined): () => void {
  runningElsewhere.add(pidOf);
  return () => runningElsewhere.delete(pidOf);
}

/** Resolves with the first IPC message `accept` recognises; rejects if the child exits first or is too slow. */
export function waitForMessage<T>(
  child: NodeChild,
  accept: (message: unknown) => T | undefined,
  timeoutMs: number,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(`${child.name} was not ready within ${timeoutMs / 1000} s (see its log under .bench/)`),
      );
    }, timeoutMs);
    const onMessage = (message: unknown) => {
      const value = accept(message);
      if (value === undefined) return;
      cleanup();
      resolve(value);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(
        new Error(`${child.name} exited with code ${code} before it was ready (see its log under .bench/)`),
      );
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.process.off('message', onMessage);
      child.process.off('exit', onExit);
    };
    child.process.on('message', onMessage);
    child.process.once('exit', onExit);
  });
}

// USER_HZ: the unit of utime/stime in /proc/<pid>/stat; 100 on every Linux this runs on.
const clockTicksPerSecond = 100;

/**
 * What a figure is taken of: one process, or a process with all its descendants, as PostgreSQL is (a
 * postmaster with one child per connection and a few of its own).
 */
export type Measured = number | { tree: number };

/** The fields of /proc/<pid>/stat after the command name, which may itself hold spaces. */
function statFields(pid: number, file = `/proc/${pid}/stat`): string[] | undefined {
  try {
    const stat = readFileSync(file, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The process and every live descendant of it. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    // ppid is field 4 of the whole line, so 1 after the name.
    const parent = Number(statFields(Number(entry))?.[1]);
    if (!Number.isFinite(parent)) continue;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent)!.push(Number(entry));
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** Resident set size now, in bytes; undefined once the process is gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Memory of a process tree, in bytes: the sum of proportional set sizes, so the shared memory every
 * PostgreSQL backend maps (its buffer pool) is counted once, not once per connection.
 */
function treeProportionalBytes(root: number): number | undefined {
  let total = 0;
  let seen = false;
  for (const pid of processTree(root)) {
    try {
      const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (match) {
        total += Number(match[1]) * 1024;
        seen = true;
      }
    } catch {
      // gone between the listing and the read
    }
  }
  return seen ? total : undefined;
}

/** User plus system CPU time the process has used so far, in seconds. */
export function cpuSeconds(pid: number): number | undefined {
  const fields = statFields(pid);
  // utime and stime are fields 14 and 15 of the whole line, so 12 and 13 after the name.
  return fields ? (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond : undefined;
}

/**
 * CPU time of a process tree so far: every live member's own time plus the time of the members that
 * have ended (cutime and cstime of whoever reaped them), so a backend that came and went still counts.
 */
function treeCpuSeconds(root: number): number | undefined {
  let ticks = 0;
  let seen = false;
  for (const pid of processTree(root)) {
    const fields = statFields(pid);
    if (!fields) continue;
    seen = true;
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return seen ? ticks / clockTicksPerSecond : undefined;
}

/**
 * CPU seconds so far of a Node worker process's threads, by what they run: the main thread (activities,
 * the SDK's TypeScript side), Node's other threads (the workflow thread, tsx's loader), SDK Core's
 * native threads (tokio and its workflow-processing thread), and libuv's pool.
 */
export function threadCpuSeconds(pid: number): Record<string, number> {
  const byRole: Record<string, number> = {};
  const readOr = <T>(read: () => T, otherwise: T): T => {
    try {
      return read();
    } catch {
      return otherwise;
    }
  };
  for (const tid of readOr(() => readdirSync(`/proc/${pid}/task`), [] as string[])) {
    // /proc/<tid>/stat would read the whole process; the task folder holds the thread's own.
    const fields = statFields(pid, `/proc/${pid}/task/${tid}/stat`);
    const name = readOr(() => readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim(), undefined);
    if (!fields || name === undefined) continue;
    const role =
      Number(tid) === pid
        ? 'main'
        : /^(tokio|workflow-proces)/.test(name)
          ? 'core'
          : /^libuv/.test(name)
            ? 'libuv'
            : name === 'node'
              ? 'node threads'
              : 'other';
    byRole[role] = (byRole[role] ?? 0) + (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
  }
  return byRole;
}

function memoryOf(measured: Measured): number | undefined {
  return typeof measured === 'number' ? residentBytes(measured) : treeProportionalBytes(measured.tree);
}

export function cpuOf(measured: Measured): number | undefined {
  return typeof measured === 'number' ? cpuSeconds(measured) : treeCpuSeconds(measured.tree);
}

export interface ProcessUsage {
  peakRssMb: number;
  cpuSeconds: number;
}

/**
 * Samples each named process's RSS while a case runs and takes the difference of its CPU time. Peaks are
 * per case: VmHWM would carry the peak of an earlier case along.
 */
export class UsageSampler {
  readonly #pids: Map<string, Measured>;
  readonly #peak = new Map<string, number>();
  readonly #cpuAtStart = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #tick = 0;

  constructor(pids: Record<string, Measured>) {
    this.#pids = new Map(Object.entries(pids));
  }

  start(intervalMs = 200): void {
    for (const [name, pid] of this.#pids) this.#cpuAtStart.set(name, cpuOf(pid) ?? 0);
    this.#sample(true);
    this.#timer = setInterval(() => this.#sample(), intervalMs);
    this.#timer.unref();
  }

  /** The current RSS of one process, in MiB (for memory-per-flow figures taken mid-case). */
  rssMb(name: string): number {
    const pid = this.#pids.get(name);
    return pid === undefined ? 0 : toMb(memoryOf(pid) ?? 0);
  }

  stop(): Record<string, ProcessUsage> {
    if (this.#timer) clearInterval(this.#timer);
    this.#sample(true);
    const usage: Record<string, ProcessUsage> = {};
    for (const [name, pid] of this.#pids) {
      usage[name] = {
        peakRssMb: toMb(this.#peak.get(name) ?? 0),
        cpuSeconds: round((cpuOf(pid) ?? 0) - (this.#cpuAtStart.get(name) ?? 0), 2),
      };
    }
    return usage;
  }

  /**
   * A process tree's memory (PostgreSQL's) is read every tenth tick only: walking /proc and every
   * backend's smaps_rollup five times a second cost the bench about 0.2 of a core, taken from the
   * server it measures. The tree's memory is mostly its buffer pool, which moves slowly.
   */
  #sample(everything = false): void {
    const trees = everything || this.#tick++ % 10 === 0;
    for (const [name, pid] of this.#pids) {
      if (typeof pid !== 'number' && !trees) continue;
      const rss = memoryOf(pid);
      if (rss !== undefined && rss > (this.#peak.get(name) ?? 0)) this.#peak.set(name, rss);
    }
  }
}

function toMb(bytes: number): number {
  return round(bytes / 1024 / 1024, 1);
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
