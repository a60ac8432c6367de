/**
 * A real redis-server for the tests that share counters: Debian's, on a free loopback port, with nothing
 * written to disk, stopped and started again on the same port when a test needs an outage.
 * `npm run redis:install` installs it; the tests do the same when it is missing.
 *
 * Order: `REDIS_SERVER_PATH`, then `redis-server` on PATH, then `/usr/bin/redis-server`; when none exists
 * and we run as root, `apt-get install redis-server` (after one `apt-get update`); otherwise one sentence
 * saying what to install.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, pollUntil, readyOrExit, spawnLogged, stopProcess } from '../../scripts/processes.js';

export const debianRedisServer = '/usr/bin/redis-server';

export class RedisMissingError extends Error {
  override name = 'RedisMissingError';
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  return (env.PATH ?? '')
    .split(delimiter)
    .filter((folder) => folder !== '')
    .map((folder) => join(folder, command))
    .find(executable);
}

export function redisServerPath(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = (line) => console.error(line),
): string {
  const configured = env.REDIS_SERVER_PATH;
  if (configured) {
    if (!executable(configured)) {
      throw new RedisMissingError(`REDIS_SERVER_PATH is set to ${configured}, which is not executable.`);
    }
    return configured;
  }
  const found =
    onPath('redis-server', env) ?? (executable(debianRedisServer) ? debianRedisServer : undefined);
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new RedisMissingError(
      'redis-server is not installed: run `sudo apt-get install -y redis-server` (Debian/Ubuntu) or set REDIS_SERVER_PATH to a redis-server binary.',
    );
  }
  log('Installing redis-server with apt-get (once) ...');
  const apt = (args: string[]) =>
    execFileSync('apt-get', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  try {
    apt(['update']);
    apt(['install', '-y', '--no-install-recommends', 'redis-server']);
  } catch (err) {
    const reason = String((err as { stderr?: Buffer }).stderr ?? '')
      .trim()
      .split('\n')
      .pop();
    throw new RedisMissingError(
      `apt-get could not install redis-server (${reason || 'apt-get failed'}); install it yourself or set REDIS_SERVER_PATH.`,
    );
  }
  if (!executable(debianRedisServer)) {
    throw new RedisMissingError(`apt-get installed redis-server but ${debianRedisServer} is missing.`);
  }
  return debianRedisServer;
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
    console.error(err instanceof RedisMissingError ? err.message : String(err));
    process.exit(1);
  }
}
