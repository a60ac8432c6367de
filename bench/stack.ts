/**
 * The bench's own local stack: a Temporal dev server on free ports with a throw-away SQLite file, the
 * provider sandbox in a child process, a codec key made for this run, and worker processes on demand.
 * Nothing here touches the ports or the state of a developer's `npm start`.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { sandboxDwsEnv } from '../activities/dws/config.js';
import { createDataConverter } from '../codec/data-converter.js';
import { formatKeyEntry, parseKeyRing } from '../codec/keyring.js';
import { SandboxControlClient } from '../sandbox/control-client.js';
import { startCluster } from '../scripts/cluster/cluster.js';
import { startDevServer, type RunningDevServer } from '../scripts/dev-server.js';
import { freePort, projectRoot, waitForLine, workerStartedLine } from '../scripts/processes.js';
import { verificationSearchAttributes } from '../workflows/search-attributes.js';
import type { CaseProcesses } from './cases.js';
import type { ServerDb, ServerKind } from './options.js';
import { OtpMailbox } from './otp-mailbox.js';
import { killOnExit, killPidOnExit, spawnBenchChild, waitForMessage, type NodeChild } from './processes.js';
import { isSandboxMessage, type SandboxMessage } from './sandbox-messages.js';

export type WorkerKind = 'verification' | 'ceiling' | 'retired-patches';

const workerEntries: Record<WorkerKind, string> = {
  verification: 'worker/main.ts',
  ceiling: 'bench/ceiling-worker.ts',
  'retired-patches': 'bench/retired-patches-worker.ts',
};

/** A worker process with the SDK's Prometheus endpoint on a port of its own. */
export interface BenchWorker extends NodeChild {
  metricsUrl: string;
}

export interface BenchStack {
  temporalAddress: string;
  /** the Temporal server process (the dev server, or the cluster's one process of four services) */
  serverPid: number;
  /** the cluster's PostgreSQL postmaster; its backends are measured with it */
  databasePid?: number;
  /** the server's own Prometheus endpoint */
  serverMetricsUrl: string;
  /** the cluster's Go profiler */
  serverPprofUrl?: string;
  sandboxUrl: string;
  sandboxPid: number;
  client: Client;
  mailbox: OtpMailbox;
  /** the sandbox control API (customers, faults) */
  sandboxControl: SandboxControlClient;
  logDir: string;
  setLatency(latencyMs: number): Promise<void>;
  /** TCP connections that have carried provider calls since the sandbox started */
  connectionsAccepted(): Promise<number>;
  startWorkers(
    kind: WorkerKind,
    count: number,
    taskQueue: string,
    env: Record<string, string>,
    build?: WorkerBuild,
  ): Promise<BenchWorker[]>;
  stop(): Promise<void>;
}

/**
 * The bench's clients wait this long for an answer, not the product's 10 s: a closed loop past the
 * server's ceiling queues flows for longer than that, and the figure wanted is how long they queue. A
 * product client past its bound answers 503 and leaves its flow running, which a throughput case would
 * count as a failure and then load the server with another start.
 */
export const benchAnswerWithinMs = 180_000;

/** Variables a developer's shell may hold that must not point the bench's workers anywhere else. */
const foreignSettings = /^(TEMPORAL_|DWS_|WONDER_|HTTP_)/;

/** Which code and which Node a worker runs: bench/levers.ts sets either to compare it with this checkout's. */
export interface WorkerBuild {
  /** a Node binary other than the bench's own */
  node?: string;
  /** a checkout of another commit, with its own node_modules, run under tsx */
  root?: string;
}

/** What a case measures on this stack: its server (and database), its sandbox and the given workers. */
export function caseProcesses(
  stack: BenchStack,
  workerPids: number[],
  workerMetricsUrls?: string[],
): CaseProcesses {
  return {
    serverPid: stack.serverPid,
    ...(stack.databasePid !== undefined ? { databasePid: stack.databasePid } : {}),
    sandboxPid: stack.sandboxPid,
    workerPids,
    ...(workerMetricsUrls ? { workerMetricsUrls, serverMetricsUrl: stack.serverMetricsUrl } : {}),
  };
}

export interface BenchStackOptions {
  logDir: string;
  serverKind: ServerKind;
  serverDb: ServerDb;
  /** run workers from this folder of compiled JS (what production runs) instead of under tsx */
  compiledDir?: string;
  /** added to the Temporal server's environment (e.g. GOGC) */
  serverEnv?: Record<string, string>;
  /** the cluster's dynamic config beside its own (e.g. system.enableActivityEagerExecution) */
  dynamicConfig?: Record<string, unknown>;
  log: (line: string) => void;
}

