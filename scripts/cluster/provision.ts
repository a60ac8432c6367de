/**
 * Everything the cluster runs, built or installed once per machine from package registries by name and
 * kept outside the clone, so every clone and every CI run on the machine shares one build:
 *
 * - Temporal Server and its SQL schema tool: `go install go.temporal.io/server/cmd/...@v1.31.0` through
 *   the Go module proxy (v1.32 needs a newer Go than the machines here have);
 * - the schema files of that same module (`schema/postgresql/v12`), copied beside the binaries so a
 *   cleaned Go module cache cannot take them away;
 * - the Temporal Web UI server, `go install github.com/temporalio/ui-server/v2/cmd/server` (its module
 *   embeds the built UI);
 * - PostgreSQL from Debian's `postgresql` package.
 *
 * Each cache folder is named by the version it holds, so a version bump builds beside the old one.
 */
import { execFile, spawn } from 'node:child_process';
import {
  constants,
  accessSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  closeSync,
} from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const temporalServerVersion = 'v1.31.0';
/** The newest UI server whose module builds with the Go the machines have (v2.56 wants Go 1.26.9). */
export const temporalUiVersion = 'v2.55.0';

/** One sentence a person can act on, never a stack trace. */
export class ClusterSetupError extends Error {
  override name = 'ClusterSetupError';
}

/**
 * `DWS_CLUSTER_CACHE`, else per user `~/.cache/dws-verify/cluster`. As root the home folder is closed to
 * the `postgres` user the database must run as, so root's cache is the machine-wide `/var/cache`.
 */
export function clusterCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DWS_CLUSTER_CACHE) return env.DWS_CLUSTER_CACHE;
  if (process.getuid?.() === 0) return '/var/cache/dws-verify/cluster';
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dws-verify', 'cluster');
}

export interface ClusterBinaries {
  temporalServer: string;
  sqlTool: string;
  /** `schema/postgresql/v12` of the server module: `temporal/` and `visibility/`, each with `versioned/` */
  schemaDir: string;
  /** the Web UI server, when asked for */
  uiServer?: string;
  /** PostgreSQL's bin folder (`initdb`, `postgres`, `pg_isready`) */
  postgresBin: string;
  /** the PostgreSQL major version, part of the key of a data folder */
  postgresMajor: string;
}

export interface ProvisionOptions {
  /** build the Web UI server too (the tests do not need it) */
  ui?: boolean;
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

const run = promisify(execFile);

export async function provisionCluster(options: ProvisionOptions = {}): Promise<ClusterBinaries> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.error(line));
  const root = clusterCacheRoot(env);
  mkdirSync(root, { recursive: true });
  const postgres = await ensurePostgres(log);
  const go = findGo(env);
  const serverDir = join(root, `temporal-server-${temporalServerVersion}`);
  const uiDir = join(root, `temporal-ui-${temporalUiVersion}`);
  // Both builds at once: each is mostly waiting on downloads or the linker at different times.
  await Promise.all([
    goInstall(go, serverDir, ['go.temporal.io/server/cmd/server', 'go.temporal.io/server/cmd/tools/sql'], {
      version: temporalServerVersion,
      label: `Temporal Server ${temporalServerVersion}`,
      log,
      env,
      after: async () => copySchema(go, serverDir, env),
    }),
    options.ui
      ? goInstall(go, uiDir, ['github.com/temporalio/ui-server/v2/cmd/server'], {
          version: temporalUiVersion,
          label: `Temporal UI server ${temporalUiVersion}`,
          log,
          env,
        })
      : Promise.resolve(),
  ]);
  return {
    temporalServer: join(serverDir, 'bin', 'server'),
    sqlTool: join(serverDir, 'bin', 'sql'),
    schemaDir: join(serverDir, 'schema', 'postgresql', 'v12'),
    ...(options.ui ? { uiServer: join(uiDir, 'bin', 'server') } : {}),
    postgresBin: postgres.bin,
    postgresMajor: postgres.major,
  };
}

export function findGo(env: NodeJS.ProcessEnv = process.env): string {
  for (const candidate of [
    env.GO,
    ...(env.PATH ?? '').split(':').map((dir) => dir && join(dir, 'go')),
    '/usr/local/go/bin/go',
  ]) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next candidate
    }
  }
  throw new ClusterSetupError(
    `Go was not found (on PATH, /usr/local/go/bin or in GO); Go 1.26.2 or newer is needed to build Temporal Server ${temporalServerVersion} once with go install.`,
  );
}

