/**
 * The Temporal Server processes of a cluster, each stoppable, restartable and killable on its own: one
 * process running every role (the default, quickest to start), or the multi-host shape production runs,
 * where frontend, history (two hosts), matching (two) and the internal worker service are separate
 * processes on loopback, each with its own gRPC and membership (ringpop) ports, finding each other through
 * the membership table in the shared PostgreSQL. A killed history host's shards move to the one left.
 */
import { join } from 'node:path';
import { freePort } from '../processes.js';
import {
  freeMembershipPort,
  pickClusterPorts,
  TemporalServerProcess,
  type ClusterPorts,
  type DatabaseAccess,
  type TemporalService,
} from './temporal-server.js';

export type ClusterShape = 'single' | 'multi';

export const clusterShapes: readonly ClusterShape[] = ['single', 'multi'];

/** One Temporal Server process of the cluster. */
export interface ClusterHost {
  /** `temporal` (every role in one process), or the role and its number: `history-2` */
  readonly name: string;
  /** the roles it runs */
  readonly services: readonly TemporalService[];
  /** its own gRPC address */
  readonly address: string;
  /** its Prometheus endpoint */
  readonly metricsUrl: string;
  readonly pid: number | undefined;
  readonly running: boolean;
}

/** How many processes of each role the multi-host shape runs. */
export const multiHostLayout: ReadonlyArray<[TemporalService, number]> = [
  ['history', 2],
  ['matching', 2],
  ['frontend', 1],
  ['worker', 1],
];

/**
 * A host told to stop (SIGTERM) first leaves the membership ring, then keeps serving what it still gets
 * for this long while the others take over its shards (history) and task queue partitions (matching),
 * then exits: a rolling upgrade hands work over instead of dropping it. The server's default is 0 s.
 */
export const multiHostDrain = {
  'history.shutdownDrainDuration': '3s',
  'matching.shutdownDrainDuration': '3s',
  'frontend.shutdownDrainDuration': '2s',
};

export interface HostsOptions {
  shape: ClusterShape;
  binary: string;
  configDir: string;
  logsDir: string;
  db: DatabaseAccess;
  historyShards: number;
  frontendPort?: number;
  /** dynamic config beside the cluster's own, for every host */
  dynamicConfig?: Record<string, unknown>;
  /** added to every host's environment */
  env?: Record<string, string>;
}

export class TemporalHosts {
  private constructor(
    private readonly processes: Map<string, TemporalServerProcess>,
    /** the ports the frontend and the first host of each role listen on */
    readonly ports: ClusterPorts,
    readonly shape: ClusterShape,
  ) {}

  /** Writes each host's config on its own ports; nothing is started yet. */
  static async create(options: HostsOptions): Promise<TemporalHosts> {
    const taken = new Set<number>();
    const ports = await pickClusterPorts(options.frontendPort, taken);
    const processes = new Map<string, TemporalServerProcess>();
    const add = (name: string, hostPorts: ClusterPorts, services?: readonly TemporalService[]) =>
      processes.set(
        name,
        new TemporalServerProcess({
          binary: options.binary,
          name,
          ...(services ? { services } : {}),
          configDir: options.configDir,
          logFile: join(options.logsDir, `${name}.log`),
          db: options.db,
          ports: hostPorts,
          historyShards: options.historyShards,
          dynamicConfig: { ...(options.shape === 'multi' ? multiHostDrain : {}), ...options.dynamicConfig },
          ...(options.env ? { env: options.env } : {}),
        }),
      );
    if (options.shape === 'single') {
      add('temporal', ports);
      return new TemporalHosts(processes, ports, 'single');
    }
    for (const [service, count] of multiHostLayout) {
      for (let n = 1; n <= count; n++) {
        // The first host of a role keeps the shared ports; each further one gets its own pair. Every
        // config names the same frontend, which is what the worker service and the cluster metadata use.
        const own =
          n === 1
            ? {}
            : { [service]: await freePort(), [`${service}Membership`]: await freeMembershipPort(taken) };
        // The frontend keeps the cluster's metrics and profiler ports (RunningCluster.metricsUrl).
        const observed =
          service === 'frontend' && n === 1 ? {} : { metrics: await freePort(), pprof: await freePort() };
        add(`${service}-${n}`, { ...ports, ...own, ...observed }, [service]);
      }
    }
    return new TemporalHosts(processes, ports, 'multi');
  }

  /** The frontend's address, for TEMPORAL_ADDRESS. */
  get address(): string {
    return `127.0.0.1:${this.ports.frontend}`;
  }

  list(): ClusterHost[] {
    return [...this.processes].map(([name, process]) => ({
      name,
      services: process.services,
      address: process.hostAddress,
      metricsUrl: process.metricsUrl,
      get pid() {
        return process.pid;
      },
      get running() {
        return process.running;
      },
    }));
  }

  private host(name: string): TemporalServerProcess {
    const found = this.processes.get(name);
    if (!found) {
      throw new Error(`the cluster has no host ${name}; it has ${[...this.processes.keys()].join(', ')}`);
    }
    return found;
  }

  /**
   * Starts every host not running. The frontend first, alone: the first process on a fresh database writes
   * the cluster's metadata, and two doing it at once fail. Then the others all at once, as an orchestrator
   * would: a history host does not serve until matching hosts have joined, so role by role would wait.
   */
  async startAll(): Promise<void> {
    const stopped = [...this.processes.values()].filter((p) => !p.running);
    const first = stopped.find((p) => p.services.includes('frontend'));
    await first?.start();
    await Promise.all(stopped.filter((p) => p !== first).map((p) => p.start()));
  }

  /** SIGTERM: the server's own graceful shutdown (a history host hands its shards over first). */
  async stop(name: string): Promise<void> {
    await this.host(name).stop();
  }

  async start(name: string): Promise<void> {
    await this.host(name).start();
  }

  /** A rolling upgrade's step: SIGTERM, wait for the exit, start again on the same ports, wait until it serves. */
  async restart(name: string): Promise<void> {
    await this.stop(name);
    await this.start(name);
  }

  /** SIGKILL: no shutdown, no hand-over, exactly what a crashed or evicted host does. */
  async kill(name: string): Promise<void> {
    await this.host(name).kill();
  }

  /** Every host SIGKILLed and started again: the whole server lost at once. */
  async killAndRestartAll(): Promise<void> {
    for (const process of this.processes.values()) if (process.running) await process.kill();
    await this.startAll();
  }

  async stopAll(): Promise<void> {
    // The frontend first, so no new call comes in; then the rest together (each drains a few seconds,
    // and handing shards over to a host that is stopping too helps nothing).
    const all = [...this.processes.values()];
    const frontend = all.filter((p) => p.services.includes('frontend'));
    await Promise.all(frontend.map((p) => p.stop()));
    await Promise.all(all.filter((p) => !frontend.includes(p)).map((p) => p.stop()));
  }
}
