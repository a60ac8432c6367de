/** The bench's figures as tables for a person and as JSON under .bench/ for a later comparison. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CapacityResult } from './capacity.js';
import type { CaseResult } from './cases.js';
import type { JourneyActions } from './billable-actions.js';
import type { MachineDescription } from './machine.js';
import type { LatencySummary } from './stats.js';
import type { BenchOptions } from './options.js';
import { round } from './processes.js';
import type { WorkerTuning } from '../worker/config.js';

export interface Ratios {
  concurrency: number;
  /** orchestrated p50 latency over direct p50 latency: the time Temporal adds, as a factor */
  orchestratedToDirectP50?: number;
  /** orchestrated throughput over direct throughput */
  orchestratedToDirectThroughput?: number;
  /** orchestrated throughput over the ceiling's: how much of the server's capacity the real flow reaches */
  orchestratedToCeilingThroughput?: number;
}

export interface ScalingComparison {
  concurrency: number;
  oneWorkerFlowsPerSecond: number;
  twoWorkersFlowsPerSecond: number;
  speedup: number;
}

export interface BenchReport {
  label: string;
  startedAt: string;
  durationSeconds: number;
  machine: MachineDescription;
  options: BenchOptions;
  /** what the worker processes ran with (worker/config.ts defaults plus any --worker-env) */
  workerTuning?: WorkerTuning;
  cases: CaseResult[];
  ratios: Ratios[];
  scaling?: ScalingComparison;
  capacity?: CapacityResult;
  userWaits?: UserWaitComparison[];
  actions?: JourneyActions[];
}

export interface UserWaitComparison {
  kind: CaseResult['kind'];
  concurrency: number;
  codeSent: LatencySummary;
  verdict: LatencySummary;
  /** p50 minus the direct case's p50 at the same concurrency: what orchestration adds */
  codeSentOverFloorP50?: number;
  verdictOverFloorP50?: number;
}

export function userWaitsOf(cases: readonly CaseResult[]): UserWaitComparison[] {
  const direct = (concurrency: number) =>
    cases.find((c) => c.kind === 'direct' && c.concurrency === concurrency);
  return cases
    .filter((c) => c.waitsMs?.codeSentMs && c.waitsMs.verdictMs && c.workers <= 1)
    .map((c) => {
      const floor = c.kind === 'direct' ? undefined : direct(c.concurrency);
      const over = (name: 'codeSentMs' | 'verdictMs') =>
        floor?.waitsMs?.[name] ? round(c.waitsMs[name]!.p50 - floor.waitsMs[name].p50, 1) : undefined;
      return {
        kind: c.kind,
        concurrency: c.concurrency,
        codeSent: c.waitsMs.codeSentMs!,
        verdict: c.waitsMs.verdictMs!,
        ...(over('codeSentMs') !== undefined ? { codeSentOverFloorP50: over('codeSentMs') } : {}),
        ...(over('verdictMs') !== undefined ? { verdictOverFloorP50: over('verdictMs') } : {}),
      };
    });
}

export function ratiosOf(cases: readonly CaseResult[], concurrencies: readonly number[]): Ratios[] {
  const find = (kind: CaseResult['kind'], concurrency: number) =>
    cases.find((c) => c.kind === kind && c.concurrency === concurrency && c.workers <= 1);
  const ratio = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined && b > 0 ? round(a / b, 2) : undefined;
  return concurrencies.map((concurrency) => {
    const direct = find('direct', concurrency);
    const orchestrated = find('orchestrated', concurrency);
    const ceiling = find('ceiling', concurrency);
    return {
      concurrency,
      orchestratedToDirectP50: ratio(orchestrated?.latencyMs.p50, direct?.latencyMs.p50),
      orchestratedToDirectThroughput: ratio(orchestrated?.flowsPerSecond, direct?.flowsPerSecond),
      orchestratedToCeilingThroughput: ratio(orchestrated?.flowsPerSecond, ceiling?.flowsPerSecond),
    };
  });
}

