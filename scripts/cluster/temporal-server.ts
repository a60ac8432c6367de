/**
 * Temporal Server as a production cluster runs it: PostgreSQL for persistence and for visibility
 * (separate databases), several history shards, every service on its own loopback port. One process runs
 * the four services, or (the multi-host cluster, ./multi-host.ts) each process runs one of them with its
 * own ports; a restart is a restart of that process on the same ports and databases.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { ClusterSetupError, type ClusterBinaries } from './provision.js';
import { freePort, pollUntil, readyOrExit, spawnLogged, stopProcess } from '../processes.js';

const run = promisify(execFile);

export interface DatabaseAccess {
  host: string;
  port: number;
  user: string;
  password: string;
}

export const persistenceDatabase = 'temporal';
export const visibilityDatabase = 'temporal_visibility';

/** grpc, membership (ringpop) and HTTP ports of each service, the Prometheus endpoint and the profiler. */
export interface ClusterPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  metrics: number;
  /** Go's profiler (net/http/pprof), for finding where the server spends its CPU */
  pprof: number;
}

/**
 * A free loopback port below 32768. The SQL schema keeps a member's ringpop port in a `smallint` column
 * (cluster_membership.rpc_port), and the kernel hands out ephemeral ports from 32768 up, so membership
 * ports are picked by hand from the range below.
 */
export async function freeMembershipPort(taken: Set<number>): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const candidate = 20_000 + Math.floor(Math.random() * 12_768);
    if (taken.has(candidate)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(candidate, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) {
      taken.add(candidate);
      return candidate;
    }
  }
  throw new ClusterSetupError('no free loopback port below 32768 was found for the cluster membership');
}

/** The frontend where asked, everything else wherever there is room. */
export async function pickClusterPorts(
  frontend?: number,
  taken: Set<number> = new Set<number>(),
): Promise<ClusterPorts> {
  const member = () => freeMembershipPort(taken);
  return {
    frontend: frontend ?? (await freePort()),
    frontendHttp: await freePort(),
    frontendMembership: await member(),
    history: await freePort(),
    historyMembership: await member(),
    matching: await freePort(),
    matchingMembership: await member(),
    worker: await freePort(),
    workerMembership: await member(),
    metrics: await freePort(),
    pprof: await freePort(),
  };
}

/**
 * Creates both databases and brings their schemas to the module's newest version. `update-schema` is a
 * no-op on a database already there, so a kept database follows a Temporal upgrade the same way.
 */
export async function setupSchemas(
  binaries: Pick<ClusterBinaries, 'sqlTool' | 'schemaDir'>,
  db: DatabaseAccess,
  fresh: boolean,
): Promise<void> {
  const env = {
    PATH: process.env.PATH,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: db.host,
    SQL_PORT: String(db.port),
    SQL_USER: db.user,
    // Passed in the environment, not as an argument anyone can read in `ps`.
    SQL_PASSWORD: db.password,
  };
  for (const [database, folder] of [
    [persistenceDatabase, 'temporal'],
    [visibilityDatabase, 'visibility'],
  ] as const) {
    const steps = [
      ...(fresh ? [['create-database'], ['setup-schema', '-v', '0.0']] : []),
      ['update-schema', '-d', join(binaries.schemaDir, folder, 'versioned')],
    ];
    for (const step of steps) {
      try {
        await run(binaries.sqlTool, ['--quiet', ...step], {
          env: { ...env, SQL_DATABASE: database },
          maxBuffer: 16 << 20,
        });
      } catch (err) {
        const output = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
        throw new ClusterSetupError(
          `temporal-sql-tool ${step[0]} of ${database} failed: ${output.trim().split('\n').slice(-2).join(' / ') || (err as Error).message}`,
        );
      }
    }
  }
}

/** The roles a Temporal Server process can run (`temporal-server start --service ...`). */
export type TemporalService = 'frontend' | 'history' | 'matching' | 'worker';

/** What each role answers on the standard gRPC health service once it serves. */
const healthServiceNames: Record<TemporalService, string> = {
  frontend: 'temporal.api.workflowservice.v1.WorkflowService',
  history: 'temporal.api.workflowservice.v1.HistoryService',
  matching: 'temporal.api.workflowservice.v1.MatchingService',
  worker: '',
};

export interface TemporalServerOptions {
  binary: string;
  /** what the config file is named after: `temporal` (one process, every role) or the host's name */
  name?: string;
  /** the roles this process runs; default all four in one process */
  services?: readonly TemporalService[];
  /** where the generated config and dynamic config are written */
  configDir: string;
  logFile: string;
  db: DatabaseAccess;
  ports: ClusterPorts;
  historyShards: number;
  /** dynamic config beside the cluster's own (key: value) */
  dynamicConfig?: Record<string, unknown>;
  /** added to the server's environment, e.g. the Go runtime's GOGC */
  env?: Record<string, string>;
}

