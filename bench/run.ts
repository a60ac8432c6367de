/**
 * `npm run bench`: what one contact-change verification costs through Temporal on this machine, against
 * the floor (the same provider calls made directly) and the ceiling (the same workflow shape with
 * instant activities), how throughput moves with a second worker, and how many flows can wait for their
 * code at once. Figures print as tables and are written to .bench/bench-<label>.json. See BENCHMARKS.md.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DwsClient } from '../activities/dws/client.js';
import { sandboxDwsConfig } from '../activities/dws/config.js';
import { VerificationClient } from '@dws-verify/client';
import { runCapacity, type CapacityResult } from './capacity.js';
import { runCase, type CaseDefinition, type CaseKind, type CaseResult } from './cases.js';
import { runHttpOtp } from './http-otp.js';
import {
  journeyWebhookEndpoints,
  runJourneys,
  startAcceptingReceiver,
  type JourneyActions,
} from './billable-actions.js';
import { createCustomer, directFlow, orchestratedFlow, pollingFlow } from './flows.js';
import { describeMachine } from './machine.js';
import { profileServer } from './server-profile.js';
import { BenchOptionsError, HelpRequested, parseBenchOptions, type BenchOptions } from './options.js';
import { projectRoot } from '../scripts/processes.js';
import { formatReport, ratiosOf, scalingOf, userWaitsOf, writeReport, type BenchReport } from './report.js';
import { loadWorkerConfig, type WorkerTuning } from '../worker/config.js';
import {
  benchAnswerWithinMs,
  caseProcesses,
  compileProject,
  startBenchStack,
  type BenchStack,
  type BenchWorker,
  type WorkerKind,
} from './stack.js';

const benchFolder = join(projectRoot, '.bench');

function log(line: string): void {
  console.log(line);
}

function parseOrExit(): BenchOptions {
  try {
    return parseBenchOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof BenchOptionsError)) throw err;
    const help = err instanceof HelpRequested;
    (help ? process.stdout : process.stderr).write(`${err.message}\n`);
    process.exit(help ? 0 : 2);
  }
}

/** What the workers will run with, checked before anything starts: a bad WORKER_* value stops here. */
function tuningOrExit(options: BenchOptions): WorkerTuning {
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('WORKER_'))),
    ...options.workerEnv,
  };
  try {
    return loadWorkerConfig(env, { sandboxUrl: 'http://127.0.0.1' }).tuning;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const options = parseOrExit();
  const workerTuning = tuningOrExit(options);
  const startedAt = new Date();
  const machine = await describeMachine();
  log(`Bench ${options.label}: ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}`);
  if (machine.otherLoadAtStartCores > 0.2) {
    log(
      `  note: other processes keep ${machine.otherLoadAtStartCores} cores busy; figures will be lower than on an idle machine`,
    );
  }
  const compiledDir = options.compiled ? compileProject(join(benchFolder, 'dist')) : undefined;
  // Each group of cases gets a fresh server and sandbox: the in-memory history of earlier cases would
  // otherwise weigh on later ones, and the ceiling would be measured against a fuller server than the
  // flows it is compared with.
  const withStack: WithStack = async (group, body) => {
    log(`[${group}]`);
    const stack = await startBenchStack({
      logDir: join(benchFolder, 'logs', options.label, group),
      serverKind: options.server,
      serverDb: options.serverDb,
      log: (line) => log(`  ${line}`),
      ...(compiledDir ? { compiledDir } : {}),
    });
    try {
      await stack.setLatency(options.latencyMs);
      return await body(stack);
    } finally {
      await stack.stop();
    }
  };
  const { cases, capacity, actions } = await runCases(withStack, options);
  const report: BenchReport = {
    label: options.label,
    startedAt: startedAt.toISOString(),
    durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    machine,
    options,
    workerTuning,
    cases,
    ratios: ratiosOf(cases, options.concurrencies),
    ...(scalingOf(cases) ? { scaling: scalingOf(cases) } : {}),
    ...(capacity ? { capacity } : {}),
    userWaits: userWaitsOf(cases),
    ...(actions ? { actions } : {}),
  };
  log(`\n${formatReport(report)}\n`);
  log(
    `Written to ${writeReport(report, benchFolder)} (worker and sandbox logs in .bench/logs/${options.label}/)`,
  );
}

