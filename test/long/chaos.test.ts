/**
 * Nothing is lost and nothing is applied twice when everything breaks at once: 50 verifications run
 * against a provider that drops, garbles, delays or loses ~30% of its answers (some after it has acted),
 * while the worker is killed with SIGKILL twice and the Temporal server is restarted once on its database.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { createDataConverter } from '../../codec/data-converter.js';
import { formatKeyEntry, parseKeyRing } from '../../codec/keyring.js';
import { VerificationClient } from '@dws-verify/client';
import type { SandboxControlClient } from '../../sandbox/control-client.js';
import type { RequestLogEntry } from '../../sandbox/dws/request-log.js';
import { mulberry32 } from '../../sandbox/prng.js';
import { uniqueName } from '../helpers/temporal.js';
import {
  chaosServer,
  sandboxWorkerEnv,
  WorkerProcess,
  type ChaosServer,
} from '../helpers/chaos-processes.js';
import {
  addChaosCustomers,
  faultTally,
  startChaosProvider,
  type ChaosCustomer,
  type ChaosProvider,
} from '../helpers/chaos-provider.js';
import { between, retrying, SimulatedUsers } from '../helpers/chaos-users.js';
import {
  completedAttempt,
  startedWork,
  workflowTaskTimedOutAfter,
  type RunningWork,
} from '../helpers/chaos-evidence.js';

// CHAOS_SEED replays another run; the default keeps CI on one known sequence.
const SEED = Number(process.env.CHAOS_SEED ?? 20_250_611);
const FLOWS = 50;

type ChaosEvent = 'crash the worker' | 'restart the server';

/** The two crashes and the restart in a seeded order, each after a seeded pause. */
function chaosPlan(seed: number): Array<{ event: ChaosEvent; afterMs: number }> {
  const prng = mulberry32(seed);
  const events: ChaosEvent[] = ['crash the worker', 'crash the worker', 'restart the server'];
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(prng.next() * (i + 1));
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  return events.map((event) => ({ event, afterMs: between(prng, 3_000, 9_000) }));
}

