/**
 * Where the cluster's Temporal Server spends its CPU while a case runs: a CPU profile from its Go
 * profiler (net/http/pprof), read with `go tool pprof -traces`, each sample given to the innermost
 * part of the server its stack passes through. One server process runs the four services, so the
 * process's CPU alone cannot say whether history, matching or the SQL store is the limit; this can.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findGo } from '../scripts/cluster/provision.js';
import { round } from './processes.js';

const run = promisify(execFile);

/** First match wins, so a history call that spends its time in the SQL driver counts as persistence. */
const parts: ReadonlyArray<readonly [string, RegExp]> = [
  ['persistence (SQL store, PostgreSQL driver)', /persistence\/sql|jackc\/pg|lib\/pq|database\/sql\./],
  ['history service', /server\/service\/history[./]/],
  ['matching service', /server\/service\/matching[./]/],
  ['frontend service', /server\/service\/frontend[./]/],
  ['worker service', /server\/service\/worker[./]/],
  [
    'gRPC, protobuf, network',
    /google\.golang\.org\/grpc|google\.golang\.org\/protobuf|gogo\/protobuf|^net\.|^syscall\./,
  ],
  ['garbage collection', /^runtime\.(gcBgMarkWorker|gcDrain|bgsweep|bgscavenge)/],
];
const other = 'other (runtime, metrics, logging)';

export interface ServerProfile {
  seconds: number;
  /** CPU seconds sampled over the window, across all the server's threads */
  cpuSeconds: number;
  /** share of the sampled CPU, percent, by part of the server */
  sharePercent: Record<string, number>;
}

/** Records a CPU profile for `seconds` and classifies it; undefined (and a line in the log) if it fails. */
export async function profileServer(
  pprofUrl: string,
  seconds: number,
  log: (line: string) => void,
  /** where the traces are kept as text, to be read again or classified another way */
  tracesFile?: string,
): Promise<ServerProfile | undefined> {
  const folder = mkdtempSync(join(tmpdir(), 'dws-bench-pprof-'));
  try {
    const answer = await fetch(`${pprofUrl}/profile?seconds=${seconds}`, {
      signal: AbortSignal.timeout((seconds + 30) * 1000),
    });
    if (!answer.ok) throw new Error(`the profiler answered HTTP ${answer.status}`);
    const file = join(folder, 'cpu.pprof');
    writeFileSync(file, Buffer.from(await answer.arrayBuffer()));
    const { stdout } = await run(findGo(), ['tool', 'pprof', '-traces', file], { maxBuffer: 256 << 20 });
    if (tracesFile) writeFileSync(tracesFile, stdout);
    return { seconds, ...classifyTraces(stdout) };
  } catch (err) {
    log(`  server profile not taken: ${(err as Error).message}`);
    return undefined;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * `pprof -traces` prints one block per distinct stack: a line of dashes, then the sample's value and
 * its innermost frame on one line, then the callers, one per line.
 */
export function classifyTraces(text: string): Pick<ServerProfile, 'cpuSeconds' | 'sharePercent'> {
  const totals = new Map<string, number>();
  let total = 0;
  for (const block of text.split(/^-+\+-+$/m)) {
    const lines = block.split('\n').filter((line) => line.trim());
    const head = /^\s*([\d.]+)(ns|us|µs|ms|s)\s+(\S.*)$/.exec(lines[0] ?? '');
    if (!head) continue;
    const value = Number(head[1]) * unitSeconds[head[2]!]!;
    const frames = [head[3]!, ...lines.slice(1)].map((line) => line.trim());
    const part = parts.find(([, pattern]) => frames.some((frame) => pattern.test(frame)))?.[0] ?? other;
    totals.set(part, (totals.get(part) ?? 0) + value);
    total += value;
  }
  const sharePercent: Record<string, number> = {};
  for (const [name] of [...parts, [other]]) {
    const seconds = totals.get(name!) ?? 0;
    if (seconds > 0) sharePercent[name!] = round((seconds / total) * 100, 1);
  }
  return { cpuSeconds: round(total, 2), sharePercent };
}

const unitSeconds: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1 };
