/**
 * `npm run bench:levers`: each performance lever switched off and on in the same run, on the same
 * machine, so its effect is a ratio of two figures measured minutes apart rather than a comparison
 * across days. Every variant gets a fresh stack (server, sandbox, one worker); the variants of a lever
 * run in the order before, after, after, before (--rounds 2), so a machine that drifts during the run
 * weighs on both sides alike. Printed as tables and written to .bench/levers-<label>.json. See
 * BENCHMARKS.md, round 4.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VerificationClient } from '@dws-verify/client';
import { DwsClient } from '../activities/dws/client.js';
import { sandboxDwsConfig } from '../activities/dws/config.js';
import { projectRoot } from '../scripts/processes.js';
// @ts-expect-error: plain JavaScript on purpose (it runs before npm ci), without declarations
import { node24Binary } from '../scripts/node24.mjs';
import { runCase, type CaseKind, type CaseResult } from './cases.js';
import { createCustomer, directFlow, orchestratedFlow } from './flows.js';
import { describeMachine } from './machine.js';
import type { ServerKind } from './options.js';
import { round } from './processes.js';
import {
  benchAnswerWithinMs,
  caseProcesses,
  startBenchStack,
  type BenchStack,
  type WorkerBuild,
  type WorkerKind,
} from './stack.js';

const benchFolder = join(projectRoot, '.bench');

/** One side of a lever: what the server and the worker run with. */
interface Variant {
  /** the server this side runs on, when it is not the row's own (the `cluster` lever) */
  serverKind?: ServerKind;
  serverEnv?: Record<string, string>;
  dynamicConfig?: Record<string, unknown>;
  workerKind?: WorkerKind;
  workerEnv?: Record<string, string>;
  build?: WorkerBuild;
}

interface Lever {
  name: string;
  what: string;
  servers: readonly ServerKind[];
  /** called only when the lever runs: a side may install something (Node 24, a checkout) */
  before: (server: ServerKind) => Variant;
  after: (server: ServerKind) => Variant;
}

interface LeverOptions {
  levers: string[];
  servers: ServerKind[];
  concurrencies: number[];
  rounds: number;
  warmupSeconds: number;
  measureSeconds: number;
  latencyMs: number;
  gogc: number;
  /** the commit the `commit` lever compares this checkout with */
  before: string;
  label: string;
}

/** The Go runtime's default; stated, so a GOGC in the bench's own environment cannot leak into "before". */
const goDefaultGc = { GOGC: '100' };
const eager = (on: boolean) => ({ 'system.enableActivityEagerExecution': on });

function leversOf(options: LeverOptions, beforeRoot: () => string): Lever[] {
  return [
    {
      name: 'eager',
      what: 'eager activity dispatch (system.enableActivityEagerExecution; off by default in Temporal Server v1.31)',
      servers: ['cluster'],
      before: () => ({ dynamicConfig: eager(false) }),
      after: () => ({ dynamicConfig: eager(true) }),
    },
    {
      name: 'gogc',
      what: `the server's Go GC target: GOGC=100 (Go's default) against GOGC=${options.gogc}`,
      servers: ['dev', 'cluster'],
      before: () => ({ serverEnv: goDefaultGc }),
      after: () => ({ serverEnv: { GOGC: String(options.gogc) } }),
    },
    {
      name: 'stack',
      what: "the workflow sandbox's stack capture: 10 frames per promise (V8's default) against the worker's default (WORKER_WORKFLOW_STACK_FRAMES=3)",
      servers: ['dev', 'cluster'],
      before: () => ({ workerEnv: { WORKER_WORKFLOW_STACK_FRAMES: '10' } }),
      after: () => ({}),
    },
    {
      name: 'patches',
      what: 'every patch retired (no marker, no TemporalChangeVersion upsert) against today’s patched() calls',
      servers: ['dev', 'cluster'],
      before: () => ({ workerKind: 'verification' }),
      after: () => ({ workerKind: 'retired-patches' }),
    },
    {
      name: 'node24',
      what: 'the worker on Node 24 against the machine’s Node',
      servers: ['dev', 'cluster'],
      before: () => ({}),
      after: () => ({ build: { node: node24Binary() as string } }),
    },
    {
      name: 'cluster',
      what: 'the cluster (Temporal Server on PostgreSQL) against the dev server, both with this checkout’s defaults, interleaved; the floor is the dev server’s',
      servers: ['dev'],
      before: () => ({}),
      after: () => ({ serverKind: 'cluster' }),
    },
    {
      name: 'commit',
      what: `this checkout with its defaults against ${options.before} with its own (eager off on the cluster)`,
      servers: ['dev', 'cluster'],
      // The dev server has always dispatched eagerly; only the cluster's config changed since.
      before: (server) => ({
        build: { root: beforeRoot() },
        serverEnv: goDefaultGc,
        ...(server === 'cluster' ? { dynamicConfig: eager(false) } : {}),
      }),
      after: () => ({}),
    },
  ];
}

