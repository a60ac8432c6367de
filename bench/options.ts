/** The bench's command line: `npm run bench -- [flags]`. A wrong flag stops it with a sentence naming it. */

export const caseNames = [
  'direct',
  'orchestrated',
  'polling',
  'scaling',
  'ceiling',
  'capacity',
  'actions',
  'http-otp',
] as const;
export type CaseName = (typeof caseNames)[number];

/** dev: the CLI's dev server (one process, SQLite); cluster: Temporal Server on PostgreSQL (scripts/cluster) */
export const serverKinds = ['dev', 'cluster'] as const;
export type ServerKind = (typeof serverKinds)[number];

/** memory: SQLite in memory; file: a temporary SQLite file, as `npm start` keeps one; file-wal: the same in WAL mode */
export const serverDbs = ['memory', 'file', 'file-wal'] as const;
export type ServerDb = (typeof serverDbs)[number];

export interface BenchOptions {
  quick: boolean;
  latencyMs: number;
  concurrencies: number[];
  warmupSeconds: number;
  measureSeconds: number;
  capacity: number;
  cases: CaseName[];
  /** passed to every worker process, after the WORKER_* variables of the bench's own environment */
  workerEnv: Record<string, string>;
  server: ServerKind;
  /** the dev server's database (the cluster's is PostgreSQL) */
  serverDb: ServerDb;
  /** workers run from JS compiled into .bench/dist rather than under tsx */
  compiled: boolean;
  label: string;
}

export const usage = `npm run bench -- [flags]

  --quick                 short windows and a small capacity run (about 4 minutes)
  --latency-ms N          sandbox latency per provider call (default 50, or BENCH_LATENCY_MS)
  --concurrency A,B,C     concurrent flows per case (default 1,50,200)
  --warmup-seconds N      discarded warm-up per case (default 3; quick 1)
  --measure-seconds N     measuring window per case (default 15; quick 5)
  --capacity N            flows left waiting for their code, then answered at once (default 2000; quick 300)
  --cases LIST            any of ${caseNames.join(',')} (default all; polling: the old journey,
                          start then the state polled for the code, at the lowest concurrency only)
  --worker-env KEY=VALUE  a setting for every worker process, e.g. WORKER_MAX_CACHED_WORKFLOWS=5000 (repeatable)
  --server KIND           dev: the CLI's dev server (default); cluster: Temporal Server with PostgreSQL,
                          a fresh database per group of cases (npm run cluster's build, provisioned once)
  --server-db KIND        the dev server's SQLite: ${serverDbs.join(' | ')} (default memory)
  --compiled              run the workers from JS compiled into .bench/dist, as production would, not under tsx
  --label NAME            names the JSON file under .bench/ (default: the time)
`;

export class BenchOptionsError extends Error {
  override name = 'BenchOptionsError';
}

/** --help: the usage goes to stdout and the exit code is 0. */
export class HelpRequested extends BenchOptionsError {
  override name = 'HelpRequested';
}

const switches = new Set(['quick', 'help', 'compiled']);
const valued = new Set([
  'latency-ms',
  'concurrency',
  'warmup-seconds',
  'measure-seconds',
  'capacity',
  'cases',
  'worker-env',
  'server',
  'server-db',
  'label',
]);

export function parseBenchOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): BenchOptions {
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new BenchOptionsError(`unexpected argument "${arg}"\n\n${usage}`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (switches.has(name)) {
      flags.set(name, ['true']);
      continue;
    }
    if (!valued.has(name)) throw new BenchOptionsError(`unknown flag --${name}\n\n${usage}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new BenchOptionsError(`--${name} needs a value`);
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  if (flags.has('help')) throw new HelpRequested(usage);

  const quick = flags.has('quick');
  const last = (name: string) => flags.get(name)?.at(-1);
  const cases = (last('cases') ?? caseNames.join(',')).split(',').map((name) => {
    if (!(caseNames as readonly string[]).includes(name)) {
      throw new BenchOptionsError(`--cases: "${name}" is not one of ${caseNames.join(', ')}`);
    }
    return name as CaseName;
  });
  const server = last('server') ?? 'dev';
  if (!(serverKinds as readonly string[]).includes(server)) {
    throw new BenchOptionsError(`--server must be one of ${serverKinds.join(', ')}`);
  }
  const serverDb = last('server-db') ?? 'memory';
  if (server === 'cluster' && flags.has('server-db')) {
    throw new BenchOptionsError(
      '--server-db is for the dev server; the cluster keeps its state in PostgreSQL',
    );
  }
  if (!(serverDbs as readonly string[]).includes(serverDb)) {
    throw new BenchOptionsError(`--server-db must be one of ${serverDbs.join(', ')}`);
  }
  const label = last('label') ?? new Date().toISOString().replace(/[:.]/g, '-');
  if (!/^[\w.-]{1,80}$/.test(label))
    throw new BenchOptionsError('--label may hold letters, digits, ".", "_" and "-" only');
  const workerEnv: Record<string, string> = {};
  for (const entry of flags.get('worker-env') ?? []) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(entry);
    if (!match) throw new BenchOptionsError(`--worker-env must be KEY=VALUE, got "${entry}"`);
    workerEnv[match[1]!] = match[2]!;
  }
  return {
    quick,
    latencyMs: whole('--latency-ms', last('latency-ms') ?? env.BENCH_LATENCY_MS ?? '50', 0),
    concurrencies: (last('concurrency') ?? '1,50,200').split(',').map((c) => whole('--concurrency', c, 1)),
    warmupSeconds: whole('--warmup-seconds', last('warmup-seconds') ?? (quick ? '1' : '3'), 0),
    measureSeconds: whole('--measure-seconds', last('measure-seconds') ?? (quick ? '5' : '15'), 1),
    capacity: whole('--capacity', last('capacity') ?? (quick ? '300' : '2000'), 1),
    cases,
    workerEnv,
    server: server as ServerKind,
    serverDb: serverDb as ServerDb,
    compiled: flags.has('compiled'),
    label,
  };
}

function whole(flag: string, raw: string, min: number): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min) {
    throw new BenchOptionsError(`${flag} must be a whole number of at least ${min}, got "${raw}"`);
  }
  return Number(raw);
}
