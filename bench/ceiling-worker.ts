/**
 * The ceiling's worker process: configured from the same environment as `worker/main.ts` (connection,
 * task queue, tuning, codec keys, logger), running the project's own workflow bundle with activities
 * that answer at once. No second copy of the process exists that could drift from the real one.
 */
import { loadOrExit } from '../config/errors.js';
import { createDataConverter } from '../codec/data-converter.js';
import { loadKeyRing } from '../codec/keyring.js';
import { loadWorkerConfig } from '../worker/config.js';
import { createWorker } from '../worker/run.js';
import { installRuntime } from '../worker/runtime.js';
import { createCeilingActivities } from './ceiling-activities.js';
import type { SandboxMessage } from './sandbox-messages.js';

const config = loadOrExit(() => loadWorkerConfig(process.env));
const keyRing = loadOrExit(() => loadKeyRing(process.env, { allowDevKey: false }));
installRuntime({ metricsAddress: config.metricsAddress });

const send = (message: SandboxMessage) => process.send?.(message);
// createWorker maps the same WORKER_* settings as worker/main.ts, so one set of variables tunes both.
const worker = await createWorker(config, {
  dataConverter: createDataConverter(keyRing),
  activities: createCeilingActivities((customerId, code) => send({ kind: 'otp', customerId, code })),
});
// The bench gone (even killed) closes the IPC channel: stop polling rather than outlive it.
process.on('disconnect', () => {
  if (worker.getState() === 'RUNNING') worker.shutdown();
});
console.log(JSON.stringify({ msg: 'worker started', taskQueue: config.taskQueue }));
await worker.run();
