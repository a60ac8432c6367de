/**
 * A delivery survives what breaks under it: the worker process is SIGKILLed while both events are on
 * the wire to a receiver that has not answered yet, and the Temporal server is restarted on its database.
 * The events still arrive, under the ids they were first sent with, and the receiver, deduplicating by
 * webhook-id as docs/webhooks.md asks, processes each once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { VerificationClient } from '@dws-verify/client';
import { createDataConverter } from '../codec/data-converter.js';
import { formatKeyEntry, parseKeyRing } from '../codec/keyring.js';
import { pollUntil } from '../scripts/processes.js';
import { SandboxControlClient } from '../sandbox/control-client.js';
import { startSandbox, type RunningSandbox } from '../sandbox/server.js';
import { webhookDeliveryWorkflowId } from '../workflows/ids.js';
import type { WebhookDeliveryState } from '../workflows/types.js';
import { chaosServer, sandboxWorkerEnv, WorkerProcess, type ChaosServer } from './helpers/chaos-processes.js';
import { uniqueName } from './helpers/temporal.js';
import { newWebhookSecret, WebhookReceiver } from './helpers/webhook-receiver.js';

describe('webhooks: a delivery through a worker crash and a server restart', function () {
  this.timeout(150_000);

  const workDir = mkdtempSync(join(tmpdir(), 'dws-webhooks-crash-'));
  const codecKeys = formatKeyEntry('webhooks-1', randomBytes(32));
  const secret = newWebhookSecret();
  const taskQueue = uniqueName('webhooks-crash');
  let passed = false;
  let server: ChaosServer;
  let sandbox: RunningSandbox;
  let receiver: WebhookReceiver;
  let worker: WorkerProcess;
  let connection: Connection | undefined;

  before(async function () {
    this.timeout(120_000);
    server = await chaosServer(join(workDir, 'temporal.sqlite'));
    await server.start();
    sandbox = await startSandbox();
    receiver = await WebhookReceiver.start([secret]);
    worker = new WorkerProcess({
      logFile: join(workDir, 'worker.log'),
      env: {
        ...sandboxWorkerEnv({
          temporalAddress: server.address,
          taskQueue,
          codecKeys,
          dwsUrl: sandbox.url,
          dwsClientId: sandbox.clientId,
        }),
        WEBHOOK_ENDPOINTS: `orders/main ${receiver.url} ${secret}`,
        WEBHOOK_TIMEOUT_SECONDS: '3',
        // The attempts lost with the worker are retried once the server times them out, a second later.
        WEBHOOK_FIRST_RETRY_SECONDS: '1',
      },
    });
    await worker.start();
    connection = await Connection.connect({ address: server.address });
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.allSettled([worker?.close(), connection?.close(), receiver?.stop()]);
    await Promise.allSettled([server?.stop(), sandbox?.close()]);
    if (passed) rmSync(workDir, { recursive: true, force: true });
    else console.error(`webhook crash run kept for inspection in ${workDir} (worker.log)`);
  });

  it('the events arrive after the crash and the restart, same ids, each processed once', async function () {
    const client = new Client({
      connection: connection!,
      namespace: 'default',
      dataConverter: createDataConverter(parseKeyRing(codecKeys, 'the test key')),
    });
    const verifications = new VerificationClient(client, taskQueue, { caller: 'orders' });
    const control = new SandboxControlClient(sandbox.url);
    const { customerId } = await control.addCustomer();
    // Both events reach the receiver, which holds them without an answer: the worker dies mid-delivery.
    await receiver.answer(['hang', 'hang'], 204);
    await verifications.start({ customerId, change: { email: 'after.crash@example.com' } });
    await verifications.verifyOtp(customerId, await control.latestOtp(customerId));
    assert.equal((await verifications.result(customerId)).status, 'MODIFIED', 'the outcome did not wait');

    await pollUntil(
      async () => (await receiver.deliveries()).deliveries.length === 2,
      30_000,
      'both events on the wire',
    );
    await worker.crash();
    await server.restart();
    await worker.start();

    const verificationId = verifications.verificationId(customerId);
    const { runId } = await client.workflow.getHandle(verificationId).describe();
    const delivery = client.workflow.getHandle<() => Promise<WebhookDeliveryState>>(
      webhookDeliveryWorkflowId(verificationId, runId),
    );
    const state = await delivery.result();
    assert.equal(state.status, 'DELIVERED');
    assert.equal(worker.kills, 1);

    const eventIds = state.deliveries.map((d) => d.eventId).sort();
    const { deliveries, processed } = await receiver.deliveries();
    for (const id of eventIds) {
      const received = deliveries.filter((d) => d.id === id);
      assert.ok(
        received.length >= 2,
        `${id} was sent ${received.length} times: once before the crash, again after`,
      );
      assert.equal(received[0]!.answered, 'hang');
      assert.ok(received.some((d) => d.answered === 204));
    }
    assert.deepEqual([...processed].sort(), eventIds, 'the receiver counts each event once');
    passed = true;
  });
});
