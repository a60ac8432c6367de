/**
 * Builds the worker from a checked configuration: one task queue, the workflow bundle, the provider
 * activities, the encrypting data converter, the tuning, and the Worker Deployment version it belongs to.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import {
  bundleWorkflowCode,
  DefaultLogger,
  type BundleOptions,
  NativeConnection,
  Worker,
  type Logger,
  type WorkerDeploymentOptions,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { failureConverterPath } from '../codec/data-converter.js';
import { createDwsActivities } from '../activities/dws/activities.js';
import { DwsClient } from '../activities/dws/client.js';
import { createWebhookActivities } from '../activities/webhooks/activities.js';
import { defaultWebhookSettings } from '../activities/webhooks/config.js';
import { createWonderActivities } from '../activities/wonder/activities.js';
import { WonderClient } from '../activities/wonder/client.js';
import { createLimitsStore, type CreateLimitsStoreOptions, type LimitsSettings } from '../limits/config.js';
import { MemoryLimitsStore } from '../limits/memory-store.js';
import { SendBudget } from '../limits/send-budget.js';
import type { LimitsStore } from '../limits/store.js';
import type { WorkerTracing } from '../observability/temporal.js';
import { prebuiltBundlePath, prebuiltTracedBundlePath, runsCompiled } from './build-info.js';
import type { WorkerConfig, WorkerVersioning } from './config.js';

/** The workflows entry beside this file, .ts under tsx and .js once compiled. */
export const workflowsPath = fileURLToPath(
  new URL(`../workflows/index${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

/**
 * The provider and webhook activities. Without a `sendBudget` the codes count in this process's memory under the
 * default windows: what tests and the benchmark get; the worker passes the one its settings name.
 */
export function createActivities(
  config: Pick<WorkerConfig, 'dws' | 'wonder'> & Partial<Pick<WorkerConfig, 'webhooks'>>,
  sendBudget: SendBudget = new SendBudget(new MemoryLimitsStore()),
) {
  return {
    ...createDwsActivities(new DwsClient(config.dws), sendBudget),
    ...(config.wonder ? createWonderActivities(new WonderClient(config.wonder)) : {}),
    // Always registered: every finishing verification asks which endpoints its caller has (maybe none).
    ...createWebhookActivities(config.webhooks ?? defaultWebhookSettings),
  };
}

/**
 * The send budget the settings name, over the store they name (Redis, or this process's memory). The
 * store stays open for the worker's life; close it once the worker has stopped.
 */
export function createSendBudget(
  limits: LimitsSettings,
  options: CreateLimitsStoreOptions = {},
): { sendBudget: SendBudget; store: LimitsStore } {
  const store = createLimitsStore(limits, options);
  return { sendBudget: new SendBudget(store, limits.sendBudget), store };
}

export interface WorkerDependencies {
  dataConverter: DataConverter;
  connection?: NativeConnection;
  /** a prebuilt bundle (tests); otherwise the build's (compiled) or `workflowsPath` bundled at start (tsx) */
  workflowBundle?: WorkflowBundleOption;
  /** other workflows and activities on the same settings (the benchmark's ceiling); default: the project's */
  workflowsPath?: string;
  activities?: object;
  /** every code the activities send is spent from it; default: counted in this process's memory */
  sendBudget?: SendBudget;
  /** the OpenTelemetry interceptors and span sink (observability/temporal.ts); absent: no tracing */
  tracing?: WorkerTracing;
}

export async function createWorker(config: WorkerConfig, deps: WorkerDependencies): Promise<Worker> {
  const connection =
    deps.connection ?? (await NativeConnection.connect(config.temporal.connectConfig.connectionOptions));
  const { tuning } = config;
  const workflowBundle = await withWorkflowStackFrames(
    deps.workflowBundle ?? (await projectBundle(deps.workflowsPath, deps.tracing?.workflowModules)),
    tuning.workflowStackFrames,
  );
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.taskQueue,
    ...(config.versioning ? { workerDeploymentOptions: deploymentOptions(config.versioning) } : {}),
    workflowBundle,
    activities: deps.activities ?? createActivities(config, deps.sendBudget),
    dataConverter: deps.dataConverter,
    ...(deps.tracing ? { interceptors: deps.tracing.interceptors, sinks: deps.tracing.sinks } : {}),
    maxCachedWorkflows: tuning.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: tuning.maxConcurrentWorkflowTaskExecutions,
    maxConcurrentActivityTaskExecutions: tuning.maxConcurrentActivityTaskExecutions,
    maxConcurrentWorkflowTaskPolls: tuning.workflowTaskPollers,
    maxConcurrentActivityTaskPolls: tuning.activityTaskPollers,
    // In-flight activities get this long to finish on SIGTERM; after it they are handed back to the server.
    shutdownGraceTime: `${tuning.shutdownGraceSeconds} seconds`,
  });
}

/**
 * Every workflow this worker starts stays on its build until it ends: a verification waits minutes for a
 * person, and a new build's commands would not match the history the old one wrote. New flows go to the
 * deployment's current version; `patched()` remains the way to change flows already in flight.
 */
export function deploymentOptions(versioning: WorkerVersioning): WorkerDeploymentOptions {
  return {
    useWorkerVersioning: true,
    version: { deploymentName: versioning.deploymentName, buildId: versioning.buildId },
    defaultVersioningBehavior: 'PINNED',
  };
}

/**
 * A compiled build loads the bundle `npm run build` made (no webpack or SWC at start, and exactly the
 * code the build id names). Under tsx, or for other workflows (the benchmark's ceiling), bundle now.
 */
async function projectBundle(
  otherWorkflows: string | undefined,
  interceptorModules: string[] = [],
): Promise<WorkflowBundleOption> {
  const prebuilt = interceptorModules.length > 0 ? prebuiltTracedBundlePath : prebuiltBundlePath;
  if (!otherWorkflows && runsCompiled && existsSync(prebuilt)) return { codePath: prebuilt };
  // A compiled tree without the bundle is `tsc` run by hand (the bench's --compiled); say so, then bundle.
  if (!otherWorkflows && runsCompiled) quietLogger.warn(`${prebuilt} is missing; bundling at start`);
  return buildWorkflowBundle(otherWorkflows ?? workflowsPath, quietLogger, interceptorModules);
}

/**
 * The bundle with `Error.stackTraceLimit` set, in the workflow sandbox, before any of its code runs.
 *
 * The SDK's promise hook builds `new Error().stack` with the sandbox's own Error for every promise
 * workflow code creates, and maps each frame through the bundle's source map, for the Stack Trace tab:
 * most of the workflow thread's time, with no SDK option to turn it off. V8 reads the limit from that
 * Error when each one is built, so fewer frames are fewer look-ups, and 0 captures none. It has to be set
 * as the bundle is evaluated: the reusable V8 context deep-freezes its globals, Error included, right
 * after, and no workflow or interceptor code could set it later. Prepended on the bundle's first line, so
 * the lines of the source map still match; the same prebuilt bundle serves every setting.
 */
export async function withWorkflowStackFrames(
  bundle: WorkflowBundleOption,
  frames: number,
): Promise<WorkflowBundleOption> {
  const code = 'code' in bundle ? bundle.code : await readFile(bundle.codePath, 'utf8');
  return { code: `Error.stackTraceLimit = ${frames};${code}` };
}

// Bundled here rather than by Worker.create so webpack's report stays out of the INFO log.
const quietLogger = new DefaultLogger('WARN');

/**
 * The one way this project bundles workflow code: with the failure converter, so history stays encrypted;
 * a traced worker's bundle also holds the OpenTelemetry workflow interceptors (observability/temporal.ts).
 * Both bundles emit the same commands: the interceptors add headers and spans, and the SDK's own flags
 * keep replay of either's histories by the other deterministic (test/unit/replay.test.ts replays both).
 */
export function buildWorkflowBundle(
  path: string = workflowsPath,
  logger: Logger = quietLogger,
  workflowInterceptorModules: string[] = [],
  /** the benchmark's variants only (bench/retired-patches-worker.ts); a product bundle is built as is */
  webpackConfigHook?: BundleOptions['webpackConfigHook'],
) {
  return bundleWorkflowCode({
    workflowsPath: path,
    failureConverterPath,
    logger,
    workflowInterceptorModules,
    ...(webpackConfigHook ? { webpackConfigHook } : {}),
  });
}
