/**
 * docs/deploying.md's "Deploying a new version", step by step, on a dev server of its own: `npm run build`, two
 * worker processes started from dist/ as production starts them (build A with the build's own id, build B
 * with WORKER_BUILD_ID set), B made current beside A, A drained and stopped, then a roll back. Where each
 * flow ran is read from Temporal (the pinned version in describe, the build id on every workflow task in
 * history), not from the workers' logs.
 */
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { sandboxDwsEnv } from '../../activities/dws/config.js';
import { createDataConverter } from '../../codec/data-converter.js';
import { formatKeyEntry, parseKeyRing } from '../../codec/keyring.js';
import { SandboxControlClient } from '../../sandbox/control-client.js';
import { startSandbox, type RunningSandbox } from '../../sandbox/server.js';
import { build } from '../../scripts/build.js';
import { startDevServer, type RunningDevServer } from '../../scripts/dev-server.js';
import {
  freePort,
  projectRoot,
  spawnNode,
  stopProcess,
  waitForLine,
  workerStartedLine,
} from '../../scripts/processes.js';
import { Rollout } from '../../scripts/rollout.js';
import { verificationWorkflowId, verificationWorkflowPrefix } from '../../workflows/ids.js';
import { submitOtpSignal } from '../../workflows/messages.js';
import { verificationSearchAttributes } from '../../workflows/search-attributes.js';
import { verifyContactChange } from '../../workflows/verification.js';
import { uniqueName } from '../helpers/temporal.js';
import { waitForStep } from '../helpers/verification-env.js';

const { VersioningBehavior } = proto.temporal.api.enums.v1;