interface GoInstallOptions {
  version: string;
  label: string;
  log: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /** more work that belongs to the same cache folder, done before it is marked complete */
  after?: () => Promise<void>;
}

/**
 * `go install pkg@version` into `<dir>/bin`, once: a `complete` marker is written only after everything
 * succeeded, and a lock keeps two clones (or CI beside a developer) from building into one folder at once.
 */
async function goInstall(
  go: string,
  dir: string,
  packages: string[],
  options: GoInstallOptions,
): Promise<void> {
  const marker = join(dir, 'complete');
  if (existsSync(marker)) return;
  await withLock(dir, options.log, async () => {
    if (existsSync(marker)) return;
    mkdirSync(join(dir, 'bin'), { recursive: true });
    const logFile = join(dir, 'go-install.log');
    options.log(
      `Building ${options.label} with go install (once per machine; about 16 minutes of CPU, 8 on an idle 2-core machine, and 1.6 GB of Go module cache; log: ${logFile}) ...`,
    );
    const started = Date.now();
    const out = openSync(logFile, 'w');
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(go, ['install', ...packages.map((pkg) => `${pkg}@${options.version}`)], {
        env: { ...options.env, GOBIN: join(dir, 'bin'), GOFLAGS: '-buildvcs=false' },
        stdio: ['ignore', out, out],
      });
      child.once('error', reject);
      child.once('exit', resolve);
    }).finally(() => closeSync(out));
    if (code !== 0) {
      const tail = (await readFile(logFile, 'utf8')).trim().split('\n').slice(-3).join(' / ');
      throw new ClusterSetupError(`go install of ${options.label} failed (${tail}); full log: ${logFile}`);
    }
    await options.after?.();
    await writeFile(
      marker,
      `${new Date().toISOString()} built in ${Math.round((Date.now() - started) / 1000)} s\n`,
    );
    options.log(`${options.label} built in ${Math.round((Date.now() - started) / 1000)} s.`);
  });
}

async function copySchema(go: string, serverDir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const { stdout } = await run(
    go,
    ['mod', 'download', '-json', `go.temporal.io/server@${temporalServerVersion}`],
    {
      env,
      maxBuffer: 1 << 20,
    },
  );
  const moduleDir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!moduleDir)
    throw new ClusterSetupError(
      `go mod download did not say where go.temporal.io/server@${temporalServerVersion} is`,
    );
  const target = join(serverDir, 'schema', 'postgresql', 'v12');
  await rm(target, { recursive: true, force: true });
  cpSync(join(moduleDir, 'schema', 'postgresql', 'v12'), target, { recursive: true });
}

/** A folder lock that survives nothing but a live holder: a lock left by a dead process is taken over. */
export async function withLock(
  dir: string,
  log: (line: string) => void,
  fn: () => Promise<void>,
): Promise<void> {
  const lock = `${dir}.lock`;
  mkdirSync(join(dir, '..'), { recursive: true });
  let said = false;
  for (;;) {
    try {
      mkdirSync(lock);
      await writeFile(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => '0'));
      if (holder && !isAlive(holder)) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (!said) log(`Waiting for process ${holder || '?'} that is provisioning ${dir} ...`);
      said = true;
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
  try {
    await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Debian's layout (`/usr/lib/postgresql/<major>/bin`), newest first; installed by apt when we are root. */
async function ensurePostgres(log: (line: string) => void): Promise<{ bin: string; major: string }> {
  const found = findPostgres();
  if (found) return found;
  const command = 'apt-get update && apt-get install -y --no-install-recommends postgresql';
  if (process.getuid?.() !== 0) {
    throw new ClusterSetupError(`PostgreSQL is not installed; run once: sudo sh -c '${command}'`);
  }
  log(`Installing PostgreSQL from Debian's packages (${command}) ...`);
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'postgresql']]) {
    await run('apt-get', args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      maxBuffer: 64 << 20,
    }).catch((err: Error & { stderr?: string }) => {
      throw new ClusterSetupError(
        `apt-get ${args.join(' ')} failed: ${(err.stderr ?? err.message).trim().split('\n').pop()}`,
      );
    });
  }
  const installed = findPostgres();
  if (!installed)
    throw new ClusterSetupError(
      'apt-get installed postgresql but no /usr/lib/postgresql/<version>/bin/postgres was found',
    );
  return installed;
}

function findPostgres(): { bin: string; major: string } | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const majors = readdirSync(base)
    .filter((name) => /^\d+$/.test(name) && existsSync(join(base, name, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] ? { bin: join(base, majors[0], 'bin'), major: majors[0] } : undefined;
}
