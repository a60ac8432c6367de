import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, type WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { createDataConverter } from '../codec/data-converter.js';
import { formatKeyEntry, parseKeyRing } from '../codec/keyring.js';
import { SandboxControlClient } from '../sandbox/control-client.js';
import { spawnNode, stopProcess, waitForLine, workerStartedLine } from '../scripts/processes.js';
import { verificationWorkflowId } from '../workflows/ids.js';
import { submitOtpSignal } from '../workflows/messages.js';
import type { VerificationInput } from '../workflows/types.js';
import { verifyContactChange } from '../workflows/verification.js';
import { uniqueName } from './helpers/temporal.js';
import { verificationStack, waitForStep, withVerificationWorker } from './helpers/verification-env.js';

const key = (name: string) => fileURLToPath(new URL(`../sandbox/keys/${name}`, import.meta.url));

interface PatchTraces {
  markers: number;
  changeVersionUpserts: number;
}

/** What a patch writes each time a flow passes it: the SDK's marker and its TemporalChangeVersion upsert. */
function patchTraces(history: temporal.api.history.v1.IHistory): PatchTraces {
  const events = history.events ?? [];
  return {
    markers: events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').length,
    changeVersionUpserts: events.filter(
      (e) =>
        e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields
          ?.TemporalChangeVersion,
    ).length,
  };
}

/** An email change with the Wonder sync, code by signal, to its end: the flow passes most patches. */
async function changeEmail(
  control: SandboxControlClient,
  start: (input: VerificationInput) => Promise<WorkflowHandle<typeof verifyContactChange>>,
): Promise<WorkflowHandle<typeof verifyContactChange>> {
  const customer = await control.addCustomer();
  const handle = await start({
    customerId: customer.customerId,
    change: { email: `retired.${randomBytes(4).toString('hex')}@example.com` },
    wonder: { customerUuid: 'e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a02', referenceNumber: 'MERCHANT-CUST-0002' },
  });
  await waitForStep(handle, 'AWAITING_INPUT');
  await handle.signal(submitOtpSignal, { code: await control.latestOtp(customer.customerId) });
  assert.equal((await handle.result()).status, 'MODIFIED');
  return handle;
}

// bench/retired-patches-worker.ts measures what retiring the patches saves; it is only a measure of that
// if its flows still end as the product's do, without the patches' events, and the product's have them.
describe("the bench's retired-patches worker", function () {
  const stack = verificationStack();
  let worker: ChildProcess | undefined;
  const codecKeys = formatKeyEntry('test-k1', randomBytes(32));
  const taskQueue = uniqueName('retired-patches');

  before(async function () {
    this.timeout(120_000);
    worker = spawnNode('bench/retired-patches-worker.ts', {
      env: {
        PATH: process.env.PATH,
        TEMPORAL_ADDRESS: stack.env.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        TEMPORAL_CODEC_KEYS: codecKeys,
        DWS_BASE_URL: stack.sandbox.url,
        DWS_CLIENT_ID: stack.sandbox.clientId,
        DWS_PRIVATE_KEY_FILE: key('dws-merchant.private.pem'),
        DWS_PROVIDER_PUBLIC_KEY_FILE: key('dws-provider.public.pem'),
        WONDER_BASE_URL: stack.sandbox.url,
        WONDER_APP_ID: 'sandbox-app-id',
        WONDER_PRIVATE_KEY_FILE: key('wonder-merchant.private.pem'),
      },
    });
    await waitForLine(worker, workerStartedLine, { name: 'the retired-patches worker', timeoutMs: 90_000 });
  });

  after(async () => {
    if (worker) await stopProcess(worker, { graceMs: 20_000 });
  });

  it('the product worker writes each patch a flow passes (the control)', async function () {
    this.timeout(60_000);
    const traces = await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) =>
      patchTraces(await (await changeEmail(control, start)).fetchHistory()),
    );
    assert.ok(traces.markers > 0 && traces.changeVersionUpserts > 0, JSON.stringify(traces));
  });

  it('runs the same flow to its end with no patch marker and no TemporalChangeVersion upsert', async function () {
    this.timeout(60_000);
    const client = new Client({
      connection: stack.env.connection,
      namespace: stack.env.namespace ?? 'default',
      dataConverter: createDataConverter(parseKeyRing(codecKeys, 'test')),
    });
    const handle = await changeEmail(new SandboxControlClient(stack.sandbox.url), (input) =>
      client.workflow.start(verifyContactChange, {
        args: [input],
        taskQueue,
        workflowId: verificationWorkflowId(input.customerId),
      }),
    );
    assert.deepEqual(patchTraces(await handle.fetchHistory()), { markers: 0, changeVersionUpserts: 0 });
  });
});