describe('deploying a new build with Worker Deployments', function () {
  this.timeout(10 * 60_000);
  const workDir = mkdtempSync(join(tmpdir(), 'dws-deploys-'));
  const codecKeys = formatKeyEntry('deploys-1', randomBytes(32));
  const deploymentName = uniqueName('dws-verify');
  const taskQueue = uniqueName('deploys');
  const wait = { timeoutMs: 60_000, intervalMs: 250 };
  let server: RunningDevServer;
  let sandbox: RunningSandbox;
  let control: SandboxControlClient;
  let client: Client;
  let rollout: Rollout;
  let builtId: string;
  const workers: ChildProcess[] = [];

  before(async function () {
    const built = await build(() => undefined);
    assert.ok(built, 'the build knows its git revision');
    builtId = built;
    server = await startDevServer({
      port: await freePort(),
      uiPort: await freePort(),
      dbFile: join(workDir, 'temporal.sqlite'),
      searchAttributes: verificationSearchAttributes,
      extraArgs: ['--headless'],
    });
    sandbox = await startSandbox();
    control = new SandboxControlClient(sandbox.url);
    client = new Client({
      connection: await Connection.connect({ address: server.address }),
      dataConverter: createDataConverter(parseKeyRing(codecKeys, 'the test key')),
    });
    rollout = await Rollout.connect(
      {
        connectConfig: { connectionOptions: { address: server.address } },
        address: server.address,
        namespace: 'default',
      },
      deploymentName,
    );
  });

  after(async function () {
    await Promise.allSettled(workers.map((child) => stopProcess(child, { graceMs: 10_000 })));
    await Promise.allSettled([rollout?.close(), client?.connection.close(), sandbox?.close()]);
    await server?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  /** `node dist/worker/main.js` with the settings a deploy pipeline sets; buildId undefined: the build's own. */
  async function startWorker(buildId?: string): Promise<{ child: ChildProcess; buildId: string }> {
    const child = spawnNode('dist/worker/main.js', {
      env: {
        PATH: process.env.PATH,
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        TEMPORAL_CODEC_KEYS: codecKeys,
        ...sandboxDwsEnv(sandbox.url, sandbox.clientId),
        WORKER_DEPLOYMENT_NAME: deploymentName,
        ...(buildId ? { WORKER_BUILD_ID: buildId } : {}),
      },
    });
    workers.push(child);
    const line = await waitForLine(child, workerStartedLine, {
      name: `worker ${buildId}`,
      timeoutMs: 60_000,
    });
    return { child, buildId: (JSON.parse(line) as { buildId: string }).buildId };
  }

  /** `npm run rollout -- <args>` as the README has the operator run it; resolves with what it printed. */
  async function rolloutCommand(...args: string[]): Promise<string> {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/rollout.ts', ...args],
      {
        cwd: projectRoot,
        env: {
          PATH: process.env.PATH,
          TEMPORAL_ADDRESS: server.address,
          WORKER_DEPLOYMENT_NAME: deploymentName,
        },
        timeout: 120_000,
      },
    );
    return stdout;
  }

  async function startFlow(): Promise<WorkflowHandle<typeof verifyContactChange>> {
    const customer = await control.addCustomer();
    const handle = await client.workflow.start(verifyContactChange, {
      args: [{ customerId: customer.customerId, change: { email: `${customer.customerId}@example.com` } }],
      taskQueue,
      workflowId: verificationWorkflowId(customer.customerId),
    });
    await waitForStep(handle, 'AWAITING_INPUT');
    return handle;
  }

  async function finish(handle: WorkflowHandle<typeof verifyContactChange>): Promise<void> {
    const customerId = handle.workflowId.slice(verificationWorkflowPrefix.length);
    await handle.signal(submitOtpSignal, { code: await control.latestOtp(customerId) });
    assert.equal((await handle.result()).status, 'MODIFIED');
  }

  /** What the server holds the flow to: its versioning behaviour and the build it is pinned to. */
  async function pinning(handle: WorkflowHandle): Promise<string> {
    const info = (await handle.describe()).raw.workflowExecutionInfo?.versioningInfo;
    assert.equal(
      info?.behavior,
      VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
      `${handle.workflowId} is pinned`,
    );
    return info?.deploymentVersion?.buildId ?? '';
  }

  /** Every build that completed a workflow task of the flow, from its history. */
  async function buildsInHistory(handle: WorkflowHandle): Promise<string[]> {
    const events = (await handle.fetchHistory()).events ?? [];
    const builds = events.flatMap((e) => {
      const completed = e.workflowTaskCompletedEventAttributes;
      return completed ? [completed.deploymentVersion?.buildId ?? 'unversioned'] : [];
    });
    return [...new Set(builds)];
  }

  it('keeps flows on the build they started on, starts new ones on the current build, and rolls back', async function () {
    // Build A: the id `npm run build` wrote (package version + git revision), not set by hand.
    const a = await startWorker();
    assert.equal(a.buildId, builtId);
    const buildB = `${builtId}-b`;
    await rollout.promote(a.buildId, wait);
    const onA = await startFlow();
    assert.equal(await pinning(onA), a.buildId);

    // Build B beside A, made current: A's flow stays pinned to A, a new flow starts on B.
    const b = await startWorker(buildB);
    assert.equal(b.buildId, buildB);
    const promoted = await rolloutCommand('promote', buildB);
    assert.ok(promoted.includes(`roll back with: npm run rollout -- promote ${a.buildId}`), promoted);
    const onB = await startFlow();
    assert.equal(await pinning(onB), buildB);
    assert.equal(await pinning(onA), a.buildId);
    const draining = await rollout.status();
    assert.equal(draining.current, buildB);
    assert.equal(draining.versions.find((v) => v.buildId === a.buildId)?.status, 'DRAINING');

    // A's flow gets its code and finishes on A, every workflow task of it: B never touched it.
    await finish(onA);
    assert.deepEqual(await buildsInHistory(onA), [a.buildId]);

    // A drains and stops; B's flow is unaffected.
    assert.match(await rolloutCommand('drain', a.buildId), /is drained; its workers can stop/);
    await stopProcess(a.child, { graceMs: 20_000 });
    await finish(onB);
    assert.deepEqual(await buildsInHistory(onB), [buildB]);

    // Roll back: A again beside B, made current; new flows run on A, a flow open on B stays on B.
    const stillOnB = await startFlow();
    await startWorker(a.buildId);
    assert.equal(await rollout.promote(a.buildId, wait), buildB);
    const afterRollback = await startFlow();
    assert.equal(await pinning(afterRollback), a.buildId);
    await finish(stillOnB);
    await finish(afterRollback);
    assert.deepEqual(await buildsInHistory(stillOnB), [buildB]);
    assert.deepEqual(await buildsInHistory(afterRollback), [a.buildId]);
    assert.equal((await rollout.status()).current, a.buildId);
  });
});
