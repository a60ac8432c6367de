/**
 * One dev server and (only if a test asks for it) one time-skipping server for the whole mocha run,
 * plus the workflow bundle, built once. The global teardown stops whatever was started, also when a
 * test failed.
 */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporalCliPath, temporalTestServerPath } from '../../scripts/temporal-binaries.js';
import { verificationSearchAttributes } from '../../workflows/search-attributes.js';
import { failureConverterPath } from '../../codec/data-converter.js';
import { installRuntime } from '../../worker/runtime.js';
import proto from '@temporalio/proto';

let devEnv: Promise<TestWorkflowEnvironment> | undefined;
let timeSkippingEnv: Promise<TestWorkflowEnvironment> | undefined;
const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

export function quietRuntime(): void {
  // Errors only, so mocha's report stays readable; failures still surface through assertions.
  installRuntime({ logger: new DefaultLogger('ERROR'), coreLogLevel: 'ERROR' });
}

/** `npm run test:unit` is the loop without servers: a test there that asks for one is in the wrong folder. */
function refuseInUnitRun(server: string): void {
  if (process.env.TEST_UNIT_ONLY) {
    throw new Error(`this test needs the ${server}: it belongs in test/, not test/unit/ (npm run test:unit)`);
  }
}

/** A Temporal server the whole run was handed instead of starting its own (the cluster suite's). */
export interface RunServer {
  address: string;
  namespace: string;
  /** SIGKILL the server process and start it again on the same ports and databases */
  killAndRestart(): Promise<void>;
}

let runServer: RunServer | undefined;

/** Called by a suite's global setup before any test asks for a server. */
export function useRunServer(server: RunServer): void {
  runServer = server;
}

export function currentRunServer(): RunServer | undefined {
  return runServer;
}

/** The run's shared server: the dev server, unless the run was handed one (see useRunServer). */
export function devServer(): Promise<TestWorkflowEnvironment> {
  refuseInUnitRun('Temporal dev server');
  quietRuntime();
  if (runServer) {
    devEnv ??= TestWorkflowEnvironment.createFromExistingServer({
      address: runServer.address,
      namespace: runServer.namespace,
    });
    return devEnv;
  }
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
  refuseInUnitRun('time-skipping test server');
  quietRuntime();
  timeSkippingEnv ??= TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
  }).then(async (env) => {
    await registerSearchAttributes(env);
    return env;
  });
  return timeSkippingEnv;
}

/** The test server has no start-up flag for search attributes; register them as an operator would. */
async function registerSearchAttributes(env: TestWorkflowEnvironment): Promise<void> {
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      verificationSearchAttributes.map((key) => [
        key.name,
        proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ]),
    ),
  });
}

/**
 * Bundles a workflows module once per run, however many tests use it; with interceptor modules (the
 * OpenTelemetry ones of a traced worker), once per combination.
 */
export function workflowBundle(
  workflowsPath: string,
  workflowInterceptorModules: string[] = [],
): Promise<WorkflowBundleWithSourceMap> {
  const key = [workflowsPath, ...workflowInterceptorModules].join('\n');
  let bundle = bundles.get(key);
  if (!bundle) {
    // The failure converter must be bundled too, or failure messages would reach history unencrypted.
    bundle = bundleWorkflowCode({
      workflowsPath,
      failureConverterPath,
      workflowInterceptorModules,
      logger: new DefaultLogger('WARN'),
    });
    bundles.set(key, bundle);
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
