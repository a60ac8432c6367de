/**
 * One dev server and (only if a test asks for it) one time-skipping server for the whole mocha run,
 * plus the workflow bundle, built once. The global teardown stops whatever was started, also when a
 * test failed.
 */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  Runtime,
  DefaultLogger,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { temporalCliPath, temporalTestServerPath } from '../../scripts/temporal-binaries.js';
import { verificationSearchAttributes } from '../../workflows/search-attributes.js';

let devEnv: Promise<TestWorkflowEnvironment> | undefined;
let timeSkippingEnv: Promise<TestWorkflowEnvironment> | undefined;
const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  // Workers log at WARN so mocha's report stays readable; failures still surface through assertions.
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

export function devServer(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  devEnv ??= TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      ip: '127.0.0.1',
      log: { format: 'pretty', level: 'error' },
      searchAttributes: verificationSearchAttributes,
    },
  });
  return devEnv;
}

export function timeSkippingServer(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  timeSkippingEnv ??= TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
  });
  return timeSkippingEnv;
}

/** Bundles a workflows module once per run, however many tests use it. */
export function workflowBundle(workflowsPath: string): Promise<WorkflowBundleWithSourceMap> {
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    bundle = bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
    bundles.set(workflowsPath, bundle);
  }
  return bundle;
}

/** A fresh task queue and workflow id prefix per test, so tests never see each other's work. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

export async function stopServers(): Promise<void> {
  const started = [devEnv, timeSkippingEnv].filter((env): env is Promise<TestWorkflowEnvironment> => !!env);
  devEnv = undefined;
  timeSkippingEnv = undefined;
  await Promise.allSettled(started.map(async (env) => (await env).teardown()));
}
