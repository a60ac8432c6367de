/**
 * `npx tsx bench/tune.ts`: the same case under several worker settings, on one stack, in interleaved
 * rounds (A B C A B C ...) so a neighbour's load or a warming server weighs on every variant alike.
 *
 *   --variant NAME:KEY=VALUE,KEY=VALUE   a worker setting to try (repeatable; "defaults" = none)
 *   --rounds N                           rounds over all variants (default 2)
 *   --workload orchestrated|ceiling|capacity   (default orchestrated, at the largest --concurrency)
 * plus the flags of `npm run bench` (--latency-ms, --concurrency, --measure-seconds, --capacity, ...).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { VerificationClient } from '@dws-verify/client';
import { loadWorkerConfig } from '../worker/config.js';
import { runCapacity, type CapacityResult } from './capacity.js';
import { runCase, type CaseResult } from './cases.js';
import { createCustomer, orchestratedFlow } from './flows.js';
import { describeMachine } from './machine.js';
import { BenchOptionsError, parseBenchOptions } from './options.js';
import { projectRoot } from '../scripts/processes.js';
import { round } from './processes.js';
import {
  benchAnswerWithinMs,
  caseProcesses,
  compileProject,
  startBenchStack,
  type WorkerKind,
} from './stack.js';
import { mkdirSync, writeFileSync } from 'node:fs';

interface Variant {
  name: string;
  env: Record<string, string>;
}

type Workload = 'orchestrated' | 'ceiling' | 'capacity';

interface TuneArgs {
  variants: Variant[];
  rounds: number;
  workload: Workload;
  rest: string[];
}

function parseTuneArgs(argv: readonly string[]): TuneArgs {
  const variants: Variant[] = [];
  let rounds = 2;
  let workload: Workload = 'orchestrated';
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new BenchOptionsError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--variant') variants.push(parseVariant(value()));
    else if (arg === '--rounds') rounds = Number(value());
    else if (arg === '--workload') workload = value() as Workload;
    else rest.push(arg);
  }
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new BenchOptionsError('--rounds must be a whole number of at least 1');
  if (!['orchestrated', 'ceiling', 'capacity'].includes(workload)) {
    throw new BenchOptionsError('--workload must be orchestrated, ceiling or capacity');
  }
  return { variants: variants.length ? variants : [{ name: 'defaults', env: {} }], rounds, workload, rest };
}

function parseVariant(text: string): Variant {
  const [name, settings = ''] = text.split(/:(.*)/s, 2) as [string, string | undefined];
  const env: Record<string, string> = {};
  for (const pair of settings.split(',').filter(Boolean)) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
    if (!match) throw new BenchOptionsError(`--variant ${text}: "${pair}" is not KEY=VALUE`);
    env[match[1]!] = match[2]!;
  }
  // Checked now, not after a stack has started: a typo in a value stops the run with its message.
  loadWorkerConfig(env, { sandboxUrl: 'http://127.0.0.1' });
  return { name, env };
}

async function main(): Promise<void> {
  let args: TuneArgs;
  let options: ReturnType<typeof parseBenchOptions>;
  try {
    args = parseTuneArgs(process.argv.slice(2));
    options = parseBenchOptions(args.rest);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const machine = await describeMachine();
  const concurrency = Math.max(...options.concurrencies);
  console.log(
    `Tuning ${args.workload}${args.workload === 'capacity' ? ` (${options.capacity} flows)` : ` at ${concurrency} concurrent flows`}, ` +
      `${args.rounds} round(s) over ${args.variants.map((v) => v.name).join(', ')}; other load at start ${machine.otherLoadAtStartCores} cores`,
  );
  const stack = await startBenchStack({
    logDir: join(projectRoot, '.bench', 'logs', `tune-${options.label}`),
    serverKind: options.server,
    serverDb: options.serverDb,
    log: (line) => console.log(line),
    ...(options.compiled ? { compiledDir: compileProject(join(projectRoot, '.bench', 'dist')) } : {}),
  });
  const run = randomBytes(3).toString('hex');
  const rows: Array<{ variant: string; round: number; result: CaseResult | CapacityResult }> = [];
  let flowNumber = 0;
  try {
    await stack.setLatency(options.latencyMs);
    for (let round = 1; round <= args.rounds; round++) {
      for (const variant of args.variants) {
        const kind: WorkerKind = args.workload === 'ceiling' ? 'ceiling' : 'verification';
        const taskQueue = `tune-${run}-${variant.name}-${round}`;
        const [worker] = await stack.startWorkers(kind, 1, taskQueue, {
          ...options.workerEnv,
          ...variant.env,
        });
        const verifications = new VerificationClient(stack.client, taskQueue, {
          answerWithinMs: benchAnswerWithinMs,
        });
        const result =
          args.workload === 'capacity'
            ? await runCapacity({
                flows: options.capacity,
                idPrefix: `t${run}-${round}-${variant.name}`.replace(/[^0-9A-Za-z_-]/g, '-'),
                verifications,
                mailbox: stack.mailbox,
                sandboxControl: stack.sandboxControl,
                serverPid: stack.serverPid,
                ...(stack.databasePid !== undefined ? { databasePid: stack.databasePid } : {}),
                sandboxPid: stack.sandboxPid,
                workerPid: worker!.pid,
                log: () => undefined,
              })
            : await runCase({
                kind: args.workload,
                concurrency,
                warmupMs: options.warmupSeconds * 1000,
                measureMs: options.measureSeconds * 1000,
                processes: caseProcesses(stack, [worker!.pid]),
                prepare: () => createCustomer(stack.sandboxControl, `t${run}-${flowNumber++}`),
                flow: (id) => orchestratedFlow(verifications, stack.mailbox, id),
                connectionsAccepted: () => stack.connectionsAccepted(),
              });
        await worker!.stop();
        rows.push({ variant: variant.name, round, result });
        console.log(`  round ${round} ${variant.name}: ${summary(result)}`);
      }
    }
  } finally {
    await stack.stop();
  }
  console.log('\nMeans over rounds:');
  for (const variant of args.variants) {
    const mine = rows.filter((r) => r.variant === variant.name).map((r) => r.result);
    console.log(`  ${variant.name.padEnd(24)} ${meanSummary(mine)}`);
  }
  const folder = join(projectRoot, '.bench');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `tune-${options.label}.json`);
  writeFileSync(file, `${JSON.stringify({ machine, options, ...args, rows }, null, 2)}\n`);
  console.log(`Written to ${file}`);
  process.exit(0);
}

function isCapacity(result: CaseResult | CapacityResult): result is CapacityResult {
  return 'drainSeconds' in result;
}

function summary(result: CaseResult | CapacityResult): string {
  if (isCapacity(result)) {
    return (
      `fill ${result.fillSeconds} s, drain ${result.drainSeconds} s (${result.drainFlowsPerSecond} flows/s), ` +
      `worker RSS ${result.workerRssMb.allWaiting} MB waiting / ${result.usage['worker-1']?.peakRssMb} MB peak, ` +
      `${result.workerKbPerWaitingFlow} KB per further flow, ${result.failed} failed, other load ${result.otherLoadCores}`
    );
  }
  return (
    `${result.flowsPerSecond} flows/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ` +
    `worker RSS ${result.workerPeakRssMb} MB, CPU ms/flow ${result.cpuMsPerFlow.workers}/${result.cpuMsPerFlow.server}, ` +
    `${result.failed} failed, other load ${result.otherLoadCores}`
  );
}

function meanSummary(results: Array<CaseResult | CapacityResult>): string {
  const mean = (values: number[]) => round(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length), 1);
  const capacity = results.filter(isCapacity);
  if (capacity.length) {
    return (
      `fill ${mean(capacity.map((r) => r.fillSeconds))} s, drain ${mean(capacity.map((r) => r.drainSeconds))} s, ` +
      `worker peak RSS ${mean(capacity.map((r) => r.usage['worker-1']?.peakRssMb ?? 0))} MB`
    );
  }
  const cases = results as CaseResult[];
  return (
    `${mean(cases.map((r) => r.flowsPerSecond))} flows/s, p50 ${mean(cases.map((r) => r.latencyMs.p50))} ms, ` +
    `p99 ${mean(cases.map((r) => r.latencyMs.p99))} ms, worker RSS ${mean(cases.map((r) => r.workerPeakRssMb))} MB, ` +
    `other load ${mean(cases.map((r) => r.otherLoadCores))}`
  );
}

await main();
