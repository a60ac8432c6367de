/**
 * Everything the worker process needs, read and checked once at start. A missing or malformed setting
 * stops the process with one sentence naming it.
 */
import { dwsConfigFromEnv, sandboxDwsConfig, type DwsConfig } from '../activities/dws/config.js';
import { readWebhookSettings, type WebhookSettings } from '../activities/webhooks/config.js';
import { sandboxWonderConfig, wonderConfigFromEnv, type WonderConfig } from '../activities/wonder/config.js';
import { ConfigError } from '../config/errors.js';
import { readHostPort, readInt, readString, readUrl, type Env } from '../config/settings.js';
import { temporalTargetFromEnv, type TemporalTarget } from '../config/temporal.js';
import { readLimitsSettings, type LimitsSettings } from '../limits/config.js';
import { defaultTaskQueue } from '../workflows/ids.js';
import { defaultBuildId } from './build-info.js';

export interface WorkerTuning {
  maxCachedWorkflows: number;
  maxConcurrentWorkflowTaskExecutions: number;
  maxConcurrentActivityTaskExecutions: number;
  workflowTaskPollers: number;
  activityTaskPollers: number;
  shutdownGraceSeconds: number;
  /**
   * The workflow sandbox's `Error.stackTraceLimit` (WORKER_WORKFLOW_STACK_FRAMES): how deep the SDK's
   * capture for the UI's Stack Trace tab goes on every promise a workflow creates, and how deep the
   * stacks of errors raised in workflow code are.
   */
  workflowStackFrames: number;
}

/** Temporal Worker Deployments: this worker is one version (deployment name, build id) of the deployment. */
export interface WorkerVersioning {
  deploymentName: string;
  buildId: string;
}

export interface WorkerConfig {
  temporal: TemporalTarget;
  taskQueue: string;
  /** absent: an unversioned worker on a plain task queue, as before Worker Deployments */
  versioning?: WorkerVersioning;
  tuning: WorkerTuning;
  /** e.g. 0.0.0.0:9464; the SDK's Prometheus endpoint is off when unset */
  metricsAddress?: string;
  dws: DwsConfig;
  wonder?: WonderConfig;
  /** where the send budget counts (LIMITS_REDIS_URL) and its windows (SEND_BUDGET_PER_CUSTOMER) */
  limits: LimitsSettings;
  /** each caller's webhook endpoints and the delivery's bounds (WEBHOOK_*, docs/webhooks.md) */
  webhooks: WebhookSettings;
}

/**
 * The capture's first frame is the SDK's hook, so 3 keeps the two innermost of the workflow's own: where
 * each pending promise waits and its caller, what the Stack Trace tab is read for. V8's default of 10
 * adds the callers above and the SDK's internals, at nearly twice the hook's time (docs/operators.md).
 */
export const defaultWorkflowStackFrames = 3;

export interface ProviderUrls {
  /** the provider sandbox started by `npm start`, used for any provider whose URL is not configured */
  sandboxUrl?: string;
}

export function loadWorkerConfig(env: Env = process.env, providers: ProviderUrls = {}): WorkerConfig {
  const metricsAddress = readHostPort(env, 'WORKER_METRICS_ADDRESS');
  return {
    temporal: temporalTargetFromEnv(env),
    taskQueue: readString(env, 'TEMPORAL_TASK_QUEUE', defaultTaskQueue),
    ...versioningSection(env),
    tuning: {
      maxCachedWorkflows: readInt(env, 'WORKER_MAX_CACHED_WORKFLOWS', 1000, { min: 0 }),
      maxConcurrentWorkflowTaskExecutions: readInt(env, 'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', 40, {
        min: 2,
      }),
      maxConcurrentActivityTaskExecutions: readInt(env, 'WORKER_MAX_CONCURRENT_ACTIVITIES', 100, { min: 1 }),
      workflowTaskPollers: readInt(env, 'WORKER_WORKFLOW_TASK_POLLERS', 4, { min: 2 }),
      activityTaskPollers: readInt(env, 'WORKER_ACTIVITY_TASK_POLLERS', 4, { min: 1 }),
      shutdownGraceSeconds: readInt(env, 'WORKER_SHUTDOWN_GRACE_SECONDS', 20, { min: 0 }),
      workflowStackFrames: readInt(env, 'WORKER_WORKFLOW_STACK_FRAMES', defaultWorkflowStackFrames, {
        max: 100,
      }),
    },
    ...(metricsAddress ? { metricsAddress } : {}),
    dws:
      readUrl(env, 'DWS_BASE_URL') || !providers.sandboxUrl
        ? dwsConfigFromEnv(env)
        : sandboxDwsConfig(providers.sandboxUrl),
    ...wonderSection(env, providers),
    limits: readLimitsSettings(env),
    webhooks: readWebhookSettings(env),
  };
}

function wonderSection(env: Env, providers: ProviderUrls): { wonder?: WonderConfig } {
  if (readUrl(env, 'WONDER_BASE_URL')) return { wonder: wonderConfigFromEnv(env) };
  if (providers.sandboxUrl) return { wonder: sandboxWonderConfig(providers.sandboxUrl) };
  return {};
}

// The server keeps versions under these names in ids of its own; spaces and the separators it uses
// (`.` and `:` in deployment names, `/` anywhere) would be refused there or read back wrong.
const deploymentNamePattern = /^[\w-]{1,255}$/;
const buildIdPattern = /^[\w.+-]{1,255}$/;

/**
 * WORKER_DEPLOYMENT_NAME turns Worker Versioning on; the build id defaults to the build's own. A build
 * id without a deployment name is a half-configured rollout, refused rather than run unversioned.
 */
export function readVersioning(
  env: Env,
  buildIdDefault: () => string | undefined = defaultBuildId,
): WorkerVersioning | undefined {
  const deploymentName = readString(env, 'WORKER_DEPLOYMENT_NAME');
  const explicitBuildId = readString(env, 'WORKER_BUILD_ID');
  if (deploymentName === undefined) {
    if (explicitBuildId === undefined) return undefined;
    throw new ConfigError(
      'WORKER_DEPLOYMENT_NAME',
      'must be set when WORKER_BUILD_ID is (Worker Versioning needs both); unset WORKER_BUILD_ID to run unversioned',
    );
  }
  if (!deploymentNamePattern.test(deploymentName)) {
    throw new ConfigError(
      'WORKER_DEPLOYMENT_NAME',
      `must be 1 to 255 letters, digits, "_" or "-", got "${deploymentName}"`,
    );
  }
  const buildId = explicitBuildId ?? buildIdDefault();
  if (buildId === undefined) {
    throw new ConfigError(
      'WORKER_BUILD_ID',
      'must be set when WORKER_DEPLOYMENT_NAME is and this build does not know its own id (no dist/build-info.json, no git)',
    );
  }
  if (!buildIdPattern.test(buildId)) {
    throw new ConfigError(
      'WORKER_BUILD_ID',
      `must be 1 to 255 letters, digits, "_", "-", "." or "+", got "${buildId}"`,
    );
  }
  return { deploymentName, buildId };
}

function versioningSection(env: Env): { versioning?: WorkerVersioning } {
  const versioning = readVersioning(env);
  return versioning ? { versioning } : {};
}
