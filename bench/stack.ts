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
import { SANDBOX_CLIENT_ID, sandboxKeyPath } from '../activities/dws/config.js';
import { createDataConverter } from '../client/encryption/data-converter.js';
import { formatKeyEntry, parseKeyRing } from '../client/encryption/keyring.js';
import { SandboxControlClient } from '../sandbox/control-client.js';
import { startDevServer, type RunningDevServer } from '../scripts/dev-server.js';
import { freePort, projectRoot, waitForLine, workerStartedLine } from '../scripts/processes.js';
import { verificationSearchAttributes } from '../workflows/search-attributes.js';
import type { ServerDb } from './options.js';
import { OtpMailbox } from './otp-mailbox.js';
import { killOnExit, spawnBenchChild, waitForMessage, type NodeChild } from './processes.js';
import { isSandboxMessage, type SandboxMessage } from './sandbox-messages.js';

export type WorkerKind = 'verification' | 'ceiling';

const workerEntries: Record<WorkerKind, string> = {
  verification: 'worker/main.ts',
  ceiling: 'bench/ceiling-worker.ts',
};

/** A worker process with the SDK's Prometheus endpoint on a port of its own. */
export interface BenchWorker extends NodeChild {
  metricsUrl: string;
}

export interface BenchStack {
  temporalAddress: string;
  serverPid: number;
  /** the dev server's own Prometheus endpoint */
  serverMetricsUrl: string;
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
  ): Promise<BenchWorker[]>;
  stop(): Promise<void>;
}

/** Variables a developer's shell may hold that must not point the bench's workers anywhere else. */
const foreignSettings = /^(TEMPORAL_|DWS_|WONDER_|HTTP_)/;

export interface BenchStackOptions {
  logDir: string;
  serverDb: ServerDb;
  /** run workers from this folder of compiled JS (what production runs) instead of under tsx */
  compiledDir?: string;
  log: (line: string) => void;
}

export async function startBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  const { logDir, log, serverDb, compiledDir } = options;
  const entryOf = (kind: WorkerKind) =>
    compiledDir ? join(compiledDir, workerEntries[kind].replace(/\.ts$/, '.js')) : workerEntries[kind];
  mkdirSync(logDir, { recursive: true });
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => undefined);
  };

  try {
    const dataDir = mkdtempSync(join(tmpdir(), 'dws-bench-'));
    stops.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const serverMetricsPort = await freePort();
    const server: RunningDevServer = await startDevServer({
      port,
      uiPort: await freePort(),
      // SQLite reads ':memory:' as a database that lives and dies with the server process.
      dbFile: serverDb === 'memory' ? ':memory:' : join(dataDir, 'temporal.sqlite'),
      searchAttributes: verificationSearchAttributes,
      extraArgs: [
        '--headless',
        '--metrics-port',
        String(serverMetricsPort),
        ...(serverDb === 'file-wal'
          ? ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal']
          : []),
      ],
    });
    stops.push(() => server.stop());
    killOnExit(server.process);
    if (server.process.pid === undefined) throw new Error('the Temporal dev server has no pid');
    log(
      `Temporal dev server ${server.address} (SQLite ${serverDb === 'memory' ? 'in memory' : `in ${dataDir}`})`,
    );

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

    const connection = await Connection.connect({ address: server.address });
    stops.push(() => connection.close());
    const codecKeys = formatKeyEntry(`bench-${randomBytes(3).toString('hex')}`, randomBytes(32));
    const dataConverter: DataConverter = createDataConverter(parseKeyRing(codecKeys, 'the bench key'));
    const client = new Client({ connection, namespace: 'default', dataConverter });

    let workerCount = 0;
    const startWorkers = async (
      kind: WorkerKind,
      count: number,
      taskQueue: string,
      env: Record<string, string>,
    ): Promise<BenchWorker[]> => {
      const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
      const workers = ports.map((metricsPort) => {
        const name = `${kind}-worker-${++workerCount}`;
        const child = spawnBenchChild({
          name,
          entry: entryOf(kind),
          env: {
            ...inheritedEnv(),
            TEMPORAL_ADDRESS: server.address,
            TEMPORAL_NAMESPACE: 'default',
            TEMPORAL_TASK_QUEUE: taskQueue,
            TEMPORAL_CODEC_KEYS: codecKeys,
            DWS_BASE_URL: sandboxUrl,
            DWS_CLIENT_ID: SANDBOX_CLIENT_ID,
            DWS_PRIVATE_KEY_FILE: sandboxKeyPath('dws-merchant.private.pem'),
            DWS_PROVIDER_PUBLIC_KEY_FILE: sandboxKeyPath('dws-provider.public.pem'),
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
      temporalAddress: server.address,
      serverPid: server.process.pid,
      serverMetricsUrl: `http://127.0.0.1:${serverMetricsPort}/metrics`,
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
