import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createDataConverter } from '../codec/data-converter.js';
import { formatKeyEntry, parseKeyRing } from '../codec/keyring.js';
import { SandboxControlClient } from '../sandbox/control-client.js';
import type { RunningSandbox } from '../sandbox/server.js';
import { verificationWorkflowId } from '../workflows/ids.js';
import { submitOtpSignal, verifyOtpUpdate } from '../workflows/messages.js';
import { verifyContactChange } from '../workflows/verification.js';
import { leakedFields } from './helpers/history-scan.js';
import { devServer, uniqueName } from './helpers/temporal.js';
import { freePort, spawnNode, stopProcess, waitForLine, workerStartedLine } from '../scripts/processes.js';
import got from 'got';
import { startVerificationSandbox, waitForStep } from './helpers/verification-env.js';

const key = (name: string) => fileURLToPath(new URL(`../sandbox/keys/${name}`, import.meta.url));

/** A digit string standing alone, so a code is not "found" inside a 35-digit authentication id. */
const standalone = (digits: string) => new RegExp(`(?<![0-9])${digits}(?![0-9])`);

describe('the worker process: secrets out of history and logs, metrics, graceful stop', function () {
  let env: TestWorkflowEnvironment;
  let sandbox: RunningSandbox;
  let worker: ChildProcess | undefined;
  let workerOutput = '';
  const codecKeys = formatKeyEntry('test-k1', randomBytes(32));
  const taskQueue = uniqueName('secrets');
  let metricsPort = 0;

  before(async function () {
    this.timeout(90_000);
    env = await devServer();
    sandbox = await startVerificationSandbox();
    metricsPort = await freePort();
    worker = spawnNode('worker/main.ts', {
      env: {
        PATH: process.env.PATH,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        TEMPORAL_CODEC_KEYS: codecKeys,
        DWS_BASE_URL: sandbox.url,
        DWS_CLIENT_ID: sandbox.clientId,
        DWS_PRIVATE_KEY_FILE: key('dws-merchant.private.pem'),
        DWS_PROVIDER_PUBLIC_KEY_FILE: key('dws-provider.public.pem'),
        WONDER_BASE_URL: sandbox.url,
        WONDER_APP_ID: 'sandbox-app-id',
        WONDER_PRIVATE_KEY_FILE: key('wonder-merchant.private.pem'),
        WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      },
    });
    worker.stdout?.on('data', (chunk) => (workerOutput += chunk));
    worker.stderr?.on('data', (chunk) => (workerOutput += chunk));
    await waitForLine(worker, workerStartedLine, { name: 'the worker', timeoutMs: 60_000 });
  });

  after(async () => {
    if (worker) await stopProcess(worker, { graceMs: 20_000 });
    await sandbox?.close();
  });

  it('a full phone and email change leaves neither OTP, phone nor email readable in history or logs', async function () {
    this.timeout(60_000);
    const control = new SandboxControlClient(sandbox.url);
    const customer = await control.addCustomer({ mobileNoInfo: { countryCode: '65', phoneNo: '81112222' } });
    const newPhone = { countryCode: '65', phoneNo: '93334444' };
    const newEmail = `secret.${randomBytes(4).toString('hex')}@example.com`;
    const client = new Client({
      connection: env.connection,
      namespace: env.namespace ?? 'default',
      dataConverter: createDataConverter(parseKeyRing(codecKeys, 'test')),
    });

    const handle = await client.workflow.start(verifyContactChange, {
      args: [
        {
          customerId: customer.customerId,
          change: { email: newEmail, mobileNoInfo: newPhone },
          wonder: {
            customerUuid: 'e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a02',
            referenceNumber: 'MERCHANT-CUST-0002',
          },
        },
      ],
      taskQueue,
      workflowId: verificationWorkflowId(customer.customerId),
    });
    await waitForStep(handle, 'AWAITING_INPUT');
    const code = await control.latestOtp(customer.customerId);
    const wrong = code === '000000' ? '999999' : '000000';
    assert.equal(
      (await handle.executeUpdate(verifyOtpUpdate, { args: [{ code: wrong }] })).verdict,
      'INCORRECT',
    );
    await handle.signal(submitOtpSignal, { code });
    const outcome = await handle.result();
    assert.equal(outcome.status, 'MODIFIED', 'the codec-equipped client reads the outcome');
    assert.equal((await control.customer(customer.customerId)).email, newEmail);

    const secrets = {
      otp: code,
      phone: newPhone.phoneNo,
      oldPhone: customer.mobileNoInfo.phoneNo,
      email: newEmail,
      emailUser: newEmail.split('@')[0] ?? newEmail,
    };
    const raw = await env.client.workflow.getHandle(handle.workflowId).fetchHistory();
    assert.deepEqual(leakedFields(raw, secrets), [], 'the raw history shows none of them');
    assert.equal(JSON.stringify(raw.events).match(standalone(wrong)), null, 'nor the mistyped code');

    // Give the worker a moment to flush its last lines, then read everything it printed.
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(workerOutput.includes('"resultCode":"SUCCESS"'), 'the log does say what happened');
    for (const [name, value] of Object.entries({
      code,
      wrong,
      phone: newPhone.phoneNo,
      oldPhone: '81112222',
    })) {
      assert.doesNotMatch(workerOutput, standalone(value), `the worker log shows no ${name}`);
    }
    assert.ok(
      !workerOutput.includes(newEmail) && !workerOutput.includes(secrets.emailUser),
      'the worker log shows no email',
    );
  });

  it('serves the SDK Prometheus metrics when WORKER_METRICS_ADDRESS is set', async function () {
    const metrics = await got(`http://127.0.0.1:${metricsPort}/metrics`).text();
    assert.match(metrics, /temporal_worker_task_slots_available|temporal_request/);
  });

  it('stops cleanly on SIGTERM', async function () {
    this.timeout(30_000);
    const exited = new Promise<number | null>((r) => worker?.once('exit', (code) => r(code)));
    worker?.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(workerOutput, /worker stopped/);
  });
});
