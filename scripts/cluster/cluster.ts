/**
 * A production-shaped Temporal cluster on this machine: PostgreSQL (persistence and visibility in
 * separate databases), Temporal Server with several history shards (one process, or with `shape: 'multi'`
 * one process per host and role: ./hosts.ts), the namespace and the project's search attributes, and
 * optionally the Web UI, all on loopback ports. `npm run cluster` runs it in the foreground; tests and the
 * bench call startCluster() and get the address, each host to stop, restart or kill, and a stop().
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { temporalTargetFromEnv } from '../../config/temporal.js';
import { ensureSearchAttributes } from '../../worker/search-attributes.js';
import { verificationSearchAttributes } from '../../workflows/search-attributes.js';
import { freePort, pollUntil } from '../processes.js';
import { startPostgres, type RunningPostgres } from './postgres.js';
import {
  clusterCacheRoot,
  provisionCluster,
  temporalServerVersion,
  type ClusterBinaries,
} from './provision.js';
import { TemporalHosts, type ClusterHost, type ClusterShape } from './hosts.js';
import { setupSchemas, type DatabaseAccess } from './temporal-server.js';
import { startUiServer, type RunningUiServer } from './ui.js';

export interface ClusterOptions {
  /**
   * Where the database and the generated configs live. Default: one folder in the cache per Temporal
   * version, PostgreSQL version and shard count (none of them can change under an existing database), so
   * workflows survive a restart of `npm run cluster`. Tests pass a fresh folder.
   */
  stateDir?: string;
  /** the frontend's gRPC port; default (or 0): a free one */
  frontendPort?: number;
  /** PostgreSQL's port; default (or 0): a free one */
  postgresPort?: number;
  /** start the Web UI on this port (0: a free one); default: no UI */
  uiPort?: number;
  /** what the UI asks to decode payloads, e.g. http://localhost:8080/codec */
  codecEndpoint?: string;
  namespace?: string;
  historyShards?: number;
  /**
   * 'single' (default): one server process runs every role, the quickest to start. 'multi': frontend,
   * history ×2, matching ×2 and the internal worker service as separate processes (./hosts.ts).
   */
  shape?: ClusterShape;
  /** dynamic config beside the cluster's own (clusterDynamicConfig), e.g. a lever the bench compares */
  dynamicConfig?: Record<string, unknown>;
  /** added to every server process's environment, e.g. the Go runtime's GOGC */
  serverEnv?: Record<string, string>;
  log?: (line: string) => void;
}

export interface RunningCluster {
  /** host:port of the frontend, for TEMPORAL_ADDRESS */
  address: string;
  namespace: string;
  historyShards: number;
  uiUrl?: string;
  /** the server's Prometheus endpoint */
  metricsUrl: string;
  /** the server's Go profiler, e.g. `${pprofUrl}/profile?seconds=10` */
  pprofUrl: string;
  postgres: { host: string; port: number; pid: number | undefined };
  stateDir: string;
  shape: ClusterShape;
  /** pid of the (first) Temporal server process (changes on restart) */
  readonly serverPid: number | undefined;
  /** the server processes: `temporal`, or frontend-1, history-1, history-2, matching-1, ... */
  hosts(): ClusterHost[];
  /** SIGTERM one host and wait until it has exited (a history host hands its shards over first) */
  stopHost(name: string): Promise<void>;
  /** start a stopped host on its ports and wait until it serves */
  startHost(name: string): Promise<void>;
  /** stopHost, then startHost: one step of a rolling upgrade */
  restartHost(name: string): Promise<void>;
  /** SIGKILL one host, left down */
  killHost(name: string): Promise<void>;
  /** SIGKILL every Temporal server process and start them again on the same ports and databases */
  killAndRestartServer(): Promise<void>;
  stop(): Promise<void>;
}

export const defaultHistoryShards = 4;
const databaseUser = 'temporal';
const retentionDays = 3;

export function defaultStateDir(
  binaries: Pick<ClusterBinaries, 'postgresMajor'>,
  historyShards: number,
): string {
  return join(
    clusterCacheRoot(),
    'state',
    `temporal-${temporalServerVersion}-pg${binaries.postgresMajor}-${historyShards}-shards`,
  );
}