interface Measurement {
  lever: string;
  server: ServerKind;
  side: 'before' | 'after';
  round: number;
  cases: CaseResult[];
}

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  const machine = await describeMachine();
  const log = (line: string) => console.log(line);
  log(`Levers ${options.label}: ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}`);
  let checkout: string | undefined;
  const beforeRoot = () => (checkout ??= checkoutOf(options.before, log));
  const levers = leversOf(options, beforeRoot).filter((l) => options.levers.includes(l.name));
  const run = randomBytes(3).toString('hex');
  let flowNumber = 0;
  const measurements: Measurement[] = [];
  const floors: Array<{ server: ServerKind; cases: CaseResult[] }> = [];

  const withStack = async <T>(
    server: ServerKind,
    variant: Variant,
    group: string,
    body: (stack: BenchStack) => Promise<T>,
  ) => {
    const stack = await startBenchStack({
      logDir: join(benchFolder, 'logs', options.label, group),
      serverKind: variant.serverKind ?? server,
      serverDb: 'memory',
      ...(variant.serverEnv ? { serverEnv: variant.serverEnv } : {}),
      ...(variant.dynamicConfig ? { dynamicConfig: variant.dynamicConfig } : {}),
      log: (line) => log(`    ${line}`),
    });
    try {
      await stack.setLatency(options.latencyMs);
      return await body(stack);
    } finally {
      await stack.stop();
    }
  };
  const measure = (
    stack: BenchStack,
    kind: CaseKind,
    concurrency: number,
    workerPids: number[],
    flow: (id: string) => Promise<unknown>,
    metricsUrls: string[] = [],
  ) =>
    runCase({
      kind,
      concurrency,
      warmupMs: options.warmupSeconds * 1000,
      measureMs: options.measureSeconds * 1000,
      processes: caseProcesses(stack, workerPids, metricsUrls),
      prepare: () => createCustomer(stack.sandboxControl, `l${run}-${flowNumber++}`),
      flow: flow as never,
      connectionsAccepted: () => stack.connectionsAccepted(),
    });

  for (const server of options.servers) {
    log(`[${server}: the floor, the same provider calls made directly]`);
    const cases = await withStack(server, {}, `${server}-floor`, async (stack) => {
      const dws = new DwsClient(sandboxDwsConfig(stack.sandboxUrl));
      const found: CaseResult[] = [];
      for (const c of options.concurrencies)
        found.push(await measure(stack, 'direct', c, [], (id) => directFlow(dws, stack.mailbox, id)));
      dws.close();
      return found;
    });
    floors.push({ server, cases });
    for (const lever of levers.filter((l) => l.servers.includes(server))) {
      const order: Array<'before' | 'after'> = [];
      for (let r = 0; r < options.rounds; r++)
        order.push(...(r % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const)));
      for (const [i, side] of order.entries()) {
        const variant = lever[side](server);
        log(`[${server} · ${lever.name} · ${side}]`);
        const cases = await withStack(
          server,
          variant,
          `${server}-${lever.name}-${i}-${side}`,
          async (stack) => {
            const taskQueue = `levers-${run}-${lever.name}-${i}`;
            const workers = await stack.startWorkers(
              variant.workerKind ?? 'verification',
              1,
              taskQueue,
              variant.workerEnv ?? {},
              variant.build ?? {},
            );
            const verifications = new VerificationClient(stack.client, taskQueue, {
              answerWithinMs: benchAnswerWithinMs,
            });
            const found: CaseResult[] = [];
            for (const c of options.concurrencies) {
              const result = await measure(
                stack,
                'orchestrated',
                c,
                workers.map((w) => w.pid),
                (id) => orchestratedFlow(verifications, stack.mailbox, id),
                workers.map((w) => w.metricsUrl),
              );
              log(
                `    ${c} users: ${result.flowsPerSecond} flows/s, code sent p50 ${result.waitsMs.codeSentMs?.p50} ms, verdict p50 ${result.waitsMs.verdictMs?.p50} ms, CPU ms/flow worker ${result.cpuMsPerFlow.workers} server ${result.cpuMsPerFlow.server}${result.cpuMsPerFlow.database !== undefined ? ` database ${result.cpuMsPerFlow.database}` : ''}, ${result.failed} failed, other load ${result.otherLoadCores}`,
              );
              found.push(result);
            }
            return found;
          },
        );
        measurements.push({ lever: lever.name, server, side, round: i, cases });
      }
    }
  }
  const summary = summarize(levers, measurements, floors, options);
  log(`\n${formatSummary(summary)}`);
  mkdirSync(benchFolder, { recursive: true });
  const file = join(benchFolder, `levers-${options.label}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ label: options.label, machine, options, levers: levers.map(({ name, what }) => ({ name, what })), floors, summary, measurements }, null, 2)}\n`,
  );
  log(`Written to ${file}`);
}