describe('chaos: provider faults, worker crashes and a server restart', function () {
  this.timeout(240_000);

  const workDir = mkdtempSync(join(tmpdir(), 'dws-chaos-'));
  const codecKeys = formatKeyEntry('chaos-1', randomBytes(32));
  const taskQueue = uniqueName('chaos');
  let passed = false;
  let server: ChaosServer;
  let provider: ChaosProvider;
  let worker: WorkerProcess;
  let connection: Connection | undefined;
  let stopRotation = () => {};

  before(async function () {
    this.timeout(120_000);
    server = await chaosServer(join(workDir, 'temporal.sqlite'));
    await server.start();
    provider = await startChaosProvider(SEED);
    worker = new WorkerProcess({
      logFile: join(workDir, 'worker.log'),
      env: sandboxWorkerEnv({
        temporalAddress: server.address,
        taskQueue,
        codecKeys,
        dwsUrl: provider.url,
        dwsClientId: provider.clientId,
      }),
    });
    await worker.start();
    connection = await Connection.connect({ address: server.address });
  });

  after(async function () {
    this.timeout(60_000);
    stopRotation();
    await Promise.allSettled([worker?.close(), connection?.close()]);
    await Promise.allSettled([server?.stop(), provider?.close()]);
    if (passed && !process.env.CHAOS_KEEP) rmSync(workDir, { recursive: true, force: true });
    else console.error(`chaos run kept for inspection in ${workDir} (worker.log)`);
  });

  it('ends all 50 flows MODIFIED with each change applied exactly once', async function () {
    const prng = mulberry32(SEED);
    const verifications = new VerificationClient(
      new Client({
        connection: connection!,
        namespace: 'default',
        dataConverter: createDataConverter(parseKeyRing(codecKeys, 'the chaos key')),
      }),
      taskQueue,
    );
    const customers = await addChaosCustomers(provider.control, prng, FLOWS, randomBytes(4).toString('hex'));
    const users = new SimulatedUsers({
      verifications,
      sandbox: provider.control,
      prng,
      thinkMs: [500, 6_000],
    });
    stopRotation = provider.rotatePhases(2_000);

    const openAtEvent: Array<{ event: ChaosEvent; open: number }> = [];
    const crashes: Array<{ callInFlight: boolean; at: Date; running: RunningWork }> = [];
    // The chaos and the starts run beside the users' loop; a failure in either must end the run at once.
    const failures: unknown[] = [];
    const chaos = (async () => {
      for (const { event, afterMs } of chaosPlan(SEED)) {
        await sleep(afterMs);
        openAtEvent.push({ event, open: users.open.length });
        if (event === 'restart the server') {
          await server.restart();
          continue;
        }
        // Killed in the middle of a provider call, so an activity is lost with the process.
        const callInFlight = await provider.callInFlight(150, 15_000);
        const at = new Date();
        await worker.crash();
        const workflowIds = users.open.map((id) => verifications.verificationId(id));
        crashes.push({
          callInFlight,
          at,
          running: await retrying(() => startedWork(verifications.client, workflowIds)),
        });
        await sleep(between(prng, 0, 2_000));
        await worker.start();
      }
    })().catch((err: unknown) => void failures.push(err));
    const starting = users.startAll(customers, [100, 600]).catch((err: unknown) => void failures.push(err));
    const closed = await users
      .answerUntilClosed(FLOWS, Date.now() + 200_000, () => {
        if (failures.length > 0) throw failures[0];
        if (worker.unexpectedExit) throw new Error(worker.unexpectedExit);
      })
      .catch((err: Error) => {
        // A flow held open by a replay that took another path says so in the worker's log, not in its state.
        const replays = worker.logLines(/TMPRL1100/).map((line) => line.slice(0, 400));
        if (replays.length > 0) err.message += `\nnondeterminism in the worker log:\n${replays.join('\n')}`;
        throw err;
      });
    await Promise.all([starting, chaos]);
    if (failures.length > 0) throw failures[0];
    stopRotation();

    const replays = provider.calls.filter((call) => call.replayed).length;
    console.log(
      `      chaos: ${provider.calls.length} provider calls (${replays} answered from the idempotency store), ` +
        `faults ${JSON.stringify(Object.fromEntries(faultTally(provider.calls)))}; ` +
        `open flows at ${openAtEvent.map((e) => `${e.event}: ${e.open}`).join(', ')}; ` +
        `activities and workflow tasks running at the crashes: ${crashes
          .map((c) => `${c.running.activities.length} + ${c.running.workflowTasks.length}`)
          .join(', ')}`,
    );
    // The chaos really happened, while flows were open, and the provider really lost answers of every kind.
    assert.equal(worker.kills, 2);
    assert.equal(openAtEvent.length, 3);
    for (const { event, open } of openAtEvent) assert.ok(open > 0, `no flow was open when we did: ${event}`);
    const tally = faultTally(provider.calls);
    for (const kind of ['unknown', 'trafficLimit', 'serverError', 'drop']) {
      for (const phase of ['before', 'after']) {
        assert.ok(
          (tally.get(`${kind}/${phase}`) ?? 0) > 0,
          `no ${kind} fault in phase ${phase}: ${[...tally]}`,
        );
      }
    }
    assert.ok(
      provider.calls.some((call) => call.replayed),
      'no retried call met the answer kept for its id',
    );
    // A crash loses an activity (done again at a later attempt) or a workflow task with the local
    // activities in it (timed out on the server, then done again by the next worker).
    for (const [index, { callInFlight, at, running }] of crashes.entries()) {
      assert.ok(callInFlight, `crash ${index + 1} found no provider call in flight`);
      const redone = [];
      for (const activity of running.activities) {
        const attempt = await retrying(() =>
          completedAttempt(verifications.client, activity.workflowId, activity.activityId),
        );
        if (attempt !== undefined && attempt > activity.attempt) redone.push(activity.activityType);
      }
      for (const workflowId of running.workflowTasks) {
        if (await retrying(() => workflowTaskTimedOutAfter(verifications.client, workflowId, at)))
          redone.push(`workflow task of ${workflowId}`);
      }
      assert.ok(redone.length > 0, `crash ${index + 1} lost no work in progress: ${JSON.stringify(running)}`);
    }
    // Every replay after the crashes took the path its run took.
    assert.deepEqual(worker.logLines(/TMPRL1100/), [], 'a nondeterminism error in the worker log');

    // Every flow closed completed and MODIFIED.
    assert.deepEqual([...new Set(closed.values())], ['COMPLETED']);
    const outcomes = await users.outcomes(customers);
    const notModified = [...outcomes].filter(([, outcome]) => outcome.status !== 'MODIFIED');
    assert.deepEqual(
      notModified.map(([id, o]) => `${id}: ${o.status} ${'resultCode' in o ? o.resultCode : ''}`),
      [],
    );

    // The provider applied each change exactly once and never saw one id reused for other content.
    const ledger = await provider.control.ledgers();
    for (const { customerId, risky } of customers) {
      const entries = ledger[customerId]?.entries ?? [];
      assert.equal(entries.length, 1, `${customerId} was changed ${entries.length} times`);
      assert.equal(entries[0]!.appliedBy, risky ? 'verifyAndResume' : 'modifyCustomer');
    }
    const inconsistent = (calls: readonly RequestLogEntry[]) =>
      calls.filter((call) => call.resultCode === 'REPEAT_REQ_INCONSISTENT');
    assert.deepEqual(inconsistent(provider.calls), []);
    assert.deepEqual(inconsistent(await provider.control.requests()), []);

    // And each customer now holds exactly what was asked for.
    for (const customer of customers) await assertChanged(provider.control, customer);
    passed = true;
  });
});

async function assertChanged(
  sandbox: SandboxControlClient,
  { customerId, change }: ChaosCustomer,
): Promise<void> {
  const now = await sandbox.customer(customerId);
  if (change.email) assert.equal(now.email, change.email, `${customerId} email`);
  if (change.mobileNoInfo) assert.deepEqual(now.mobileNoInfo, change.mobileNoInfo, `${customerId} phone`);
}
