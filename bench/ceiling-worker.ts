/**
 * The ceiling's worker process: configured from the same environment as `worker/main.ts` (connection,
 * task queue, tuning, codec keys, logger), running the ceiling workflow and its instant activities.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrExit } from '../config/errors.js';
import { createDataConverter } from '../client/encryption/data-converter.js';
import { loadKeyRing } from '../client/encryption/keyring.js';
import { loadWorkerConfig } from '../worker/config.js';
import { createWorker } from '../worker/run.js';
import { installRuntime } from '../worker/runtime.js';
import { createCeilingActivities } from './ceiling-activities.js';
import type { SandboxMessage } from './sandbox-messages.js';

// BENCH_CEILING_WORKFLOW=lean: the variant with fewer search-attribute writes (see its file). The
// extension follows this file's: .ts under tsx, .js when compiled.
const ceilingWorkflowsPath = fileURLToPath(
  new URL(
    `./${process.env.BENCH_CEILING_WORKFLOW === 'lean' ? 'ceiling-lean-workflow' : 'ceiling-workflow'}${extname(fileURLToPath(import.meta.url))}`,
    import.meta.url,
  ),
);

const config = loadOrExit(() => loadWorkerConfig(process.env));
const keyRing = loadOrExit(() => loadKeyRing(process.env, { allowDevKey: false }));
installRuntime({ metricsAddress: config.metricsAddress });

const send = (message: SandboxMessage) => process.send?.(message);
// createWorker maps the same WORKER_* settings as worker/main.ts, so one set of variables tunes both.
const worker = await createWorker(config, {
  dataConverter: createDataConverter(keyRing),
  workflowsPath: ceilingWorkflowsPath,
  activities: createCeilingActivities((customerId, code) => send({ kind: 'otp', customerId, code })),
});
// The bench gone (even killed) closes the IPC channel: stop polling rather than outlive it.
process.on('disconnect', () => {
  if (worker.getState() === 'RUNNING') worker.shutdown();
});
console.log(JSON.stringify({ msg: 'worker started', taskQueue: config.taskQueue }));
await worker.run();