function datastore(database: string, db: DatabaseAccess, maxConns: number) {
  return {
    sql: {
      pluginName: 'postgres12',
      databaseName: database,
      connectAddr: `${db.host}:${db.port}`,
      connectProtocol: 'tcp',
      user: db.user,
      password: db.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  };
}

/** The server's static config (JSON is YAML, so no YAML writer is needed) and its dynamic config. */
export function writeServerConfig(options: TemporalServerOptions): string {
  const { ports } = options;
  const dynamicConfig = join(options.configDir, 'dynamicconfig.yaml');
  writeFileSync(
    dynamicConfig,
    [
      '# Dynamic config of the dws-verify cluster, polled every 10 s. Server defaults, but eager activity',
      '# dispatch is on (as in the dev server and in v1.32), and for Worker',
      '# Deployments: both switches stated (as for the dev server), and a build that stopped being current',
      '# shows DRAINED within seconds instead of minutes, so a rollout tried here is not a wait. With SQL',
      '# visibility a registered search attribute is usable once the namespace cache refreshes (2 s).',
      JSON.stringify({
        'system.enableDeploymentVersions': [{ value: true }],
        'frontend.workerVersioningWorkflowAPIs': [{ value: true }],
        'matching.wv.VersionDrainageStatusVisibilityGracePeriod': [{ value: '5s' }],
        'matching.wv.VersionDrainageStatusRefreshInterval': [{ value: '1s' }],
        // Off by default until Temporal Server v1.32 (the dev server has it on): an activity scheduled by
        // a workflow task goes back to the worker in the task's answer instead of through matching and
        // the database. Measured in BENCHMARKS.md (round 4, the eager lever).
        'system.enableActivityEagerExecution': [{ value: true }],
        ...Object.fromEntries(
          Object.entries(options.dynamicConfig ?? {}).map(([key, value]) => [key, [{ value }]]),
        ),
      }),
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const rpc = (grpcPort: number, membershipPort: number, extra: Record<string, unknown> = {}) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
  });
  const config = {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: options.historyShards,
      datastores: {
        'postgres-default': datastore(persistenceDatabase, options.db, 20),
        'postgres-visibility': datastore(visibilityDatabase, options.db, 10),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      pprof: { port: ports.pprof, host: '127.0.0.1' },
      metrics: {
        prometheus: {
          framework: 'tally',
          timerType: 'histogram',
          listenAddress: `127.0.0.1:${ports.metrics}`,
        },
      },
    },
    services: {
      frontend: rpc(ports.frontend, ports.frontendMembership, { httpPort: ports.frontendHttp }),
      history: rpc(ports.history, ports.historyMembership),
      matching: rpc(ports.matching, ports.matchingMembership),
      worker: rpc(ports.worker, ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.frontend}`,
          httpAddress: `127.0.0.1:${ports.frontendHttp}`,
        },
      },
    },
    // The internal worker service of a multi-host cluster reaches the frontend here.
    publicClient: { hostPort: `127.0.0.1:${ports.frontend}` },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfig, pollInterval: '10s' },
  };
  const file = join(options.configDir, `${options.name ?? 'temporal'}.yaml`);
  // The file holds the database password.
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return file;
}

/** Answers once the frontend says it serves and can read the system namespace from the database. */
export async function frontendAnswers(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    await connection.workflowService.describeNamespace({ namespace: 'temporal-system' });
    return true;
  } finally {
    await connection.close();
  }
}

/**
 * Whether a role answers SERVING on its own gRPC port. The internal worker service serves no gRPC API of
 * its own, so it counts as ready once the standard health service answers at all.
 */
export async function hostServes(address: string, service: TemporalService): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    const { status } = await connection.healthService.check({ service: healthServiceNames[service] });
    return service === 'worker' || status === 1;
  } finally {
    await connection.close();
  }
}

/** The server process on fixed ports and databases, so killing and starting it again loses nothing. */
export class TemporalServerProcess {
  private child: ChildProcess | undefined;
  private readonly configFile: string;
  /** the frontend, which every process's config names */
  readonly address: string;
  /** this process's own gRPC address: the frontend's, or the one role's it runs */
  readonly hostAddress: string;

  constructor(private readonly options: TemporalServerOptions) {
    this.configFile = writeServerConfig(options);
    this.address = `127.0.0.1:${options.ports.frontend}`;
    const only = options.services?.length === 1 ? options.services[0] : undefined;
    this.hostAddress = only ? `127.0.0.1:${options.ports[only]}` : this.address;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get services(): readonly TemporalService[] {
    return this.options.services ?? ['frontend', 'history', 'matching', 'worker'];
  }

  get metricsUrl(): string {
    return `http://127.0.0.1:${this.options.ports.metrics}/metrics`;
  }

  /** Ready once its role serves; a process with the frontend, once the frontend reads the database. */
  private answers(): Promise<boolean> {
    const services = this.options.services;
    if (!services || services.includes('frontend')) return frontendAnswers(this.address);
    return hostServes(this.hostAddress, services[0]!);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('the Temporal server is already running');
    const child = spawnLogged(
      this.options.binary,
      [
        '--config-file',
        this.configFile,
        '--allow-no-auth',
        'start',
        ...(this.options.services ?? []).flatMap((service) => ['--service', service]),
      ],
      {
        logFile: this.options.logFile,
        cwd: this.options.configDir,
        env: { ...process.env, ...this.options.env },
      },
    );
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    await readyOrExit(
      child,
      pollUntil(
        () => this.answers(),
        180_000,
        `Temporal Server${this.options.name ? ` ${this.options.name}` : ''} did not answer on ${this.hostAddress}`,
        500,
      ),
      `Temporal Server${this.options.name ? ` ${this.options.name}` : ''}`,
      this.options.logFile,
    );
  }

  /** SIGKILL: no shutdown, no hand-over of shards, exactly what a crashed or evicted host does. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) throw new Error('there is no Temporal server to kill');
    await stopProcess(child, { signal: 'SIGKILL', graceMs: 10_000 });
    this.child = undefined;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await stopProcess(child, { signal: 'SIGTERM', graceMs: 30_000 });
  }
}
