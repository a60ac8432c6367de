/**
 * The worker process's life, from the environment to a stopped worker: what `worker/main.ts` runs, and
 * what a benchmark's variant of it runs with another workflow bundle (bench/retired-patches-worker.ts),
 * so the two cannot drift. Configuration comes from the environment; see docs/deploying.md.
 */
import { Runtime, type WorkflowBundleOption } from '@temporalio/worker';
import { loadOrExit } from '../config/errors.js';
import { workerDataConverter } from '../codec/data-converter.js';
import { loadKeyRing } from '../codec/keyring.js';
import { isLocalDevelopment } from '../config/temporal.js';
import { describeLimitsStore } from '../limits/config.js';
import { workerTracing } from '../observability/temporal.js';
import { describeTracing, startTracing } from '../observability/tracing.js';
import { loadWorkerConfig } from './config.js';
import { createSendBudget, createWorker } from './run.js';
import { installRuntime } from './runtime.js';
import { ensureSearchAttributes } from './search-attributes.js';

export interface WorkerProcessOptions {
  /**
   * Another bundle of the project's workflows, given the interceptor modules tracing needs in it
   * (none when tracing is off); default: the build's own (worker/run.ts).
   */
  workflowBundle?: (workflowInterceptorModules: string[]) => Promise<WorkflowBundleOption>;
}

export async function runWorkerProcess(options: WorkerProcessOptions = {}): Promise<void> {
  const config = loadOrExit(() => loadWorkerConfig(process.env));
  const keyRing = loadOrExit(() =>
    loadKeyRing(process.env, { allowDevKey: isLocalDevelopment(config.temporal) }),
  );
  installRuntime({ metricsAddress: config.metricsAddress });
  const tracing = loadOrExit(() => startTracing(process.env, { serviceName: 'dws-verify-worker' }));
  await ensureSearchAttributes(config.temporal);
  const { sendBudget, store } = createSendBudget(config.limits, {
    // Sends wait (retried, never uncounted) while the store is away; the operator should know why.
    onStateChange: (state, err) =>
      state === 'unavailable'
        ? Runtime.instance().logger.warn('limits store unavailable: no codes are sent until it answers', {
            error: err?.message,
          })
        : Runtime.instance().logger.info('limits store ready'),
  });
  const traced = workerTracing(tracing);
  const worker = await createWorker(config, {
    dataConverter: workerDataConverter(keyRing),
    sendBudget,
    ...(traced ? { tracing: traced } : {}),
    ...(options.workflowBundle
      ? { workflowBundle: await options.workflowBundle(traced?.workflowModules ?? []) }
      : {}),
  });
  Runtime.instance().logger.info('worker started', {
    taskQueue: config.taskQueue,
    namespace: config.temporal.namespace,
    address: config.temporal.address,
    ...(config.versioning
      ? { deployment: config.versioning.deploymentName, buildId: config.versioning.buildId }
      : { versioning: 'off' }),
    metrics: config.metricsAddress ?? 'off',
    limits: describeLimitsStore(config.limits),
    tracing: describeTracing(tracing),
    // Endpoint names only: URLs can carry credentials, secrets never leave the configuration.
    webhookEndpoints:
      config.webhooks.endpoints.map(({ caller, id }) => `${caller}/${id}`).join(', ') || 'none',
  });
  // SIGINT/SIGTERM are handled by the Runtime: polling stops, in-flight tasks get shutdownGraceTime.
  try {
    await worker.run();
  } finally {
    // After the run: in-flight sends had the grace time to spend their budget.
    await store.close();
    // The last spans (the shutdown's own activities) are still batched.
    await tracing.shutdown();
  }
  Runtime.instance().logger.info('worker stopped');
}
