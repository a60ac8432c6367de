/**
 * A real redis-server for the tests that share counters: Debian's, on a free loopback port, with nothing
 * written to disk, stopped and started again on the same port when a test needs an outage.
 * `npm run redis:install` installs it; the tests do the same when it is missing.
 *
 * Found, or installed, by scripts/debian-tool.ts (`REDIS_SERVER_PATH` names another binary).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { debianToolPath, ToolMissingError, type DebianTool } from '../../scripts/debian-tool.js';
import { freePort, pollUntil, readyOrExit, spawnLogged, stopProcess } from '../../scripts/processes.js';

export const debianRedisServer = '/usr/bin/redis-server';

export const redisTool: DebianTool = {
  label: 'redis-server',
  pathVariable: 'REDIS_SERVER_PATH',
  command: 'redis-server',
  debianPath: debianRedisServer,
  aptPackage: 'redis-server',
};

export function redisServerPath(env: NodeJS.ProcessEnv = process.env): string {
  return debianToolPath(redisTool, env);
}

/** One PING over a plain socket: readiness without a client library, so a client's retries hide nothing. */
function ping(port: number): Promise<boolean> {
  return new Promise((answer) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      answer(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

export interface TestRedis {
  readonly port: number;
  /** redis://127.0.0.1:<port>, the same across stop() and start() */
  readonly url: string;
  readonly logFile: string;
  /** Starts the server again on the same port, with an empty data set (nothing is persisted). */
  start(): Promise<void>;
  /** SIGTERM by default; SIGKILL for a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Freezes the server (SIGSTOP): connections stay open and nothing answers, the outage a timeout must
   * catch because no socket error ever comes. `resume()` thaws it.
   */
  pause(): void;
  resume(): void;
  /** Stops the server and removes its folder. */
  close(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const binary = redisServerPath();
  const folder = mkdtempSync(join(tmpdir(), 'redis-test-'));
  const logFile = join(folder, 'redis.log');
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const started = spawnLogged(
      binary,
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes'],
        // Tests start from nothing and stop without a trace: no snapshot, no append-only file.
        ...['--save', '', '--appendonly', 'no', '--dir', folder],
        // Full means refused writes, never a victim's counter evicted (limits/README.md asks the same).
        ...['--maxmemory-policy', 'noeviction'],
      ],
      { logFile },
    );
    child = started;
    const answers = pollUntil(
      () => ping(port),
      15_000,
      `redis-server did not answer PING on port ${port}`,
      50,
    );
    // When the server exits early, readyOrExit answers with its log and this poll's later failure is moot.
    answers.catch(() => undefined);
    await readyOrExit(started, answers, 'redis-server', logFile);
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (!child) return;
    // A frozen server would sit on SIGTERM until the grace period ran out.
    child.kill('SIGCONT');
    await stopProcess(child, { signal, graceMs: 5000 });
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    logFile,
    start,
    stop,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    close: async () => {
      await stop();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(`redis-server: ${redisServerPath()}`);
  } catch (err) {
    console.error(err instanceof ToolMissingError ? err.message : String(err));
    process.exit(1);
  }
}
