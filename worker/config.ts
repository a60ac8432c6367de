/**
 * Everything the worker process needs, read and checked once at start. A missing or malformed setting
 * stops the process with one sentence naming it.
 */
import { dwsConfigFromEnv, sandboxDwsConfig, type DwsConfig } from '../activities/dws/config.js';
import { sandboxWonderConfig, wonderConfigFromEnv, type WonderConfig } from '../activities/wonder/config.js';
import { ConfigError } from '../config/errors.js';
import { readInt, readString, readUrl, type Env } from '../config/settings.js';
import { temporalTargetFromEnv, type TemporalTarget } from '../config/temporal.js';
import { defaultTaskQueue } from '../workflows/ids.js';

export interface WorkerTuning {
  maxCachedWorkflows: number;
  maxConcurrentWorkflowTaskExecutions: number;
  maxConcurrentActivityTaskExecutions: number;
  workflowTaskPollers: number;
  activityTaskPollers: number;
  shutdownGraceSeconds: number;
}

export interface WorkerConfig {
  temporal: TemporalTarget;
  taskQueue: string;
  tuning: WorkerTuning;
  /** e.g. 0.0.0.0:9464; the SDK's Prometheus endpoint is off when unset */
  metricsAddress?: string;
  dws: DwsConfig;
  wonder?: WonderConfig;
}

export interface ProviderUrls {
  /** the provider sandbox started by `npm start`, used for any provider whose URL is not configured */
  sandboxUrl?: string;
}

export function loadWorkerConfig(env: Env = process.env, providers: ProviderUrls = {}): WorkerConfig {
  const metricsAddress = readString(env, 'WORKER_METRICS_ADDRESS');
  if (metricsAddress && !/^[\w.-]*:\d{1,5}$/.test(metricsAddress)) {
    throw new ConfigError('WORKER_METRICS_ADDRESS', `must be host:port, got "${metricsAddress}"`);
  }
  return {
    temporal: temporalTargetFromEnv(env),
    taskQueue: readString(env, 'TEMPORAL_TASK_QUEUE', defaultTaskQueue),
    tuning: {
      maxCachedWorkflows: readInt(env, 'WORKER_MAX_CACHED_WORKFLOWS', 1000, { min: 0 }),
      maxConcurrentWorkflowTaskExecutions: readInt(env, 'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', 40, {
        min: 2,
      }),
      maxConcurrentActivityTaskExecutions: readInt(env, 'WORKER_MAX_CONCURRENT_ACTIVITIES', 100, { min: 1 }),
      workflowTaskPollers: readInt(env, 'WORKER_WORKFLOW_TASK_POLLERS', 4, { min: 2 }),
      activityTaskPollers: readInt(env, 'WORKER_ACTIVITY_TASK_POLLERS', 4, { min: 1 }),
      shutdownGraceSeconds: readInt(env, 'WORKER_SHUTDOWN_GRACE_SECONDS', 20, { min: 0 }),
    },
    ...(metricsAddress ? { metricsAddress } : {}),
    dws:
      readUrl(env, 'DWS_BASE_URL') || !providers.sandboxUrl
        ? dwsConfigFromEnv(env)
        : sandboxDwsConfig(providers.sandboxUrl),
    ...wonderSection(env, providers),
  };
}

function wonderSection(env: Env, providers: ProviderUrls): { wonder?: WonderConfig } {
  if (readUrl(env, 'WONDER_BASE_URL')) return { wonder: wonderConfigFromEnv(env) };
  if (providers.sandboxUrl) return { wonder: sandboxWonderConfig(providers.sandboxUrl) };
  return {};
}
