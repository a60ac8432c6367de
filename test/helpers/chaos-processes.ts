/**
 * The processes a chaos run owns and breaks on purpose: its own Temporal dev server on a SQLite file (so
 * it can be stopped and started again on the same port without losing a workflow) and the worker as a
 * child process, so it can be killed outright (SIGKILL: no graceful shutdown, no goodbye to the server).
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { sandboxDwsEnv } from '../../activities/dws/config.js';
import { startDevServer, type DevServerOptions, type RunningDevServer } from '../../scripts/dev-server.js';
import { freePort, spawnNode, stopProcess, waitForLine, workerStartedLine } from '../../scripts/processes.js';
import { verificationSearchAttributes } from '../../workflows/search-attributes.js';
import { currentRunServer } from './temporal.js';

export type RestartableDevServerOptions = Required<
  Pick<DevServerOptions, 'port' | 'uiPort' | 'dbFile' | 'searchAttributes' | 'extraArgs'>
>;

/** The dev server on a fixed port and database file, so a restart brings back every workflow. */
export class RestartableDevServer implements ChaosServer {
  private running: RunningDevServer | undefined;
  readonly address: string;

  constructor(private readonly options: RestartableDevServerOptions) {
    this.address = `127.0.0.1:${options.port}`;
  }

  /** Headless, on free ports, with the verification search attributes, its state in `dbFile`. */
  static async onFreePorts(dbFile: string): Promise<RestartableDevServer> {
    return new RestartableDevServer({
      port: await freePort(),
      uiPort: await freePort(),
      dbFile,
      searchAttributes: verificationSearchAttributes,
      extraArgs: ['--headless'],
    });
  }

  async start(): Promise<void> {
    if (this.running) throw new Error('the dev server is already running');
    this.running = await startDevServer({ ...this.options, ip: '127.0.0.1', stdio: 'ignore' });
  }

  /** Graceful (SIGTERM, as an operator's restart would be), with SIGKILL after a grace so a hang cannot stall. */
  async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    await running?.stop();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

/** What a chaos run needs of its Temporal server: where it is, and a way to take it down and back. */
export interface ChaosServer {
  readonly address: string;
  start(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The run's own server when it was handed one (the cluster suite: restarted by SIGKILL, started and
 * stopped by the suite, not by the test), else a dev server of the test's own on free ports.
 */
export async function chaosServer(dbFile: string): Promise<ChaosServer> {
  const handed = currentRunServer();
  if (!handed) return RestartableDevServer.onFreePorts(dbFile);
  return {
    address: handed.address,
    start: async () => {},
    restart: () => handed.killAndRestart(),
    stop: async () => {},
  };
}

/** The whole environment of a worker process against a dev server and a DWS sandbox (or stand-in). */
export function sandboxWorkerEnv(options: {
  temporalAddress: string;
  taskQueue: string;
  codecKeys: string;
  dwsUrl: string;
  dwsClientId: string;
}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: options.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: options.taskQueue,
    TEMPORAL_CODEC_KEYS: options.codecKeys,
    ...sandboxDwsEnv(options.dwsUrl, options.dwsClientId),
  };
}

export interface WorkerProcessOptions {
  /** the worker's whole environment (TEMPORAL_*, DWS_*, TEMPORAL_CODEC_KEYS) */
  env: NodeJS.ProcessEnv;
  /** every incarnation appends its output here, for the report of a failed run */
  logFile: string;
  /** bundling the workflows takes a few seconds on a small machine */
  readyTimeoutMs?: number;
}

/**
 * `worker/main.ts` as its own process, started the way an operator would (`node --import tsx`, no npx in
 * between, so the pid we kill is the worker itself). It counts as ready once it logs "worker started".
 */
export class WorkerProcess {
  private child: ChildProcess | undefined;
  private readonly log: WriteStream;
  private killing = false;
  starts = 0;
  kills = 0;
  /** set when the worker died without being told to: the run cannot go on and must say why */
  unexpectedExit: string | undefined;

  constructor(private readonly options: WorkerProcessOptions) {
    this.log = createWriteStream(options.logFile, { flags: 'a' });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('the worker is already running');
    this.starts += 1;
    this.killing = false;
    this.log.write(`--- worker start #${this.starts} at ${new Date().toISOString()}\n`);
    const child = spawnNode('worker/main.ts', { env: this.options.env });
    this.child = child;
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (!this.killing) {
        this.unexpectedExit = `the worker exited on its own (code ${code}, signal ${signal}); see ${this.options.logFile}`;
      }
    });
    await waitForLine(child, workerStartedLine, {
      name: 'the worker',
      timeoutMs: this.options.readyTimeoutMs ?? 60_000,
    });
  }

  /** The lines of every incarnation's log so far that match `pattern`. */
  logLines(pattern: RegExp): string[] {
    return readFileSync(this.options.logFile, 'utf8')
      .split('\n')
      .filter((line) => pattern.test(line));
  }

  /** SIGKILL: the crash this test is about. Waits until the process is gone. */
  async crash(): Promise<void> {
    if (!this.child) throw new Error('there is no worker to crash');
    this.kills += 1;
    await this.end();
  }

  /** Ends whatever incarnation is running; safe to call at any time, also after a failure. */
  async close(): Promise<void> {
    await this.end();
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
  }

  private async end(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.killing = true;
    await stopProcess(child, { signal: 'SIGKILL', graceMs: 10_000 });
    this.child = undefined;
  }
}
