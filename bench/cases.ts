/**
 * One measured case: a closed-loop load at one concurrency, with the memory and CPU of every process
 * involved sampled over exactly that case.
 */
import { closedLoop, type ClosedLoopOptions, type LoadResult } from './load.js';
import {
  scrape,
  serverFigures,
  workerFigures,
  type ServerFigures,
  type WorkerTaskFigures,
} from './metrics.js';
import { ForeignLoad } from './machine.js';
import type { ServerProfile } from './server-profile.js';
import { round, threadCpuSeconds, UsageSampler, type Measured, type ProcessUsage } from './processes.js';

export type CaseKind = 'direct' | 'orchestrated' | 'polling' | 'ceiling';

export interface CaseResult extends LoadResult {
  kind: CaseKind;
  /** worker processes serving the case (0: no Temporal at all) */
  workers: number;
  /** per process: peak RSS while the case ran, CPU seconds it used */
  usage: Record<string, ProcessUsage>;
  /** the largest worker's peak RSS, and all workers' together */
  workerPeakRssMb: number;
  workersPeakRssMb: number;
  serverPeakRssMb: number;
  /** the cluster's PostgreSQL, all its processes (proportional set size, so shared buffers count once) */
  databasePeakMb?: number;
  /** CPU milliseconds per completed flow, by process role (database: the cluster's PostgreSQL) */
  cpuMsPerFlow: { workers: number; server: number; database?: number; sandbox: number; bench: number };
  /** average cores used by processes outside the bench while the case ran */
  otherLoadCores: number;
  /** new TCP connections that carried provider calls during the case (keep-alive reuse keeps it low) */
  providerConnections: number;
  /** the workers' CPU per flow by thread: main (activities), node threads (workflows), core, libuv */
  workerThreadsCpuMsPerFlow?: Record<string, number>;
  /** from the SDK's own metrics (all workers together), per flow */
  workerTasks?: WorkerTaskFigures;
  /** from the server's own metrics, per flow */
  server?: ServerFigures;
  /** the cluster's server CPU by part (history, matching, persistence...), over the measuring window */
  serverProfile?: ServerProfile;
}

export interface CaseProcesses {
  serverPid: number;
  /** the cluster's PostgreSQL postmaster, measured with its backends */
  databasePid?: number;
  sandboxPid: number;
  workerPids: number[];
  workerMetricsUrls?: string[];
  serverMetricsUrl?: string;
}

export interface CaseDefinition {
  kind: CaseKind;
  concurrency: number;
  warmupMs: number;
  measureMs: number;
  processes: CaseProcesses;
  prepare: (n: number) => Promise<string>;
  flow: ClosedLoopOptions['flow'];
  connectionsAccepted: () => Promise<number>;
}

export async function runCase(definition: CaseDefinition): Promise<CaseResult> {
  const { processes } = definition;
  const workerNames = processes.workerPids.map((_, i) => `worker-${i + 1}`);
  const pids: Record<string, Measured> = {
    server: processes.serverPid,
    ...(processes.databasePid !== undefined ? { database: { tree: processes.databasePid } } : {}),
    sandbox: processes.sandboxPid,
    bench: process.pid,
    ...Object.fromEntries(workerNames.map((name, i) => [name, processes.workerPids[i]!])),
  };
  const sampler = new UsageSampler(pids);
  const foreign = new ForeignLoad(() => Object.values(pids));
  const connectionsBefore = await definition.connectionsAccepted();
  const scrapeWorkers = async () => {
    const scrapes = await Promise.all((processes.workerMetricsUrls ?? []).map((url) => scrape(url)));
    // Workers' series are summed: the same names, distinct processes.
    const merged = new Map<string, number>();
    for (const one of scrapes)
      for (const [key, value] of one) merged.set(key, (merged.get(key) ?? 0) + value);
    return merged;
  };
  const [workersBefore, serverBefore] = [await scrapeWorkers(), await scrape(processes.serverMetricsUrl)];
  const threadsBefore = processes.workerPids.map(threadCpuSeconds);
  sampler.start();
  foreign.start();
  const load = await closedLoop(definition);
  const otherLoadCores = foreign.stop();
  const usage = sampler.stop();
  const threadsAfter = processes.workerPids.map(threadCpuSeconds);
  const [workersAfter, serverAfter] = [await scrapeWorkers(), await scrape(processes.serverMetricsUrl)];
  const providerConnections = (await definition.connectionsAccepted()) - connectionsBefore;

  // CPU is over the whole case (warm-up and drain too), so divide by every flow it ran.
  const flowsRun = Math.max(1, load.flowsFinished);
  const perFlow = (seconds: number) => round((seconds * 1000) / flowsRun, 1);
  const workerUsage = workerNames.map((name) => usage[name]!);
  return {
    kind: definition.kind,
    workers: workerNames.length,
    ...load,
    usage,
    workerPeakRssMb: Math.max(0, ...workerUsage.map((u) => u.peakRssMb)),
    workersPeakRssMb: round(
      workerUsage.reduce((sum, u) => sum + u.peakRssMb, 0),
      1,
    ),
    serverPeakRssMb: usage.server!.peakRssMb,
    ...(usage.database ? { databasePeakMb: usage.database.peakRssMb } : {}),
    cpuMsPerFlow: {
      workers: perFlow(workerUsage.reduce((sum, u) => sum + u.cpuSeconds, 0)),
      server: perFlow(usage.server!.cpuSeconds),
      ...(usage.database ? { database: perFlow(usage.database.cpuSeconds) } : {}),
      sandbox: perFlow(usage.sandbox!.cpuSeconds),
      bench: perFlow(usage.bench!.cpuSeconds),
    },
    otherLoadCores,
    providerConnections,
    ...(threadsAfter.length
      ? { workerThreadsCpuMsPerFlow: threadDelta(threadsBefore, threadsAfter, perFlow) }
      : {}),
    workerTasks: workerFigures(workersBefore, workersAfter, flowsRun),
    server: serverFigures(serverBefore, serverAfter, flowsRun),
  };
}

/** Summed over the workers, by thread role, per flow. */
function threadDelta(
  before: Array<Record<string, number>>,
  after: Array<Record<string, number>>,
  perFlow: (seconds: number) => number,
): Record<string, number> {
  const total: Record<string, number> = {};
  after.forEach((roles, i) => {
    for (const [role, seconds] of Object.entries(roles))
      total[role] = (total[role] ?? 0) + seconds - (before[i]?.[role] ?? 0);
  });
  return Object.fromEntries(Object.entries(total).map(([role, seconds]) => [role, perFlow(seconds)]));
}
