import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import got, { type Got } from 'got';
import { sandboxDwsConfig } from '../../activities/dws/config.js';
import { sandboxWonderConfig } from '../../activities/wonder/config.js';
import { VerificationClient } from '@dws-verify/client';
import { createDataConverter } from '../../codec/data-converter.js';
import { formatKeyEntry, parseKeyRing } from '../../codec/keyring.js';
import { loadHttpConfig } from '../../http/config.js';
import { startHttpService, type RunningHttpService } from '../../http/server.js';
import { SandboxControlClient } from '../../sandbox/control-client.js';
import { temporalCliPath } from '../../scripts/temporal-binaries.js';
import { createActivities } from '../../worker/run.js';
import { stateQuery } from '../../workflows/messages.js';
import type { VerificationOutcome } from '../../workflows/types.js';
import { leakedFields } from '../helpers/history-scan.js';
import { uniqueName, workflowBundle } from '../helpers/temporal.js';
import { verificationStack, verificationWorkflows, waitForStep } from '../helpers/verification-env.js';

interface CliResult {
  stdout: string;
  stderr: string;
}

/**
 * An operator's Temporal CLI (the binary the project provisions) against a production-shaped stack: a
 * configured key, the worker and the HTTP service encrypting with it, `/codec` mounted in the HTTP service
 * behind its token. Every payload the CLI shows or sends goes through `/codec`.
 */
