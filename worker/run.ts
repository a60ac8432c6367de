/**
 * Builds the worker from a checked configuration: one task queue, the workflow bundle, the provider
 * activities, the encrypting data converter, the tuning.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { failureConverterPath } from '../client/encryption/data-converter.js';
import { createDwsActivities } from '../activities/dws/activities.js';
import { DwsClient } from '../activities/dws/client.js';
import { createWonderActivities } from '../activities/wonder/activities.js';
import { WonderClient } from '../activities/wonder/client.js';
import type { WorkerConfig } from './config.js';

/** The workflows entry beside this file, .ts under tsx and .js once compiled. */
export const workflowsPath = fileURLToPath(
  new URL(`../workflows/index${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

export function createActivities(config: Pick<WorkerConfig, 'dws' | 'wonder'>) {
  return {
    ...createDwsActivities(new DwsClient(config.dws)),
    ...(config.wonder ? createWonderActivities(new WonderClient(config.wonder)) : {}),
  };
}

export interface WorkerDependencies {
  dataConverter: DataConverter;
  connection?: NativeConnection;
  /** a prebuilt bundle (tests); otherwise `workflowsPath` is bundled at start */
  workflowBundle?: WorkflowBundleWithSourceMap;
  /** other workflows and activities on the same settings (the benchmark's ceiling); default: the project's */
  workflowsPath?: string;
  activities?: object;
}

export async function createWorker(config: WorkerConfig, deps: WorkerDependencies): Promise<Worker> {
  const connection =
    deps.connection ?? (await NativeConnection.connect(config.temporal.connectConfig.connectionOptions));
  const { tuning } = config;
  // Bundled here rather than by Worker.create so webpack's report stays out of the INFO log.
  const workflowBundle =
    deps.workflowBundle ??
    (await bundleWorkflowCode({
      workflowsPath: deps.workflowsPath ?? workflowsPath,
      failureConverterPath,
      logger: new DefaultLogger('WARN'),
    }));
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.taskQueue,
    workflowBundle,
    activities: deps.activities ?? createActivities(config),
    dataConverter: deps.dataConverter,
    maxCachedWorkflows: tuning.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: tuning.maxConcurrentWorkflowTaskExecutions,
    maxConcurrentActivityTaskExecutions: tuning.maxConcurrentActivityTaskExecutions,
    maxConcurrentWorkflowTaskPolls: tuning.workflowTaskPollers,
    maxConcurrentActivityTaskPolls: tuning.activityTaskPollers,
    // In-flight activities get this long to finish on SIGTERM; after it they are handed back to the server.
    shutdownGraceTime: `${tuning.shutdownGraceSeconds} seconds`,
  });
}