export async function startBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  const { logDir, log, serverKind, serverDb, compiledDir } = options;
  const entryOf = (kind: WorkerKind, build: WorkerBuild) =>
    compiledDir && !build.root
      ? join(compiledDir, workerEntries[kind].replace(/\.ts$/, '.js'))
      : workerEntries[kind];
  mkdirSync(logDir, { recursive: true });
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => undefined);
  };

  try {
    const temporal = await startTemporal(serverKind, serverDb, log, {
      ...(options.serverEnv ? { env: options.serverEnv } : {}),
      ...(options.dynamicConfig ? { dynamicConfig: options.dynamicConfig } : {}),
    });
    stops.push(() => temporal.stop());
    const mailbox = new OtpMailbox();
    const onMessage = (message: unknown) => {
      if (isSandboxMessage(message) && message.kind === 'otp')
        mailbox.deliver(message.customerId, message.code);
    };
    const sandbox = spawnBenchChild({
      name: 'sandbox',
      entry: 'bench/sandbox-process.ts',
      env: inheritedEnv(),
      logFile: join(logDir, 'sandbox.log'),
      onMessage,
    });
    stops.push(() => sandbox.stop());
    const sandboxUrl = await waitForMessage(sandbox, (m) => (isReady(m) ? m.url : undefined), 60_000);
    log(`Provider sandbox ${sandboxUrl}`);
    const sandboxControl = new SandboxControlClient(sandboxUrl);

    const connection = await Connection.connect({ address: temporal.address });
    // Not closed with the stack: a call abandoned at its bound leaves a retry timer in the SDK's gRPC
    // retry interceptor, and that timer throws "Channel has been shut down" into the bench's process if
    // the channel is closed under it. Left open, the retry fails against the stopped server and is
    // swallowed where it was abandoned; the process exits at the end of the run anyway.
    const codecKeys = formatKeyEntry(`bench-${randomBytes(3).toString('hex')}`, randomBytes(32));
    const dataConverter: DataConverter = createDataConverter(parseKeyRing(codecKeys, 'the bench key'));
    const client = new Client({ connection, namespace: temporal.namespace, dataConverter });

    let workerCount = 0;
    const startWorkers = async (
      kind: WorkerKind,
      count: number,
      taskQueue: string,
      env: Record<string, string>,
      build: WorkerBuild = {},
    ): Promise<BenchWorker[]> => {
      const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
      const workers = ports.map((metricsPort) => {
        const name = `${kind}-worker-${++workerCount}`;
        const child = spawnBenchChild({
          name,
          entry: entryOf(kind, build),
          ...(build.node ? { node: build.node } : {}),
          ...(build.root ? { cwd: build.root } : {}),
          env: {
            ...inheritedEnv(),
            TEMPORAL_ADDRESS: temporal.address,
            TEMPORAL_NAMESPACE: temporal.namespace,
            TEMPORAL_TASK_QUEUE: taskQueue,
            TEMPORAL_CODEC_KEYS: codecKeys,
            ...sandboxDwsEnv(sandboxUrl),
            WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
            ...env,
          },
          logFile: join(logDir, `${name}.log`),
          onMessage,
        });
        stops.push(() => child.stop());
        return { ...child, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
      });
      // Each worker bundles its workflow code at start: a few seconds of webpack.
      await Promise.all(
        workers.map((w) => waitForLine(w.process, workerStartedLine, { name: w.name, timeoutMs: 120_000 })),
      );
      return workers;
    };

    return {
      temporalAddress: temporal.address,
      serverPid: temporal.pid,
      ...(temporal.databasePid !== undefined ? { databasePid: temporal.databasePid } : {}),
      serverMetricsUrl: temporal.metricsUrl,
      ...(temporal.pprofUrl ? { serverPprofUrl: temporal.pprofUrl } : {}),
      sandboxUrl,
      sandboxPid: sandbox.pid,
      client,
      mailbox,
      sandboxControl,
      logDir,
      async setLatency(latencyMs: number) {
        await sandboxControl.setFaults({ latencyMs });
      },
      connectionsAccepted() {
        const answer = waitForMessage(
          sandbox,
          (m) => (isSandboxMessage(m) && m.kind === 'connections' ? m.accepted : undefined),
          10_000,
        );
        sandbox.process.send({ kind: 'connections' });
        return answer;
      },
      startWorkers,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

interface BenchTemporal {
  address: string;
  namespace: string;
  pid: number;
  databasePid?: number;
  metricsUrl: string;
  pprofUrl?: string;
  stop(): Promise<void>;
}

/**
 * A Temporal of the bench's own: the dev server on free ports with a throw-away SQLite file, or the
 * cluster on a fresh PostgreSQL database in a temporary folder, so no group of cases inherits the
 * history of another and nothing touches a developer's `npm start` or `npm run cluster`.
 */
async function startTemporal(
  kind: ServerKind,
  serverDb: ServerDb,
  log: (line: string) => void,
  tuning: { env?: Record<string, string>; dynamicConfig?: Record<string, unknown> },
): Promise<BenchTemporal> {
  const dataDir = mkdtempSync(join(tmpdir(), `dws-bench-${kind}-`));
  const removeData = async () => rmSync(dataDir, { recursive: true, force: true });
  if (kind === 'cluster') {
    const began = performance.now();
    const cluster = await startCluster({
      stateDir: dataDir,
      log,
      ...(tuning.env ? { serverEnv: tuning.env } : {}),
      ...(tuning.dynamicConfig ? { dynamicConfig: tuning.dynamicConfig } : {}),
    }).catch(async (err: unknown) => {
      await removeData();
      throw err;
    });
    const forgetServer = killPidOnExit(() => cluster.serverPid);
    const databasePid = cluster.postgres.pid;
    const forgetDatabase = killPidOnExit(() => databasePid);
    const stop = async () => {
      await cluster.stop();
      forgetServer();
      forgetDatabase();
      await removeData();
    };
    if (cluster.serverPid === undefined || cluster.postgres.pid === undefined) {
      await stop();
      throw new Error('the cluster started without a server or database pid');
    }
    log(
      `Temporal cluster ${cluster.address} (${cluster.historyShards} history shards, PostgreSQL on ` +
        `${cluster.postgres.host}:${cluster.postgres.port}), ready in ${Math.round((performance.now() - began) / 1000)} s`,
    );
    return {
      address: cluster.address,
      namespace: cluster.namespace,
      pid: cluster.serverPid,
      databasePid: cluster.postgres.pid,
      metricsUrl: cluster.metricsUrl,
      pprofUrl: cluster.pprofUrl,
      stop,
    };
  }
  const metricsPort = await freePort();
  const server: RunningDevServer = await startDevServer({
    port: await freePort(),
    uiPort: await freePort(),
    // SQLite reads ':memory:' as a database that lives and dies with the server process.
    dbFile: serverDb === 'memory' ? ':memory:' : join(dataDir, 'temporal.sqlite'),
    searchAttributes: verificationSearchAttributes,
    ...(tuning.env ? { env: tuning.env } : {}),
    extraArgs: [
      ...Object.entries(tuning.dynamicConfig ?? {}).flatMap(([key, value]) => [
        '--dynamic-config-value',
        `${key}=${JSON.stringify(value)}`,
      ]),
      '--headless',
      '--metrics-port',
      String(metricsPort),
      ...(serverDb === 'file-wal'
        ? ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal']
        : []),
    ],
  }).catch(async (err: unknown) => {
    await removeData();
    throw err;
  });
  killOnExit(server.process);
  const stop = async () => {
    await server.stop();
    await removeData();
  };
  if (server.process.pid === undefined) {
    await stop();
    throw new Error('the Temporal dev server has no pid');
  }
  log(
    `Temporal dev server ${server.address} (SQLite ${serverDb === 'memory' ? 'in memory' : `in ${dataDir}`})`,
  );
  return {
    address: server.address,
    namespace: 'default',
    pid: server.process.pid,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    stop,
  };
}

/**
 * Compiles the project into `folder` with the project's own tsc settings, for --compiled. Type errors
 * elsewhere do not stop the emit; only a missing worker entry does.
 */
export function compileProject(folder: string): string {
  const tsc = join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  spawnSync(process.execPath, [tsc, '--outDir', folder], { cwd: projectRoot, stdio: 'ignore' });
  for (const entry of Object.values(workerEntries)) {
    const compiled = join(folder, entry.replace(/\.ts$/, '.js'));
    if (!existsSync(compiled)) throw new Error(`compiling the project did not produce ${compiled}`);
  }
  return folder;
}

function isReady(message: unknown): message is Extract<SandboxMessage, { kind: 'ready' }> {
  return isSandboxMessage(message) && message.kind === 'ready';
}

function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !foreignSettings.test(key)));
}