export async function startCluster(options: ClusterOptions = {}): Promise<RunningCluster> {
  const log = options.log ?? ((line: string) => console.error(line));
  const namespace = options.namespace ?? 'default';
  const historyShards = options.historyShards ?? defaultHistoryShards;
  const binaries = await provisionCluster({ ui: options.uiPort !== undefined, log });
  const stateDir = options.stateDir ?? defaultStateDir(binaries, historyShards);
  mkdirSync(stateDir, { recursive: true });
  // The database user must be able to pass through to pgdata/; the files here keep their own modes.
  chmodSync(stateDir, 0o711);
  const logs = join(stateDir, 'logs');
  mkdirSync(logs, { recursive: true, mode: 0o700 });

  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.splice(0).reverse()) await fn().catch(() => undefined);
  };
  try {
    const dataDir = join(stateDir, 'pgdata');
    const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
    const db: DatabaseAccess = {
      host: '127.0.0.1',
      port: options.postgresPort || (await freePort()),
      user: databaseUser,
      password: databasePassword(stateDir),
    };
    const postgres: RunningPostgres = await startPostgres({
      bin: binaries.postgresBin,
      dataDir,
      port: db.port,
      user: db.user,
      password: db.password,
      logFile: join(logs, 'postgres.log'),
    });
    stops.push(() => postgres.stop());
    const schemaMarker = join(stateDir, `schema-${temporalServerVersion}`);
    if (fresh || !existsSync(schemaMarker))
      log(`Setting up the Temporal schemas in PostgreSQL on 127.0.0.1:${db.port} ...`);
    await setupSchemas(binaries, db, fresh || !existsSync(schemaMarker));
    writeFileSync(schemaMarker, `${new Date().toISOString()}\n`);

    const shape = options.shape ?? 'single';
    const server = await TemporalHosts.create({
      shape,
      binary: binaries.temporalServer,
      configDir: stateDir,
      logsDir: logs,
      db,
      historyShards,
      ...(options.frontendPort ? { frontendPort: options.frontendPort } : {}),
      ...(options.dynamicConfig ? { dynamicConfig: options.dynamicConfig } : {}),
      ...(options.serverEnv ? { env: options.serverEnv } : {}),
    });
    const ports = server.ports;
    log(
      `Starting Temporal Server ${temporalServerVersion} (${historyShards} history shards${
        shape === 'multi'
          ? `, hosts ${server
              .list()
              .map((host) => host.name)
              .join(', ')}`
          : ''
      }) on ${server.address} ...`,
    );
    stops.push(() => server.stopAll());
    await server.startAll();
    await prepareNamespace(server.address, namespace, log);

    let ui: RunningUiServer | undefined;
    if (options.uiPort !== undefined && binaries.uiServer) {
      ui = await startUiServer({
        binary: binaries.uiServer,
        configDir: join(stateDir, 'ui'),
        logFile: join(logs, 'ui.log'),
        temporalAddress: server.address,
        port: options.uiPort === 0 ? await freePort() : options.uiPort,
        namespace,
        ...(options.codecEndpoint ? { codecEndpoint: options.codecEndpoint } : {}),
      });
      stops.push(() => ui!.stop());
    }

    return {
      address: server.address,
      namespace,
      historyShards,
      ...(ui ? { uiUrl: ui.url } : {}),
      metricsUrl: `http://127.0.0.1:${ports.metrics}/metrics`,
      pprofUrl: `http://127.0.0.1:${ports.pprof}/debug/pprof`,
      postgres: { host: postgres.host, port: postgres.port, pid: postgres.process.pid },
      stateDir,
      shape,
      get serverPid() {
        return server.list()[0]?.pid;
      },
      hosts: () => server.list(),
      stopHost: (name) => server.stop(name),
      startHost: (name) => server.start(name),
      restartHost: (name) => server.restart(name),
      killHost: (name) => server.kill(name),
      killAndRestartServer: () => server.killAndRestartAll(),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One password per database, made when the database is, readable by the owner of the state folder only. */
function databasePassword(stateDir: string): string {
  const file = join(stateDir, 'postgres-password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(18).toString('base64url');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

const grpcAlreadyExists = 6;

/**
 * What an operator does once per cluster: register the namespace, then the search attributes (with the
 * worker's own registration code, the same call a worker makes when it may). Returns once a visibility
 * query on them is accepted, so the first workflow can upsert them.
 */
async function prepareNamespace(
  address: string,
  namespace: string,
  log: (line: string) => void,
): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(`${retentionDays} days`),
      });
      log(`Registered namespace ${namespace} (retention ${retentionDays} days).`);
    } catch (err) {
      if ((err as { code?: number }).code !== grpcAlreadyExists) throw err;
    }
    await pollUntil(
      async () => {
        await connection.workflowService.describeNamespace({ namespace });
        return true;
      },
      30_000,
      `namespace ${namespace} was not usable`,
    );
    await ensureSearchAttributes(
      temporalTargetFromEnv({ TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace }),
    );
    const query = verificationSearchAttributes.map((key) => `${key.name} = "none"`).join(' AND ');
    await pollUntil(
      async () => {
        await connection.workflowService.countWorkflowExecutions({ namespace, query });
        return true;
      },
      30_000,
      `the search attributes ${verificationSearchAttributes.map((k) => k.name).join(', ')} were not queryable in ${namespace}`,
    );
  } finally {
    await connection.close();
  }
}
