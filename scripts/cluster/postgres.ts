/**
 * The cluster's PostgreSQL: its own data folder and loopback port, never the machine's default cluster,
 * so nothing here depends on (or disturbs) a PostgreSQL someone else runs. The server refuses to run as
 * root, so as root it runs as the `postgres` user Debian's package creates.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ClusterSetupError } from './provision.js';
import { pollUntil, readyOrExit, spawnLogged, stopProcess } from '../processes.js';

const run = promisify(execFile);

export interface PostgresOptions {
  bin: string;
  dataDir: string;
  port: number;
  /** the superuser initdb creates; Temporal connects as it */
  user: string;
  password: string;
  logFile: string;
}

export interface RunningPostgres {
  host: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** The uid/gid to run as: ourselves, unless we are root. */
async function databaseUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    throw new ClusterSetupError(
      "PostgreSQL cannot run as root and there is no `postgres` user; reinstall Debian's postgresql package (apt-get install --reinstall postgresql-common).",
    );
  }
}

async function initialise(
  options: PostgresOptions,
  owner: { uid: number; gid: number } | undefined,
): Promise<void> {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  if (owner) chownSync(options.dataDir, owner.uid, owner.gid);
  // initdb reads the password from a file; it must be readable by the database user and by nobody else.
  const scratch = mkdtempSync(join(tmpdir(), 'dws-cluster-pw-'));
  const pwfile = join(scratch, 'password');
  writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 });
  if (owner) {
    chownSync(scratch, owner.uid, owner.gid);
    chownSync(pwfile, owner.uid, owner.gid);
  }
  try {
    await run(
      join(options.bin, 'initdb'),
      [
        '--pgdata',
        options.dataDir,
        '--username',
        options.user,
        '--pwfile',
        pwfile,
        // Password authentication even on loopback, as any shared database would have it.
        '--auth',
        'scram-sha-256',
        '--encoding',
        'UTF8',
        '--locale',
        'C.UTF-8',
        '--no-instructions',
      ],
      { ...(owner ?? {}), env: { PATH: process.env.PATH, LANG: 'C.UTF-8' }, maxBuffer: 16 << 20 },
    );
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message).trim();
    throw new ClusterSetupError(
      `initdb of ${options.dataDir} failed: ${stderr.split('\n').slice(-2).join(' / ')}${owner ? ' (the postgres user must be able to reach that folder)' : ''}`,
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export async function startPostgres(options: PostgresOptions): Promise<RunningPostgres> {
  const owner = await databaseUser();
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) await initialise(options, owner);
  const child = spawnLogged(
    join(options.bin, 'postgres'),
    [
      '-D',
      options.dataDir,
      '-p',
      String(options.port),
      '-c',
      'listen_addresses=127.0.0.1',
      // TCP on loopback only: no socket file in a shared /var/run/postgresql.
      '-c',
      'unix_socket_directories=',
      // Every Temporal service keeps its own pool (20 for the default store, a few for visibility).
      '-c',
      'max_connections=200',
    ],
    { logFile: options.logFile, env: { PATH: process.env.PATH, LANG: 'C.UTF-8' }, ...(owner ?? {}) },
  );
  const ready = pollUntil(
    async () => {
      await run(join(options.bin, 'pg_isready'), [
        '-q',
        '-h',
        '127.0.0.1',
        '-p',
        String(options.port),
        '-d',
        'postgres',
      ]);
      return true;
    },
    60_000,
    `PostgreSQL did not accept connections on 127.0.0.1:${options.port} (log: ${options.logFile})`,
  );
  await readyOrExit(child, ready, 'PostgreSQL', options.logFile);
  return {
    host: '127.0.0.1',
    port: options.port,
    process: child,
    // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, the data is checkpointed.
    stop: () => stopProcess(child, { signal: 'SIGINT', graceMs: 30_000 }),
  };
}
