/**
 * The SDK's and the server's own Prometheus metrics, read before and after a case: what a flow cost in
 * workflow tasks, activity tasks and server requests, and where their time went. The difference of two
 * scrapes divided by the flows run is a per-flow figure that no sampling of the processes can give.
 */

/** One scrape: every counter and every histogram's _sum and _count, by name and labels. */
export type Scrape = Map<string, number>;

export async function scrape(url: string | undefined): Promise<Scrape> {
  const values: Scrape = new Map();
  if (!url) return values;
  try {
    const text = await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
      if (!match || match[1]!.endsWith('_bucket')) continue;
      const value = Number(match[3]);
      if (Number.isFinite(value)) values.set(`${match[1]}${match[2] ?? ''}`, value);
    }
  } catch {
    // A process without a metrics endpoint (or gone) reads as no metrics, not as a failed case.
  }
  return values;
}

/** Sums of the differences over every series whose name is `name` and whose labels contain `labels`. */
function delta(before: Scrape, after: Scrape, name: string, labels: readonly string[] = []): number {
  let total = 0;
  for (const [series, value] of after) {
    const brace = series.indexOf('{');
    const seriesName = brace < 0 ? series : series.slice(0, brace);
    if (seriesName !== name) continue;
    if (!labels.every((label) => series.includes(label))) continue;
    total += value - (before.get(series) ?? 0);
  }
  return total;
}

export interface WorkerTaskFigures {
  /** workflow tasks the worker completed, per flow */
  workflowTasksPerFlow: number;
  /** mean time a workflow task waited in the server before the worker took it, ms */
  workflowTaskScheduleToStartMs: number;
  /** mean time the worker spent on one workflow task, ms */
  workflowTaskExecutionMs: number;
  /** activity tasks (local activities excluded), per flow */
  activityTasksPerFlow: number;
  activityScheduleToStartMs: number;
  /** local activities run, per flow */
  localActivitiesPerFlow: number;
}

export interface ServerFigures {
  /** frontend requests per flow, by operation (the round trips of the client and the workers) */
  requestsPerFlow: Record<string, number>;
  /** mean frontend latency per operation, ms (long polls excluded: they wait on purpose) */
  latencyMs: Record<string, number>;
  /** the server's calls to its database (SQLite for the dev server, PostgreSQL for the cluster) */
  persistence: PersistenceFigures;
}

export interface PersistenceFigures {
  requestsPerFlow: number;
  /** time the server's services spent waiting on the database per flow, summed over its calls, ms */
  msPerFlow: number;
  meanMs: number;
  /** requests per flow by the service that made them (history, matching, ...) */
  requestsPerFlowByService: Record<string, number>;
  /** the three operations with the most time per flow, ms */
  slowestMsPerFlow: Record<string, number>;
}

const mean = (sum: number, count: number, scale: number) =>
  count > 0 ? Math.round((sum / count) * scale * 10) / 10 : 0;
const perFlow = (count: number, flows: number) => Math.round((count / Math.max(1, flows)) * 100) / 100;

/**
 * Core's histograms are in milliseconds, except with `_seconds` names; both spellings are read so a
 * change of the SDK's default does not silently zero a figure.
 */
function histogram(before: Scrape, after: Scrape, base: string) {
  for (const [suffix, scale] of [
    ['', 1],
    ['_milliseconds', 1],
    ['_seconds', 1000],
  ] as const) {
    const count = delta(before, after, `${base}${suffix}_count`);
    if (count > 0) return { count, meanMs: mean(delta(before, after, `${base}${suffix}_sum`), count, scale) };
  }
  return { count: 0, meanMs: 0 };
}