type WithStack = <T>(group: string, body: (stack: BenchStack) => Promise<T>) => Promise<T>;

async function runCases(
  withStack: WithStack,
  options: BenchOptions,
): Promise<{ cases: CaseResult[]; capacity?: CapacityResult; actions?: JourneyActions[] }> {
  const run = randomBytes(3).toString('hex');
  const selected = new Set(options.cases);
  const cases: CaseResult[] = [];
  let flowNumber = 0;
  const peak = Math.max(...options.concurrencies);
  const measure = async (
    stack: BenchStack,
    kind: CaseKind,
    concurrency: number,
    workers: BenchWorker[],
    flow: CaseDefinition['flow'],
  ) => {
    const workerPids = workers.map((w) => w.pid);
    log(`- ${kind}, ${workerPids.length} worker process(es), ${concurrency} concurrent flows`);
    // On the cluster, the peak of each Temporal case is profiled over its measuring window: where the
    // server's CPU goes says whether history, matching or the SQL store is the limit.
    const profiling =
      stack.serverPprofUrl && kind !== 'direct' && concurrency === peak && workers.length === 1
        ? new Promise((r) => setTimeout(r, options.warmupSeconds * 1000)).then(() =>
            profileServer(
              stack.serverPprofUrl!,
              Math.min(options.measureSeconds, 10),
              log,
              join(stack.logDir, `server-profile-${kind}-c${concurrency}.txt`),
            ),
          )
        : undefined;
    const result = await runCase({
      kind,
      concurrency,
      warmupMs: options.warmupSeconds * 1000,
      measureMs: options.measureSeconds * 1000,
      processes: caseProcesses(
        stack,
        workerPids,
        workers.map((w) => w.metricsUrl),
      ),
      prepare: () => createCustomer(stack.sandboxControl, `b${run}-${kind.slice(0, 4)}-${flowNumber++}`),
      flow,
      connectionsAccepted: () => stack.connectionsAccepted(),
    });
    const serverProfile = await profiling;
    if (serverProfile) result.serverProfile = serverProfile;
    log(
      `  ${result.flowsPerSecond} flows/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ` +
        `${result.failed} failed, other load ${result.otherLoadCores} cores`,
    );
    cases.push(result);
  };
  const workersFor = async (stack: BenchStack, kind: WorkerKind, name: string) => {
    const taskQueue = `bench-${run}-${name}`;
    const workers = await stack.startWorkers(kind, 1, taskQueue, options.workerEnv);
    return {
      workers,
      verifications: new VerificationClient(stack.client, taskQueue, { answerWithinMs: benchAnswerWithinMs }),
      taskQueue,
    };
  };

  if (selected.has('direct')) {
    await withStack('direct', async (stack) => {
      const dws = new DwsClient(sandboxDwsConfig(stack.sandboxUrl));
      for (const c of options.concurrencies) {
        await measure(stack, 'direct', c, [], (id) => directFlow(dws, stack.mailbox, id));
      }
      dws.close();
    });
  }

  if (selected.has('orchestrated') || selected.has('scaling')) {
    await withStack('orchestrated', async (stack) => {
      const { workers, verifications, taskQueue } = await workersFor(stack, 'verification', 'verification');
      const flow = (id: string) => orchestratedFlow(verifications, stack.mailbox, id);
      for (const c of selected.has('orchestrated') ? options.concurrencies : [peak]) {
        await measure(stack, 'orchestrated', c, workers, flow);
      }
      if (selected.has('scaling')) {
        workers.push(...(await stack.startWorkers('verification', 1, taskQueue, options.workerEnv)));
        await measure(stack, 'orchestrated', peak, workers, flow);
      }
    });
  }

  if (selected.has('polling')) {
    // The old journey on a server of its own, at one user: its polls load the server, and flows a
    // timed-out poll abandons would weigh on whatever ran after it.
    await withStack('polling', async (stack) => {
      const { workers, verifications } = await workersFor(stack, 'verification', 'polling');
      await measure(stack, 'polling', Math.min(...options.concurrencies), workers, (id) =>
        pollingFlow(verifications, stack.mailbox, id),
      );
    });
  }

  if (selected.has('ceiling')) {
    await withStack('ceiling', async (stack) => {
      const { workers, verifications } = await workersFor(stack, 'ceiling', 'ceiling');
      for (const c of options.concurrencies) {
        await measure(stack, 'ceiling', c, workers, (id) =>
          orchestratedFlow(verifications, stack.mailbox, id),
        );
      }
    });
  }

  let actions: JourneyActions[] | undefined;
  if (selected.has('actions')) {
    actions = await withStack('actions', async (stack) => {
      log('- actions: the documented HTTP journeys, billable actions counted');
      const { verifications } = await workersFor(stack, 'verification', 'actions');
      const counted = await runJourneys({
        client: stack.client,
        taskQueue: verifications.taskQueue,
        control: stack.sandboxControl,
      });
      // The same journeys with a webhook endpoint for their caller: what the events add.
      const receiver = await startAcceptingReceiver();
      try {
        await stack.startWorkers('verification', 1, `bench-${run}-actions-webhooks`, {
          ...options.workerEnv,
          WEBHOOK_ENDPOINTS: journeyWebhookEndpoints(receiver.url),
        });
        counted.push(
          ...(await runJourneys({
            client: stack.client,
            taskQueue: `bench-${run}-actions-webhooks`,
            control: stack.sandboxControl,
            label: 'with one webhook endpoint',
          })),
        );
      } finally {
        await receiver.close();
      }
      for (const journey of counted) log(`  ${journey.total} actions: ${journey.journey}`);
      return counted;
    });
  }

  let capacity: CapacityResult | undefined;
  if (selected.has('capacity')) {
    capacity = await withStack('capacity', async (stack) => {
      log(`- capacity: ${options.capacity} flows left waiting, then every code at once`);
      const { workers, verifications } = await workersFor(stack, 'verification', 'capacity');
      const result = await runCapacity({
        flows: options.capacity,
        idPrefix: `b${run}-cap`,
        verifications,
        mailbox: stack.mailbox,
        sandboxControl: stack.sandboxControl,
        serverPid: stack.serverPid,
        ...(stack.databasePid !== undefined ? { databasePid: stack.databasePid } : {}),
        sandboxPid: stack.sandboxPid,
        workerPid: workers[0]!.pid,
        log,
      });
      log(`  drained ${result.completed} flows in ${result.drainSeconds} s, ${result.failed} failed`);
      return result;
    });
  }
  if (selected.has('http-otp')) {
    await withStack('http-otp', async (stack) => {
      const flows = options.quick ? 100 : 300;
      const result = await runHttpOtp(stack, {
        flows,
        concurrency: 10,
        idPrefix: `b${run}`,
        workerEnv: options.workerEnv,
        log,
      });
      log(
        `  http-otp: ${result.submissionsPerSecond} submissions/s sustained over ${result.flows} codes, ${result.concurrency} at a time; ` +
          `verdict p50 ${result.verdictMs.p50} ms, p99 ${result.verdictMs.p99} ms; ${result.errors} errors ${JSON.stringify(result.errorStatuses)}`,
      );
    });
  }
  return { cases, ...(capacity ? { capacity } : {}), ...(actions ? { actions } : {}) };
}

await main();
// The Temporal client's connection and got's keep-alive sockets would otherwise hold the process open.
process.exit(0);