describe('the Temporal CLI through the codec endpoint (configured key)', function () {
  this.timeout(120_000);
  const stack = verificationStack();
  const apiToken = `api-${randomBytes(12).toString('hex')}`;
  const codecToken = randomBytes(24).toString('base64url');
  // No profile or TEMPORAL_* setting of the machine running the tests may reach the CLI.
  const home = mkdtempSync(join(tmpdir(), 'cli-codec-'));
  let worker: Worker;
  let running: Promise<void>;
  let service: RunningHttpService;
  let client: Client;
  let api: Got;
  let control: SandboxControlClient;
  const codecStatuses: number[] = [];

  before(async function () {
    const { env, sandbox } = stack;
    const key = formatKeyEntry('ops-2026', randomBytes(32));
    const keyRing = parseKeyRing(key, 'TEMPORAL_CODEC_KEYS');
    const dataConverter = createDataConverter(keyRing);
    const taskQueue = uniqueName('cli-codec');
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(verificationWorkflows),
      activities: createActivities({
        dws: sandboxDwsConfig(sandbox.url),
        wonder: sandboxWonderConfig(sandbox.url),
      }),
      dataConverter,
    });
    running = worker.run();
    client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter });
    service = await startHttpService({
      env: { TEMPORAL_CODEC_KEYS: key, CODEC_AUTH_TOKEN: codecToken },
      config: loadHttpConfig({ HTTP_PORT: '0', HTTP_AUTH_TOKENS: apiToken }),
      verifications: new VerificationClient(client, taskQueue),
      codecKeyRing: keyRing,
      logger: false,
    });
    // What /codec answered the CLI, seen from the listening socket (the app takes no hooks once started).
    service.app.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      if (request.url?.startsWith('/codec/'))
        response.once('finish', () => codecStatuses.push(response.statusCode));
    });
    api = got.extend({
      prefixUrl: service.url,
      headers: { authorization: `Bearer ${apiToken}` },
      retry: { limit: 0 },
    });
    control = new SandboxControlClient(sandbox.url);
  });

  after(async function () {
    await service?.close();
    worker?.shutdown();
    await running;
    rmSync(home, { recursive: true, force: true });
  });

  beforeEach(() => {
    codecStatuses.length = 0;
  });

  /**
   * Runs `temporal <args>` as an operator would, with the codec token in TEMPORAL_CODEC_AUTH (the CLI's
   * variable for --codec-auth, so the token stays out of the command line) when `auth` is given.
   */
  async function temporal(
    args: string[],
    codec?: { auth: string; endpoint?: string },
    timeout = '15s',
  ): Promise<CliResult> {
    const { env } = stack;
    const connection = ['--address', env.address, '--namespace', env.namespace ?? 'default'];
    const withCodec = codec ? ['--codec-endpoint', codec.endpoint ?? `${service.url}/codec`] : [];
    // The CLI retries a failed decode until this deadline: a refusal must not cost the test's whole budget.
    const deadline = ['--command-timeout', timeout];
    return promisify(execFile)(temporalCliPath(), [...args, ...connection, ...withCodec, ...deadline], {
      env: {
        PATH: process.env.PATH,
        HOME: home,
        TEMPORAL_CONFIG_FILE: join(home, 'no-such-config.toml'),
        ...(codec ? { TEMPORAL_CODEC_AUTH: codec.auth } : {}),
      },
    });
  }
  const operator = { auth: `Bearer ${codecToken}` };

  /** Starts a verification the way the app does (HTTP, update-with-start) and waits for the code. */
  async function startVerification(email: string) {
    const customer = await control.addCustomer();
    const { verificationId } = await api
      .post('verifications', { json: { customerId: customer.customerId, change: { email } } })
      .json<{ verificationId: string }>();
    const handle = client.workflow.getHandle(verificationId);
    await waitForStep(handle, 'AWAITING_INPUT');
    return { customer, verificationId, handle };
  }

  it('queries, and sends an update and signals encoded through the codec, and the flow acts on them', async function () {
    const email = `cli.${randomBytes(4).toString('hex')}@example.com`;
    const { customer, verificationId, handle } = await startVerification(email);
    const state = await temporal(['workflow', 'query', '-w', verificationId, '--name', 'state'], operator);
    assert.match(state.stdout, /"step":"AWAITING_INPUT"/);
    const first = await control.latestOtp(customer.customerId);
    const wrong = first === '000000' ? '111111' : '000000';

    const verifyArgs = ['workflow', 'update', 'execute', '-w', verificationId, '--name', 'verifyOtp'];
    const update = await temporal(
      [...verifyArgs, '--input', JSON.stringify({ code: wrong }), '--output', 'json'],
      operator,
    );
    // The update's answer was decoded by the codec on the way back; the input reached the flow decoded.
    assert.match(update.stdout, /"verdict":\s*"INCORRECT"/);
    assert.equal((await handle.query(stateQuery)).attemptsLeft, 4);

    // No input: the CLI asks /encode for an empty list, sent as `{}`.
    const resend = await temporal(
      ['workflow', 'signal', '-w', verificationId, '--name', 'resendOtp'],
      operator,
    );
    assert.match(resend.stdout, /Signal workflow succeeded/);
    const signalled = (await handle.fetchHistory()).events?.map(
      (event) => event.workflowExecutionSignaledEventAttributes?.signalName,
    );
    assert.ok(signalled?.includes('resendOtp'));
    const code = await control.latestOtp(customer.customerId);

    const submitArgs = ['workflow', 'signal', '-w', verificationId, '--name', 'submitOtp'];
    const signal = await temporal([...submitArgs, '--input', JSON.stringify({ code })], operator);
    assert.match(signal.stdout, /Signal workflow succeeded/);
    const outcome = (await handle.result()) as VerificationOutcome;
    assert.equal(outcome.status, 'MODIFIED');
    assert.equal((await control.customer(customer.customerId)).email, email);
    assert.ok(
      codecStatuses.length > 0 && codecStatuses.every((status) => status === 200),
      `${codecStatuses}`,
    );
  });

  it('shows, describes, lists and gives the result of a verification decoded, and only through the codec', async function () {
    const email = `cli.${randomBytes(4).toString('hex')}@example.com`;
    const reason = `operator ${randomBytes(4).toString('hex')} closed it`;
    const { verificationId, handle } = await startVerification(email);
    await temporal(
      ['workflow', 'signal', '-w', verificationId, '--name', 'cancel', '--input', JSON.stringify({ reason })],
      operator,
    );
    const outcome = (await handle.result()) as VerificationOutcome;
    assert.equal(outcome.status, 'CANCELLED');
    assert.equal(outcome.status === 'CANCELLED' && outcome.reason, reason);

    const id = ['-w', verificationId];
    // Each command with and without the codec: what it must print in clear, and only through the codec.
    const commands: Array<{ args: string[]; clear: string[] }> = [
      { args: ['workflow', 'show', ...id, '--detailed'], clear: [email, reason] },
      { args: ['workflow', 'describe', ...id], clear: [reason, `DWS customer`] },
      { args: ['workflow', 'result', ...id], clear: [reason, '"status":"CANCELLED"'] },
    ];
    for (const { args, clear } of commands) {
      codecStatuses.length = 0;
      const decoded = (await temporal(args, operator)).stdout;
      for (const text of clear) assert.ok(decoded.includes(text), `${args[1]} shows ${text}`);
      assert.ok(codecStatuses.length > 0 && codecStatuses.every((s) => s === 200), `${codecStatuses}`);
      const raw = (await temporal(args)).stdout;
      for (const text of clear) assert.ok(!raw.includes(text), `${args[1]} without the codec hides ${text}`);
      assert.ok(raw.includes(Buffer.from('binary/encrypted').toString('base64')), `${args[1]}: ciphertext`);
    }
    const json = JSON.parse(
      (await temporal(['workflow', 'show', ...id, '--output', 'json'], operator)).stdout,
    );
    assert.deepEqual(leakedFields(json, { email, reason }), ['email', 'reason']);
    // An endpoint typed with a trailing slash works too (the CLI then calls /codec//decode).
    const slash = await temporal(['workflow', 'result', ...id], {
      ...operator,
      endpoint: `${service.url}/codec/`,
    });
    assert.ok(slash.stdout.includes(reason));
    const listed = await temporal(
      ['workflow', 'list', '--query', `WorkflowId = "${verificationId}"`],
      operator,
    );
    assert.match(listed.stdout, new RegExp(`Completed\\s+${verificationId}\\s+verifyContactChange`));
  });

  it('fails cleanly with a wrong --codec-auth: no payload shown, no input sent', async function () {
    const email = `cli.${randomBytes(4).toString('hex')}@example.com`;
    const { verificationId, handle } = await startVerification(email);
    const wrong = { auth: `Bearer ${randomBytes(24).toString('base64url')}` };
    const id = ['-w', verificationId];
    const refusedOnly = () =>
      codecStatuses.length > 0 && codecStatuses.every((status) => status === 401 || status === 429);
    /** Runs a command that must fail; the codec must have refused every call it made (401, then 429). */
    async function fails(args: string[], timeout: string): Promise<CliResult> {
      codecStatuses.length = 0;
      const failed = await temporal(args, wrong, timeout).then(
        () => assert.fail(`${args.join(' ')} succeeded with a wrong token`),
        (err: unknown) => err as CliResult & { code: number },
      );
      assert.equal(failed.code, 1);
      assert.ok(refusedOnly(), `${args[1]}: ${codecStatuses}`);
      return failed;
    }

    // A signal's input is encoded once: the refusal is reported at once, by name.
    const signal = await fails(
      [...['workflow', 'signal', ...id, '--name', 'cancel'], '--input', '{}'],
      '15s',
    );
    assert.match(signal.stderr, /failed signalling workflow: Unauthorized: .*A valid codec auth token/);
    assert.deepEqual(codecStatuses, [401]);

    // A refused decode (show) or update input is retried by the CLI until --command-timeout. Each try is a
    // failed sign-in for this address, so a few seconds of it reach the limit (429 from then on).
    const show = await fails(['workflow', 'show', ...id, '--detailed'], '3s');
    assert.match(show.stderr, /displaying history failed: context deadline exceeded/);
    assert.ok(!show.stdout.includes(email));
    const update = await fails(
      [...['workflow', 'update', 'execute', ...id, '--name', 'verifyOtp'], '--input', '{"code":"000000"}'],
      '2s',
    );
    assert.match(update.stderr, /program interrupted/);

    const state = await handle.query(stateQuery);
    assert.equal(state.step, 'AWAITING_INPUT', 'the cancel did not arrive');
    assert.equal(state.attemptsLeft, 5, 'the code did not arrive');
    await handle.signal('cancel', {});
    assert.equal(((await handle.result()) as VerificationOutcome).status, 'CANCELLED');
  });
});