export function workerFigures(before: Scrape, after: Scrape, flows: number): WorkerTaskFigures | undefined {
  if (after.size === 0) return undefined;
  const wftExecution = histogram(before, after, 'temporal_workflow_task_execution_latency');
  const wftQueue = histogram(before, after, 'temporal_workflow_task_schedule_to_start_latency');
  const activityQueue = histogram(before, after, 'temporal_activity_schedule_to_start_latency');
  const activities = histogram(before, after, 'temporal_activity_execution_latency');
  const local = histogram(before, after, 'temporal_local_activity_execution_latency');
  return {
    workflowTasksPerFlow: perFlow(wftExecution.count, flows),
    workflowTaskScheduleToStartMs: wftQueue.meanMs,
    workflowTaskExecutionMs: wftExecution.meanMs,
    activityTasksPerFlow: perFlow(activities.count, flows),
    activityScheduleToStartMs: activityQueue.meanMs,
    localActivitiesPerFlow: perFlow(local.count, flows),
  };
}

/** The frontend operations worth reading per flow; the rest (namespace look-ups, health) are noise. */
const frontendOperations = [
  'StartWorkflowExecution',
  'ExecuteMultiOperation',
  'UpdateWorkflowExecution',
  'PollWorkflowExecutionUpdate',
  'SignalWorkflowExecution',
  'QueryWorkflow',
  'DescribeWorkflowExecution',
  'GetWorkflowExecutionHistory',
  'PollWorkflowTaskQueue',
  'RespondWorkflowTaskCompleted',
  'PollActivityTaskQueue',
  'RespondActivityTaskCompleted',
] as const;

const longPolls = new Set([
  'PollWorkflowTaskQueue',
  'PollActivityTaskQueue',
  'GetWorkflowExecutionHistory',
  'PollWorkflowExecutionUpdate',
  'ExecuteMultiOperation',
  'UpdateWorkflowExecution',
]);

export function serverFigures(before: Scrape, after: Scrape, flows: number): ServerFigures | undefined {
  if (after.size === 0) return undefined;
  const requestsPerFlow: Record<string, number> = {};
  const latencyMs: Record<string, number> = {};
  for (const operation of frontendOperations) {
    const label = `operation="${operation}"`;
    const count = delta(before, after, 'service_requests', [label, 'service_name="frontend"']);
    if (count <= 0) continue;
    requestsPerFlow[operation] = perFlow(count, flows);
    if (longPolls.has(operation)) continue;
    const sum = delta(before, after, 'service_latency_sum', [label, 'service_name="frontend"']);
    const n = delta(before, after, 'service_latency_count', [label, 'service_name="frontend"']);
    // The server's histograms are in seconds.
    latencyMs[operation] = mean(sum, n, 1000);
  }
  return { requestsPerFlow, latencyMs, persistence: persistenceFigures(before, after, flows) };
}

function persistenceFigures(before: Scrape, after: Scrape, flows: number): PersistenceFigures {
  const byService = new Map<string, number>();
  const byOperation = new Map<string, number>();
  let requests = 0;
  let seconds = 0;
  for (const [series, value] of after) {
    if (!series.startsWith('persistence_latency_count{')) continue;
    const count = value - (before.get(series) ?? 0);
    if (count <= 0) continue;
    const sumSeries = series.replace('_count{', '_sum{');
    // The server's histograms are in seconds.
    const sum = (after.get(sumSeries) ?? 0) - (before.get(sumSeries) ?? 0);
    const service = /service_name="([^"]+)"/.exec(series)?.[1] ?? 'unknown';
    const operation = /operation="([^"]+)"/.exec(series)?.[1] ?? 'unknown';
    requests += count;
    seconds += sum;
    byService.set(service, (byService.get(service) ?? 0) + count);
    byOperation.set(operation, (byOperation.get(operation) ?? 0) + sum);
  }
  const slowest = [...byOperation].sort((a, b) => b[1] - a[1]).slice(0, 3);
  return {
    requestsPerFlow: perFlow(requests, flows),
    msPerFlow: perFlow(seconds * 1000, flows),
    meanMs: mean(seconds, requests, 1000),
    requestsPerFlowByService: Object.fromEntries([...byService].map(([k, n]) => [k, perFlow(n, flows)])),
    slowestMsPerFlow: Object.fromEntries(slowest.map(([k, s]) => [k, perFlow(s * 1000, flows)])),
  };
}