/** The figures a lever is judged by, averaged over its rounds. */
interface SideFigures {
  flowsPerSecond: number;
  codeSentP50: number;
  verdictP50: number;
  cpuWorker: number;
  cpuServer: number;
  cpuDatabase?: number;
  failed: number;
}

interface LeverRow {
  lever: string;
  server: ServerKind;
  users: number;
  floor?: { codeSentP50: number; verdictP50: number };
  before: SideFigures;
  after: SideFigures;
}

function summarize(
  levers: Lever[],
  measurements: Measurement[],
  floors: Array<{ server: ServerKind; cases: CaseResult[] }>,
  options: LeverOptions,
): LeverRow[] {
  const rows: LeverRow[] = [];
  for (const lever of levers)
    for (const server of options.servers) {
      if (!lever.servers.includes(server)) continue;
      for (const users of options.concurrencies) {
        const side = (name: 'before' | 'after'): SideFigures => {
          const cases = measurements
            .filter((m) => m.lever === lever.name && m.server === server && m.side === name)
            .flatMap((m) => m.cases.filter((c) => c.concurrency === users));
          const mean = (pick: (c: CaseResult) => number | undefined) => {
            const values = cases.map(pick).filter((v): v is number => v !== undefined);
            return values.length ? round(values.reduce((a, b) => a + b, 0) / values.length, 1) : NaN;
          };
          const database = mean((c) => c.cpuMsPerFlow.database);
          return {
            flowsPerSecond: mean((c) => c.flowsPerSecond),
            codeSentP50: mean((c) => c.waitsMs.codeSentMs?.p50),
            verdictP50: mean((c) => c.waitsMs.verdictMs?.p50),
            cpuWorker: mean((c) => c.cpuMsPerFlow.workers),
            cpuServer: mean((c) => c.cpuMsPerFlow.server),
            ...(Number.isNaN(database) ? {} : { cpuDatabase: database }),
            failed: cases.reduce((sum, c) => sum + c.failed, 0),
          };
        };
        const floorCase = floors.find((f) => f.server === server)?.cases.find((c) => c.concurrency === users);
        rows.push({
          lever: lever.name,
          server,
          users,
          ...(floorCase?.waitsMs.codeSentMs && floorCase.waitsMs.verdictMs
            ? {
                floor: {
                  codeSentP50: floorCase.waitsMs.codeSentMs.p50,
                  verdictP50: floorCase.waitsMs.verdictMs.p50,
                },
              }
            : {}),
          before: side('before'),
          after: side('after'),
        });
      }
    }
  return rows;
}

function formatSummary(rows: LeverRow[]): string {
  const ratio = (after: number, before: number) => (before > 0 ? `x${(after / before).toFixed(2)}` : '-');
  const over = (value: number, floor: number | undefined) =>
    floor === undefined ? '' : ` (+${round(value - floor, 1)})`;
  const cpu = (s: SideFigures) =>
    `${s.cpuWorker} / ${s.cpuServer}${s.cpuDatabase !== undefined ? ` / ${s.cpuDatabase}` : ''}`;
  const total = (s: SideFigures) => s.cpuWorker + s.cpuServer + (s.cpuDatabase ?? 0);
  const lines = [
    '| lever | server | users | flows/s before → after | code sent p50 ms (over floor) | verdict p50 ms (over floor) | CPU ms/flow worker / server (/ database) before → after | CPU all ratio | failed |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.lever} | ${r.server} | ${r.users} | ${r.before.flowsPerSecond} → ${r.after.flowsPerSecond} (${ratio(r.after.flowsPerSecond, r.before.flowsPerSecond)}) | ` +
        `${r.before.codeSentP50}${over(r.before.codeSentP50, r.floor?.codeSentP50)} → ${r.after.codeSentP50}${over(r.after.codeSentP50, r.floor?.codeSentP50)} | ` +
        `${r.before.verdictP50}${over(r.before.verdictP50, r.floor?.verdictP50)} → ${r.after.verdictP50}${over(r.after.verdictP50, r.floor?.verdictP50)} | ` +
        `${cpu(r.before)} → ${cpu(r.after)} | ${ratio(total(r.after), total(r.before))} | ${r.before.failed} / ${r.after.failed} |`,
    );
  }
  return lines.join('\n');
}

