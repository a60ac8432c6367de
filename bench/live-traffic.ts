/**
 * Everything restarts under live traffic. A multi-host Temporal cluster (frontend, history ×2, matching ×2,
 * internal worker), our workers (build A, later B, with Worker Deployments), several HTTP replicas behind
 * HAProxy, and users going through the whole HTTP journey continuously while, one phase at a time:
 *   quiet                      nothing happens (the baseline)
 *   temporal-rolling-upgrade   every Temporal host restarted in turn (SIGTERM, start, serve, next)
 *   history-host-killed        one history host SIGKILLed and left down: its shards move to the other
 *   worker-rollout             build B started, promoted, build A drained and stopped
 *   http-replicas-restarted    each HTTP replica restarted in turn (readiness flips, drain, exit, start)
 * Per phase: journeys completed and lost, changes applied twice by the provider's ledger, answers past the
 * service's bound, the share of 503s and how long a user kept seeing them, each step's p50/p99. Run by the
 * cluster-live suite (test/cluster-live/) and by `npm run bench:live`. See docs/cluster.md.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sandboxDwsEnv } from '../activities/dws/config.js';
import { formatKeyEntry } from '../codec/keyring.js';
import { SandboxControlClient } from '../sandbox/control-client.js';
import { startSandbox, type RunningSandbox } from '../sandbox/server.js';
import { startCluster, type RunningCluster } from '../scripts/cluster/cluster.js';
import { startHaproxy, haproxyTakeOutMs, type RunningHaproxy } from '../scripts/haproxy.js';
import { freePort, spawnNode, stopProcess, waitForLine, workerStartedLine } from '../scripts/processes.js';
import { Rollout } from '../scripts/rollout.js';
import { journeySteps, LiveUsers, type Journey, type JourneyStep } from './live-users.js';
import { summarise, type LatencySummary } from './stats.js';

export const livePhases = [
  'quiet',
  'temporal-rolling-upgrade',
  'history-host-killed',
  'worker-rollout',
  'http-replicas-restarted',
] as const;
export type LivePhase = (typeof livePhases)[number];

export interface LiveTrafficOptions {
  /** where the cluster, the logs and the configs go */
  workDir: string;
  /** at least this many journeys start in each phase (more if its restarts take longer) */
  journeysPerPhase: number;
  /** users going through journeys at the same time */
  users: number;
  replicas: number;
  phases?: readonly LivePhase[];
  log?: (line: string) => void;
}

export interface PhaseFigures {
  phase: LivePhase;
  /** journeys started in the phase */
  journeys: number;
  completed: number;
  /** did not end MODIFIED, or the provider's ledger shows no change */
  lost: number;
  /** the provider's ledger shows the change more than once */
  appliedTwice: number;
  /** single answers that took longer than the service's bound (plus scheduling slack) */
  outsideBound: number;
  answers: number;
  answers503: number;
  /** 502/504 from the balancer: no replica could answer */
  answersBalancer: number;
  /** the longest a user kept getting 5xx at one step before the answer that let them go on */
  longest503Ms: number;
  /** the users who saw at least one 5xx */
  usersWith503: number;
  /** the longest any single answer took */
  slowestAnswerMs: number;
  stepsMs: Record<JourneyStep, LatencySummary>;
  /** how long the phase's restarts took */
  actionSeconds: number;
  /** the first few errors (answers not retried, or the deadline), for the report */
  errors: string[];
  /** the 5xx answers by step, why, and the restarts while each waited (else the last one before it) */
  unavailable: Record<string, number>;
}

export interface LiveTrafficResult {
  phases: PhaseFigures[];
  hosts: string[];
  /** the hosts still running at the end: all but the killed history host */
  hostsRunning: string[];
  replicas: number;
  users: number;
  boundSeconds: number;
}

/** The service's bound (HTTP_ANSWER_WITHIN_SECONDS' default) and what the 2-core machine adds to it. */
const boundSeconds = 10;
const boundSlackMs = 1_000;
/** The replicas' readiness-first drain: longer than HAProxy needs to take a replica out. */
const drainSeconds = 2;
const checkIntervalMs = 500;
const deploymentName = 'dws-verify-live';

