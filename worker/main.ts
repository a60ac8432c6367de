/**
 * The worker process: `npm run worker` (or `node dist/worker/main.js`). Configuration comes from the
 * environment; see the README's "Running workers against a real cluster".
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Runtime } from '@temporalio/worker';
import { createDataConverter } from '../client/encryption/data-converter.js';
import { loadKeyRing } from '../client/encryption/keyring.js';
import { loadWorkerConfig } from './config.js';
import { createWorker } from './run.js';
import { installRuntime } from './runtime.js';
import { ensureSearchAttributes } from './search-attributes.js';

/** Reads every setting; any problem ends the process with its one-sentence message and exit code 2. */
export function loadOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const config = loadOrExit(() => loadWorkerConfig(process.env));
  const keyRing = loadOrExit(() => loadKeyRing(process.env, { allowDevKey: !process.env.TEMPORAL_ADDRESS }));
  installRuntime({ metricsAddress: config.metricsAddress });
  await ensureSearchAttributes(config.temporal);
  const worker = await createWorker(config, { dataConverter: createDataConverter(keyRing) });
  Runtime.instance().logger.info('worker started', {
    taskQueue: config.taskQueue,
    namespace: config.temporal.namespace,
    address: config.temporal.address,
    metrics: config.metricsAddress ?? 'off',
  });
  // SIGINT/SIGTERM are handled by the Runtime: polling stops, in-flight tasks get shutdownGraceTime.
  await worker.run();
  Runtime.instance().logger.info('worker stopped');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