/** A checkout of `rev` with its own node_modules, made once under .bench/commits/ and reused. */
function checkoutOf(rev: string, log: (line: string) => void): string {
  const sha = git(['rev-parse', '--verify', `${rev}^{commit}`]).trim();
  const folder = join(benchFolder, 'commits', sha.slice(0, 12));
  if (!existsSync(join(folder, 'node_modules', '.package-lock.json'))) {
    log(`Checking out ${rev} (${sha.slice(0, 12)}) into ${folder} and installing its packages (once) ...`);
    if (!existsSync(folder)) git(['worktree', 'add', '--detach', folder, sha]);
    const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: folder, stdio: 'ignore' });
    if (install.status !== 0) throw new Error(`npm ci in ${folder} failed`);
  }
  return folder;
}

function git(args: string[]): string {
  const result = spawnSync('git', args, { cwd: projectRoot, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout;
}

const leverNames = ['eager', 'gogc', 'stack', 'patches', 'node24', 'cluster', 'commit'];
const usage = `npm run bench:levers -- [flags]

  --levers LIST           any of ${leverNames.join(',')} (default all)
  --server LIST           dev,cluster (default both; a lever runs only on the servers it concerns)
  --concurrency A,B       concurrent flows (default 1,50)
  --rounds N              before/after pairs, alternating order (default 2: before, after, after, before)
  --warmup-seconds N      default 2
  --measure-seconds N     default 8
  --latency-ms N          per provider call (default 50)
  --gogc N                the GOGC the gogc lever tries (default 200)
  --before REV            the commit the commit lever compares with (default 7114ef9, where issue 27 began)
  --label NAME            names .bench/levers-<label>.json
`;

function parse(argv: string[]): LeverOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help') {
      console.log(usage);
      process.exit(0);
    }
    const name = arg.replace(/^--/, '');
    const value = argv[++i];
    if (!arg.startsWith('--') || value === undefined) fail(`unexpected "${arg}"`);
    flags.set(name, value);
  }
  const known = [
    'levers',
    'server',
    'concurrency',
    'rounds',
    'warmup-seconds',
    'measure-seconds',
    'latency-ms',
    'gogc',
    'before',
    'label',
  ];
  for (const name of flags.keys()) if (!known.includes(name)) fail(`unknown flag --${name}`);
  const list = (name: string, fallback: string, allowed?: string[]) =>
    (flags.get(name) ?? fallback).split(',').map((item) => {
      if (allowed && !allowed.includes(item))
        fail(`--${name}: "${item}" is not one of ${allowed.join(', ')}`);
      return item;
    });
  const whole = (name: string, fallback: number, min: number) => {
    const raw = flags.get(name) ?? String(fallback);
    if (!/^\d+$/.test(raw) || Number(raw) < min)
      fail(`--${name} must be a whole number of at least ${min}, got "${raw}"`);
    return Number(raw);
  };
  const label = flags.get('label') ?? new Date().toISOString().replace(/[:.]/g, '-');
  if (!/^[\w.-]{1,80}$/.test(label)) fail('--label may hold letters, digits, ".", "_" and "-" only');
  return {
    levers: list('levers', leverNames.join(','), leverNames),
    servers: list('server', 'dev,cluster', ['dev', 'cluster']) as ServerKind[],
    concurrencies: list('concurrency', '1,50').map((c) => {
      if (!/^\d+$/.test(c) || Number(c) < 1)
        fail(`--concurrency: "${c}" is not a whole number of at least 1`);
      return Number(c);
    }),
    rounds: whole('rounds', 2, 1),
    warmupSeconds: whole('warmup-seconds', 2, 0),
    measureSeconds: whole('measure-seconds', 8, 1),
    latencyMs: whole('latency-ms', 50, 0),
    gogc: whole('gogc', 200, 1),
    before: flags.get('before') ?? '7114ef9',
    label,
  };
}

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${usage}`);
  process.exit(2);
}

await main();
// The Temporal client's connection and got's keep-alive sockets would otherwise hold the process open.
process.exit(0);
