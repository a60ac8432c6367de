/**
 * The local Temporal dev server for people: frontend on 7233, UI on http://localhost:8233, state in a
 * SQLite file under `.temporal/` so a restart loses nothing. `npm run temporal` runs it in the
 * foreground; `npm start` uses startDevServer() to run it beside the worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TypedSearchAttributes, type SearchAttributeType } from '@temporalio/common';
import { stopOnSignals } from '../config/shutdown.js';
import { stopProcess } from './processes.js';
import { temporalCliPath, temporalFolder, TemporalBinaryError } from './temporal-binaries.js';

export interface DevServerOptions {
  ip?: string;
  port?: number;
  uiPort?: number;
  dbFile?: string;
  namespace?: string;
  /** registered at start, as TestWorkflowEnvironment's option of the same name does */
  searchAttributes?: readonly { name: string; type: SearchAttributeType }[];
  /** passed through, e.g. `--ui-codec-endpoint` */
  extraArgs?: string[];
  stdio?: 'inherit' | 'ignore';
  /** added to the server's environment, e.g. the Go runtime's GOGC */
  env?: Record<string, string>;
}

export interface RunningDevServer {
  address: string;
  uiUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export const defaultDevServerDbFile = join(temporalFolder, 'data', 'dev-server.sqlite');

/**
 * Worker Deployments (Worker Versioning). The two switches are on by default in the pinned CLI (1.9.1,
 * server 1.32); they are stated so an older `temporal` found on PATH serves the deployment APIs too. The
 * server's drainage recheck defaults to minutes after a version stops being current, fit for a cluster;
 * here a drained build shows as DRAINED within seconds, so a rollout on a laptop or in a test is not a wait.
 */
export const workerDeploymentConfig = [
  'system.enableDeploymentVersions=true',
  'frontend.workerVersioningWorkflowAPIs=true',
  'matching.wv.VersionDrainageStatusVisibilityGracePeriod="5s"',
  'matching.wv.VersionDrainageStatusRefreshInterval="1s"',
];

export function devServerArgs(options: DevServerOptions = {}): string[] {
  const dbFile = options.dbFile ?? defaultDevServerDbFile;
  return [
    'server',
    'start-dev',
    '--ip',
    options.ip ?? '127.0.0.1',
    '--port',
    String(options.port ?? 7233),
    '--ui-port',
    String(options.uiPort ?? 8233),
    '--db-filename',
    dbFile,
    '--namespace',
    options.namespace ?? 'default',
    '--log-level',
    'warn',
    // Measured in BENCHMARKS.md: the default journal made the SQLite file the bottleneck (x1.7 with these).
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    ...workerDeploymentConfig.flatMap((value) => ['--dynamic-config-value', value]),
    ...(options.searchAttributes ?? []).flatMap((key) => [
      '--search-attribute',
      `${key.name}=${TypedSearchAttributes.toMetadataType(key.type)}`,
    ]),
    ...(options.extraArgs ?? []),
  ];
}

export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((done) => {
      const socket = createConnection({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing answered on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startDevServer(options: DevServerOptions = {}): Promise<RunningDevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? 7233;
  const uiPort = options.uiPort ?? 8233;
  mkdirSync(resolve(options.dbFile ?? defaultDevServerDbFile, '..'), { recursive: true });
  const child = spawn(temporalCliPath(), devServerArgs(options), {
    stdio: options.stdio ?? 'ignore',
    env: { ...process.env, ...options.env },
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the Temporal dev server exited early with code ${code}`))),
  );
  await Promise.race([waitForPort(ip, port, 60_000), exited]);
  return {
    address: `${ip}:${port}`,
    uiUrl: `http://localhost:${uiPort}`,
    process: child,
    // A server that hangs on the way down must not hang its owner: SIGKILL after the grace period.
    stop: () => stopProcess(child, { graceMs: 20_000 }),
  };
}

async function main(): Promise<void> {
  let server: RunningDevServer;
  try {
    server = await startDevServer({ stdio: 'inherit' });
  } catch (err) {
    console.error(err instanceof TemporalBinaryError ? err.message : String(err));
    process.exit(1);
  }
  console.log(
    `Temporal dev server on ${server.address}, UI at ${server.uiUrl}, state in ${defaultDevServerDbFile}`,
  );
  stopOnSignals(() => server.stop());
  server.process.once('exit', (code) => process.exit(code ?? 0));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Not a top-level await: this module is also imported, and a CommonJS require cannot load one.
  void main();
}