export function scalingOf(cases: readonly CaseResult[]): ScalingComparison | undefined {
  const two = cases.find((c) => c.kind === 'orchestrated' && c.workers === 2);
  if (!two) return undefined;
  const one = cases.find(
    (c) => c.kind === 'orchestrated' && c.workers === 1 && c.concurrency === two.concurrency,
  );
  if (!one) return undefined;
  return {
    concurrency: two.concurrency,
    oneWorkerFlowsPerSecond: one.flowsPerSecond,
    twoWorkersFlowsPerSecond: two.flowsPerSecond,
    speedup: round(two.flowsPerSecond / Math.max(one.flowsPerSecond, 0.001), 2),
  };
}

export function formatReport(report: BenchReport): string {
  const lines: string[] = [];
  const m = report.machine;
  const cluster = report.options.server === 'cluster';
  lines.push(
    `Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, node ${m.node}, ${m.platform}; ` +
      `other processes used ${m.otherLoadAtStartCores} cores at start`,
    `Sandbox latency ${report.options.latencyMs} ms per provider call; ` +
      (cluster
        ? 'server: Temporal Server cluster on PostgreSQL; '
        : `server: dev server, SQLite ${report.options.serverDb}; `) +
      `workers ${report.options.compiled ? 'from compiled JS' : 'under tsx'}; ` +
      `window ${report.options.measureSeconds} s after ${report.options.warmupSeconds} s warm-up` +
      (report.workerTuning ? `\nWorker tuning: ${describeTuning(report.workerTuning)}` : ''),
    '',
  );
  lines.push(
    table(
      [
        'case',
        'workers',
        'conc',
        'flows',
        'failed',
        'flows/s',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'worker RSS MB',
        cluster ? 'server / db MB' : 'server RSS MB',
        cluster ? 'CPU ms/flow wkr/srv/db' : 'CPU ms/flow wkr/srv',
        'other load',
      ],
      report.cases.map((c) => [
        c.kind,
        String(c.workers),
        String(c.concurrency),
        String(c.completed),
        String(c.failed),
        c.flowsPerSecond.toFixed(1),
        fixed(c.latencyMs.p50),
        fixed(c.latencyMs.p95),
        fixed(c.latencyMs.p99),
        c.workers
          ? c.workers > 1
            ? `${c.workerPeakRssMb} (sum ${c.workersPeakRssMb})`
            : String(c.workerPeakRssMb)
          : '-',
        c.workers
          ? c.databasePeakMb !== undefined
            ? `${c.serverPeakRssMb} / ${c.databasePeakMb}`
            : String(c.serverPeakRssMb)
          : '-',
        c.workers
          ? [c.cpuMsPerFlow.workers, c.cpuMsPerFlow.server, c.cpuMsPerFlow.database]
              .filter((v) => v !== undefined)
              .join(' / ')
          : '-',
        `${c.otherLoadCores} cores`,
      ]),
    ),
  );
  for (const c of report.cases.filter((c) => c.failures.length)) {
    lines.push(`  ${c.kind} c=${c.concurrency} failures: ${c.failures.join(' | ')}`);
  }
  if (report.ratios.some((r) => Object.values(r).some((v) => v !== undefined && v !== r.concurrency))) {
    lines.push(
      '',
      table(
        ['conc', 'orchestrated/direct p50', 'orchestrated/direct flows/s', 'orchestrated/ceiling flows/s'],
        report.ratios.map((r) => [
          String(r.concurrency),
          maybe(r.orchestratedToDirectP50),
          maybe(r.orchestratedToDirectThroughput),
          maybe(r.orchestratedToCeilingThroughput),
        ]),
      ),
    );
  }
  const waits = userWaitsOf(report.cases);
  if (waits.length) {
    lines.push(
      '',
      'What the user waits for (ms): start -> code sent (and the app told where), code -> verdict; floor = the same provider calls made directly',
      table(
        [
          'case',
          'conc',
          'code sent p50',
          'p95',
          'p99',
          'over floor p50',
          'verdict p50',
          'p95',
          'p99',
          'over floor p50',
        ],
        waits.map((w) => [
          w.kind,
          String(w.concurrency),
          fixed(w.codeSent.p50),
          fixed(w.codeSent.p95),
          fixed(w.codeSent.p99),
          w.codeSentOverFloorP50 === undefined ? '-' : `+${fixed(w.codeSentOverFloorP50)}`,
          fixed(w.verdict.p50),
          fixed(w.verdict.p95),
          fixed(w.verdict.p99),
          w.verdictOverFloorP50 === undefined ? '-' : `+${fixed(w.verdictOverFloorP50)}`,
        ]),
      ),
    );
  }
  const measured = report.cases.filter((c) => c.workerTasks || c.server?.requestsPerFlow);
  if (measured.some((c) => c.workerTasks)) {
    lines.push(
      '',
      "Per flow, from the SDK's and the server's own metrics",
      table(
        [
          'case',
          'conc',
          'WFTs',
          'WFT queue ms',
          'WFT run ms',
          'activity tasks',
          'act. queue ms',
          'local act.',
          'frontend requests per flow',
        ],
        measured
          .filter((c) => c.workerTasks)
          .map((c) => [
            c.kind,
            String(c.concurrency),
            String(c.workerTasks!.workflowTasksPerFlow),
            String(c.workerTasks!.workflowTaskScheduleToStartMs),
            String(c.workerTasks!.workflowTaskExecutionMs),
            String(c.workerTasks!.activityTasksPerFlow),
            String(c.workerTasks!.activityScheduleToStartMs),
            String(c.workerTasks!.localActivitiesPerFlow),
            Object.entries(c.server?.requestsPerFlow ?? {})
              .map(([operation, n]) => `${operation} ${n}`)
              .join(', '),
          ]),
      ),
    );
  }
  const threaded = report.cases.filter((c) => c.workerThreadsCpuMsPerFlow);
  if (threaded.length) {
    lines.push(
      '',
      "The workers' CPU ms per flow by thread (main: activities and the SDK's TypeScript side; node threads: the workflow thread, tsx's loader; core: SDK Core)",
      table(
        ['case', 'workers', 'conc', 'by thread'],
        threaded.map((c) => [
          c.kind,
          String(c.workers),
          String(c.concurrency),
          Object.entries(c.workerThreadsCpuMsPerFlow!)
            .filter(([, ms]) => ms > 0)
            .map(([role, ms]) => `${role} ${ms}`)
            .join(', '),
        ]),
      ),
    );
  }
  const persisted = report.cases.filter((c) => c.server?.persistence.requestsPerFlow);
  if (persisted.length) {
    lines.push(
      '',
      `The server's database calls per flow (${cluster ? 'PostgreSQL' : 'SQLite'}), from its persistence_* metrics`,
      table(
        ['case', 'conc', 'calls', 'by service', 'ms waited', 'mean ms', 'most time in'],
        persisted.map((c) => {
          const p = c.server!.persistence;
          return [
            c.kind,
            String(c.concurrency),
            String(p.requestsPerFlow),
            Object.entries(p.requestsPerFlowByService)
              .map(([service, n]) => `${service} ${n}`)
              .join(', '),
            String(p.msPerFlow),
            String(p.meanMs),
            Object.entries(p.slowestMsPerFlow)
              .map(([operation, ms]) => `${operation} ${ms}`)
              .join(', '),
          ];
        }),
      ),
    );
  }
  const profiled = report.cases.filter((c) => c.serverProfile);
  if (profiled.length) {
    lines.push(
      '',
      "Where the cluster's server CPU went (Go CPU profile over the measuring window, % of samples)",
    );
    for (const c of profiled) {
      const p = c.serverProfile!;
      lines.push(
        `  ${c.kind} c=${c.concurrency}, ${p.cpuSeconds} CPU s in ${p.seconds} s: ` +
          Object.entries(p.sharePercent)
            .map(([part, share]) => `${part} ${share}%`)
            .join(', '),
      );
    }
  }
  if (report.actions?.length) {
    lines.push(
      '',
      'Temporal Cloud actions per HTTP journey (https://docs.temporal.io/cloud/actions), counted from history and client calls',
      table(
        ['journey', 'actions', 'by category'],
        report.actions.map((a) => [
          a.journey,
          String(a.total),
          Object.entries(a.byCategory)
            .filter(([, n]) => n > 0)
            .map(([category, n]) => `${category} ${n}`)
            .join(', '),
        ]),
      ),
    );
  }
  if (report.scaling) {
    const s = report.scaling;
    lines.push(
      '',
      `Scaling at ${s.concurrency} concurrent flows: 1 worker ${s.oneWorkerFlowsPerSecond} flows/s, 2 workers ${s.twoWorkersFlowsPerSecond} flows/s (x${s.speedup})`,
    );
  }
  if (report.capacity) {
    const c = report.capacity;
    lines.push(
      '',
      `Open-flow capacity: ${c.flows} flows waiting after ${c.fillSeconds} s (${c.fillFlowsPerSecond} flows/s to fill)`,
      `  worker RSS ${c.workerRssMb.idle} MB idle, ${c.workerRssMb.halfWaiting} MB with half waiting, ${c.workerRssMb.allWaiting} MB with all ` +
        `(${c.workerKbPerWaitingFlow} KB per further flow); server ${c.serverRssMb.idle} / ${c.serverRssMb.halfWaiting} / ${c.serverRssMb.allWaiting} MB ` +
        `(${c.serverKbPerWaitingFlow} KB per further flow)` +
        (c.databaseMb
          ? `; database ${c.databaseMb.idle} / ${c.databaseMb.halfWaiting} / ${c.databaseMb.allWaiting} MB`
          : ''),
      `  burst: every code sent in ${c.burstSendSeconds} s; drained in ${c.drainSeconds} s (${c.drainFlowsPerSecond} flows/s); ` +
        `${c.completed} completed, ${c.failed} failed`,
      `  code -> outcome: p50 ${fixed(c.codeToOutcomeMs.p50)} ms, p95 ${fixed(c.codeToOutcomeMs.p95)} ms, p99 ${fixed(c.codeToOutcomeMs.p99)} ms; ` +
        `peak RSS worker ${c.usage['worker-1']?.peakRssMb} MB, server ${c.usage.server?.peakRssMb} MB` +
        (c.usage.database ? `, database ${c.usage.database.peakRssMb} MB` : '') +
        `; other load ${c.otherLoadCores} cores`,
    );
    if (c.failures.length) lines.push(`  failures: ${c.failures.join(' | ')}`);
  }
  return lines.join('\n');
}

export function writeReport(report: BenchReport, folder: string): string {
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `bench-${report.label}.json`);
  const text = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(file, text);
  writeFileSync(join(folder, 'bench-latest.json'), text);
  return file;
}

function describeTuning(t: WorkerTuning): string {
  return (
    `cache ${t.maxCachedWorkflows} workflows, ${t.maxConcurrentWorkflowTaskExecutions} workflow-task slots, ` +
    `${t.maxConcurrentActivityTaskExecutions} activity slots, pollers ${t.workflowTaskPollers} workflow / ${t.activityTaskPollers} activity, ` +
    `workflow stack frames ${t.workflowStackFrames}`
  );
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function fixed(value: number): string {
  return Number.isNaN(value) ? '-' : value.toFixed(0);
}

function maybe(value: number | undefined): string {
  return value === undefined ? '-' : `x${value}`;
}
