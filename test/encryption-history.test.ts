import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, type DataConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { AesGcmPayloadCodec } from '../codec/aes-gcm-codec.js';
import { buildCodecServer } from '../codec/codec-server.js';
import { createDataConverter, failureConverterPath } from '../codec/data-converter.js';
import { KeyRing } from '../codec/keyring.js';
import { temporalCliPath } from '../scripts/temporal-binaries.js';
import { devServer, uniqueName, workflowBundle } from './helpers/temporal.js';
import { leakedFields } from './helpers/history-scan.js';
import * as activities from './fixtures/encryption-activities.js';
import { contactChange, submitOtpSignal, type ContactChangeInput } from './fixtures/encryption-workflows.js';

const workflowsPath = fileURLToPath(new URL('./fixtures/encryption-workflows.ts', import.meta.url));

const input = (rejectEmail: boolean): ContactChangeInput => ({
  otp: '482913',
  phone: '+85291234567',
  email: 'ana.lima@example.com',
  rejectEmail,
});

const secretsOf = ({ otp, phone, email }: ContactChangeInput) => ({ otp, phone, email });

async function runContactChange(
  env: TestWorkflowEnvironment,
  client: Client,
  bundle: WorkflowBundleWithSourceMap,
  flow: ContactChangeInput,
  dataConverter?: DataConverter,
): Promise<{ handle: WorkflowHandle<typeof contactChange>; outcome: PromiseSettledResult<unknown> }> {
  const taskQueue = uniqueName('encryption');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: bundle,
    activities,
    ...(dataConverter ? { dataConverter } : {}),
  });
  return await worker.runUntil(async () => {
    const handle = await client.workflow.start(contactChange, {
      args: [flow],
      taskQueue,
      workflowId: uniqueName('contact-change'),
    });
    await handle.signal(submitOtpSignal, flow.otp);
    const [outcome] = await Promise.allSettled([handle.result()]);
    return { handle, outcome: outcome! };
  });
}

describe('payload encryption in workflow history', function () {
  let env: TestWorkflowEnvironment;
  let keyRing: KeyRing;
  let dataConverter: DataConverter;
  let encryptedBundle: WorkflowBundleWithSourceMap;
  let codecClient: Client;

  before(async function () {
    env = await devServer();
    keyRing = new KeyRing([{ id: 'test-k1', key: randomBytes(32) }]);
    dataConverter = createDataConverter(keyRing);
    // The failure converter runs inside the workflow sandbox too, so it is bundled with the workflows.
    encryptedBundle = await bundleWorkflowCode({
      workflowsPath,
      failureConverterPath,
      logger: new DefaultLogger('WARN'),
    });
    codecClient = new Client({
      connection: env.connection,
      namespace: env.namespace ?? 'default',
      dataConverter,
    });
  });

  it('without the codec, the same flow leaves the OTP, phone and email readable (the scan finds them)', async function () {
    const flow = input(true);
    const { handle, outcome } = await runContactChange(
      env,
      env.client,
      await workflowBundle(workflowsPath),
      flow,
    );
    assert.equal(outcome.status, 'rejected');
    const history = await env.client.workflow.getHandle(handle.workflowId).fetchHistory();
    assert.deepEqual(leakedFields(history, secretsOf(flow)), ['otp', 'phone', 'email']);
  });

  it('keeps the OTP, phone and email out of the history of a successful flow', async function () {
    const flow = input(false);
    const { handle, outcome } = await runContactChange(
      env,
      codecClient,
      encryptedBundle,
      flow,
      dataConverter,
    );

    assert.equal(outcome.status, 'fulfilled');
    assert.deepEqual(outcome.value, { notice: `texted ${flow.phone}`, email: flow.email });

    const raw = await env.client.workflow.getHandle(handle.workflowId).fetchHistory();
    assert.deepEqual(leakedFields(raw, secretsOf(flow)), []);
    const events = raw.events ?? [];
    const retried = events.find((e) => e.activityTaskStartedEventAttributes?.lastFailure);
    assert.equal(
      retried?.activityTaskStartedEventAttributes?.lastFailure?.message,
      'Encoded failure',
      'the failed first attempt is recorded, with its message encrypted',
    );
    assert.ok(events.some((e) => e.workflowExecutionSignaledEventAttributes?.input?.payloads?.length === 1));

    const decoded = await codecClient.workflow.getHandle(handle.workflowId).result();
    assert.deepEqual(decoded, { notice: `texted ${flow.phone}`, email: flow.email });
  });

  it('keeps the email out of the history when the workflow fails with it in the message', async function () {
    const flow = input(true);
    const { handle, outcome } = await runContactChange(
      env,
      codecClient,
      encryptedBundle,
      flow,
      dataConverter,
    );

    const raw = await env.client.workflow.getHandle(handle.workflowId).fetchHistory();
    assert.deepEqual(leakedFields(raw, secretsOf(flow)), []);
    const failed = raw.events?.find((e) => e.workflowExecutionFailedEventAttributes);
    const failure = failed?.workflowExecutionFailedEventAttributes?.failure;
    assert.equal(failure?.message, 'Encoded failure');
    assert.equal(failure?.applicationFailureInfo?.type, 'EmailRejected');
    assert.ok(
      failure?.encodedAttributes?.data?.length,
      'message and stack trace travel as an encrypted payload',
    );

    assert.equal(outcome.status, 'rejected');
    const err = outcome.reason;
    assert.ok(err instanceof WorkflowFailedError);
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.message, `the provider refused ${flow.email}`);
    assert.equal(err.cause.type, 'EmailRejected');
    assert.deepEqual(err.cause.details, [{ email: flow.email }]);
  });

  it('lets the Temporal CLI read the history in clear through the codec server, with the token only', async function () {
    const flow = input(false);
    const { handle } = await runContactChange(env, codecClient, encryptedBundle, flow, dataConverter);
    const token = randomBytes(24).toString('base64url');
    const codecServer = await buildCodecServer({
      codec: new AesGcmPayloadCodec(keyRing),
      authTokens: [token],
    });
    const statuses: number[] = [];
    const allAnswered = (code: number) => statuses.length > 0 && statuses.every((status) => status === code);
    codecServer.addHook('onResponse', async (_request, reply) => {
      statuses.push(reply.statusCode);
    });
    try {
      const endpoint = await codecServer.listen({ host: '127.0.0.1', port: 0 });
      const show = async (auth: string) => {
        const args = [
          'workflow',
          'show',
          '--address',
          env.address,
          '--namespace',
          env.namespace ?? 'default',
        ];
        args.push('--workflow-id', handle.workflowId, '--output', 'json', '--codec-endpoint', endpoint);
        // The CLI retries a refused decode until its deadline, so keep that short.
        args.push('--command-timeout', '3s');
        const { stdout } = await promisify(execFile)(temporalCliPath(), [...args, '--codec-auth', auth]);
        return stdout;
      };
      // The CLI prints decoded payloads as proto JSON (base64 data), which the scan reads through.
      assert.deepEqual(leakedFields(JSON.parse(await show(`Bearer ${token}`)), secretsOf(flow)), [
        'otp',
        'phone',
        'email',
      ]);
      assert.ok(allAnswered(200));
      statuses.length = 0;
      await assert.rejects(show('Bearer not-the-codec-token-at-all'));
      assert.ok(allAnswered(401), `statuses ${statuses.join(',')}`);
    } finally {
      await codecServer.close();
    }
  });
});