/** Restart order of a rolling upgrade: the frontend last, so it meets history and matching restarted. */
const upgradeOrder = ['history-1', 'history-2', 'matching-1', 'matching-2', 'worker-1', 'frontend-1'];
/** After each host restart, until the next: a restarted history host takes its shards back meanwhile. */
const settleMs = 3_000;
/** How long traffic keeps flowing after the history host's SIGKILL before the phase may end. */
const killObservedMs = 20_000;

/** A child process whose output is kept in a log file, started again on the same settings. */
class Service {
  private child: ChildProcess | undefined;
  private readonly log: WriteStream;

  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly readyLine: RegExp,
    logFile: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  async start(): Promise<void> {
    const child = spawnNode(this.entry, { env: this.env });
    this.child = child;
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    await waitForLine(child, this.readyLine, { name: this.name, timeoutMs: 120_000 });
  }

  /** SIGTERM, as a deploy stops it; its own graceful stop runs. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await stopProcess(child, { graceMs: 30_000 });
  }

  async close(): Promise<void> {
    await this.stop();
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
  }
}

export async function runLiveTraffic(options: LiveTrafficOptions): Promise<LiveTrafficResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const logs = join(options.workDir, 'logs');
  mkdirSync(logs, { recursive: true });
  // PostgreSQL runs as its own user and must pass through to the cluster's folder inside this one.
  chmodSync(options.workDir, 0o711);
  const closers: Array<() => Promise<unknown>> = [];
  const codecKeys = formatKeyEntry('live-1', randomBytes(32));
  const token = randomBytes(16).toString('hex');
  try {
    const cluster: RunningCluster = await startCluster({
      shape: 'multi',
      stateDir: join(options.workDir, 'cluster'),
      log: (line) => log(`  ${line}`),
    });
    closers.push(() => cluster.stop());
    const sandbox: RunningSandbox = await startSandbox();
    closers.push(() => sandbox.close());
    const control = new SandboxControlClient(sandbox.url);

    const temporalEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TEMPORAL_ADDRESS: cluster.address,
      TEMPORAL_NAMESPACE: cluster.namespace,
      TEMPORAL_CODEC_KEYS: codecKeys,
    };
    const worker = (build: 'a' | 'b') =>
      new Service(
        `worker build ${build}`,
        'worker/main.ts',
        {
          ...temporalEnv,
          ...sandboxDwsEnv(sandbox.url, sandbox.clientId),
          WORKER_DEPLOYMENT_NAME: deploymentName,
          WORKER_BUILD_ID: `live-${build}`,
        },
        workerStartedLine,
        join(logs, `worker-${build}.log`),
      );
    const workerA = worker('a');
    closers.push(() => workerA.close());
    await workerA.start();
    const rollout = await Rollout.connect(
      {
        connectConfig: { connectionOptions: { address: cluster.address } },
        address: cluster.address,
        namespace: cluster.namespace,
      },
      deploymentName,
    );
    closers.push(() => rollout.close());
    const wait = { timeoutMs: 120_000, intervalMs: 500 };
    await rollout.promote('live-a', wait);

    const replicas: Array<Service & { port: number }> = [];
    for (let n = 1; n <= options.replicas; n++) {
      const port = await freePort();
      const replica = Object.assign(
        new Service(
          `HTTP replica ${n}`,
          'http/main.ts',
          {
            ...temporalEnv,
            HTTP_PORT: String(port),
            HTTP_AUTH_TOKENS: token,
            HTTP_CODEC_ENDPOINT: 'false',
            HTTP_DRAIN_SECONDS: String(drainSeconds),
            HTTP_ANSWER_WITHIN_SECONDS: String(boundSeconds),
          },
          /"msg":"HTTP service listening"/,
          join(logs, `http-${n}.log`),
        ),
        { port },
      );
      closers.push(() => replica.close());
      replicas.push(replica);
    }
    await Promise.all(replicas.map((replica) => replica.start()));
    const haproxy: RunningHaproxy = await startHaproxy({
      backends: replicas.map((replica, n) => ({ name: `http-${n + 1}`, port: replica.port })),
      dir: logs,
      checkIntervalMs,
    });
    closers.push(() => haproxy.stop());
    log(
      `  ${cluster.hosts().length} Temporal hosts, worker build live-a, ${options.replicas} HTTP replicas behind HAProxy ${haproxy.url}`,
    );

    const users = new LiveUsers({
      url: haproxy.url,
      token,
      sandbox: control,
      journeyDeadlineMs: 120_000,
      outcomeWaitSeconds: 5,
      maxRetryAfterMs: 2_000,
    });
    closers.push(async () => users.close());

    const events: Array<{ at: number; what: string }> = [];
    const event = (what: string) => {
      events.push({ at: Date.now(), what });
      log(`    ${what}`);
    };
    let workerB: Service | undefined;
    const actions: Record<LivePhase, () => Promise<void>> = {
      quiet: async () => {},
      'temporal-rolling-upgrade': async () => {
        for (const name of upgradeOrder) {
          event(`restart ${name}`);
          await cluster.restartHost(name);
          event(`${name} serves again`);
          await sleep(settleMs);
        }
      },
      'history-host-killed': async () => {
        event('SIGKILL history-2');
        await cluster.killHost('history-2');
        // The phase lasts until well past the membership's failure detection and the shards' move.
        await sleep(killObservedMs);
      },
      'worker-rollout': async () => {
        workerB = worker('b');
        closers.push(() => workerB!.close());
        event('start worker build live-b');
        await workerB.start();
        event('promote live-b');
        await rollout.promote('live-b', wait);
        await rollout.drain('live-a', wait);
        event('live-a drained: stop its worker');
        await workerA.stop();
      },
      'http-replicas-restarted': async () => {
        for (const replica of replicas) {
          event(`restart ${replica.name}`);
          await replica.stop();
          await replica.start();
          // Back in the balancer after `rise` good checks; the next one stops only once this one serves.
          await sleep(haproxyTakeOutMs(checkIntervalMs) + checkIntervalMs);
        }
      },
    };

    const figures: PhaseFigures[] = [];
    for (const phase of options.phases ?? livePhases) {
      log(`  phase ${phase}`);
      const journeys = await runPhase(users, phase, options, actions[phase]);
      figures.push(await phaseFigures(phase, journeys.list, journeys.actionSeconds, control, events));
    }
    return {
      phases: figures,
      hosts: cluster.hosts().map((host) => host.name),
      hostsRunning: cluster
        .hosts()
        .filter((host) => host.running)
        .map((host) => host.name),
      replicas: options.replicas,
      users: options.users,
      boundSeconds,
    };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }
}

/**
 * Users run journeys back to back from before the phase's action until it has finished and at least
 * `journeysPerPhase` journeys have started; then no new journey starts and the open ones finish, so each
 * journey belongs to the one phase it ran in.
 */
async function runPhase(
  users: LiveUsers,
  phase: LivePhase,
  options: LiveTrafficOptions,
  action: () => Promise<void>,
): Promise<{ list: Journey[]; actionSeconds: number }> {
  const list: Journey[] = [];
  let started = 0;
  let actionDone = false;
  let actionError: unknown;
  const loops = Array.from({ length: options.users }, async () => {
    while (!actionDone || started < options.journeysPerPhase) {
      if (actionError) return;
      started += 1;
      list.push(await users.journey(phase));
    }
  });
  // The action begins once traffic flows: a few journeys in.
  while (started < Math.min(options.users * 2, options.journeysPerPhase)) await sleep(50);
  const began = Date.now();
  await action().catch((err: unknown) => {
    actionError = err;
  });
  const actionSeconds = (Date.now() - began) / 1000;
  actionDone = true;
  await Promise.all(loops);
  if (actionError) throw actionError;
  return { list, actionSeconds };
}

async function phaseFigures(
  phase: LivePhase,
  journeys: readonly Journey[],
  actionSeconds: number,
  control: SandboxControlClient,
  events: ReadonlyArray<{ at: number; what: string }>,
): Promise<PhaseFigures> {
  const unavailable: Record<string, number> = {};
  for (const answer of journeys.flatMap((journey) => journey.answers)) {
    if (answer.status < 500) continue;
    // What happened while the request waited, else the last thing before it was sent.
    const sent = answer.at - answer.ms;
    const during = events.filter((e) => e.at >= sent && e.at <= answer.at).map((e) => e.what);
    const before = events.filter((e) => e.at < sent).at(-1)?.what ?? 'no restart';
    const when = during.length > 0 ? `during: ${during.join(', ')}` : `after: ${before}`;
    const key = `${answer.step} ${answer.why ?? answer.status} (${when})`;
    unavailable[key] = (unavailable[key] ?? 0) + 1;
  }
  const ledgers = await control.ledgers();
  const applied = (journey: Journey) => ledgers[journey.customerId]?.entries.length ?? 0;
  const answers = journeys.flatMap((journey) => journey.answers);
  const stepsMs = Object.fromEntries(
    journeySteps.map((step) => [
      step,
      summarise(journeys.flatMap((j) => (j.stepsMs[step] === undefined ? [] : [j.stepsMs[step]]))),
    ]),
  ) as Record<JourneyStep, LatencySummary>;
  const retriedFor = journeys.flatMap((journey) => Object.values(journey.retriedForMs));
  return {
    phase,
    journeys: journeys.length,
    completed: journeys.filter((j) => j.outcome === 'MODIFIED' && applied(j) === 1).length,
    lost: journeys.filter((j) => j.outcome !== 'MODIFIED' || applied(j) === 0).length,
    appliedTwice: journeys.filter((j) => applied(j) > 1).length,
    outsideBound: answers.filter((answer) => answer.ms > boundSeconds * 1000 + boundSlackMs).length,
    answers: answers.length,
    answers503: answers.filter((answer) => answer.status === 503).length,
    answersBalancer: answers.filter((answer) => answer.status === 502 || answer.status === 504).length,
    longest503Ms: retriedFor.length ? Math.max(...retriedFor) : 0,
    usersWith503: journeys.filter((j) => j.answers.some((a) => a.status >= 500)).length,
    slowestAnswerMs: answers.reduce((longest, answer) => Math.max(longest, answer.ms), 0),
    stepsMs,
    actionSeconds: Math.round(actionSeconds * 10) / 10,
    errors: [...new Set(journeys.flatMap((j) => (j.error ? [j.error] : [])))].slice(0, 5),
    unavailable,
  };
}

/** The figures as BENCHMARKS.md shows them: one row per phase, the quiet phase first. */
export function formatLiveTable(result: LiveTrafficResult): string {
  const pct = (part: number, whole: number) =>
    whole === 0 ? '0 %' : `${Math.round((part / whole) * 1000) / 10} %`;
  const ms = (summary: LatencySummary) => `${Math.round(summary.p50)} / ${Math.round(summary.p99)}`;
  const rows = [
    '| Phase | Journeys | Completed | Lost | Applied twice | Outside the bound | 503s (users) | Longest 503 wait | Slowest answer | Start p50/p99 ms | Verdict p50/p99 ms | Outcome p50/p99 ms | Phase action took |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |',
    ...result.phases.map((p) =>
      [
        p.phase,
        p.journeys,
        p.completed,
        p.lost,
        p.appliedTwice,
        p.outsideBound,
        `${pct(p.answers503 + p.answersBalancer, p.answers)} (${p.usersWith503})`,
        `${(p.longest503Ms / 1000).toFixed(1)} s`,
        `${(p.slowestAnswerMs / 1000).toFixed(1)} s`,
        ms(p.stepsMs.start),
        ms(p.stepsMs.verdict),
        ms(p.stepsMs.outcome),
        `${p.actionSeconds} s`,
      ].join(' | '),
    ),
  ].map((row) => (row.startsWith('|') ? row : `| ${row} |`));
  return rows.join('\n');
}
