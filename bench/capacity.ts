/**
 * Open-flow capacity: N verifications started and left waiting for their code (what a burst of sign-ups
 * or a slow SMS gateway leaves behind), their memory measured while they wait, then every code sent at
 * once and the time until the last outcome is in.
 */
import { VerificationClient } from '@dws-verify/client';
import { policyBounds } from '../workflows/input-contract.js';
import { defaultPolicy } from '../workflows/types.js';
import type { SandboxControlClient } from '../sandbox/control-client.js';
import { createCustomer, newEmail } from './flows.js';
import { inPool } from './load.js';
import { ForeignLoad } from './machine.js';
import type { OtpMailbox } from './otp-mailbox.js';
import { round, UsageSampler, type Measured, type ProcessUsage } from './processes.js';
import { summarise, type LatencySummary } from './stats.js';

export interface RssSteps {
  idle: number;
  halfWaiting: number;
  allWaiting: number;
}

export interface CapacityResult {
  flows: number;
  /** from the first start to the last code in the outbox: every flow waiting */
  fillSeconds: number;
  fillFlowsPerSecond: number;
  /** RSS before the first start, with half the flows waiting, with all of them waiting */
  workerRssMb: RssSteps;
  serverRssMb: RssSteps;
  /** the cluster's PostgreSQL (proportional set size of all its processes) */
  databaseMb?: RssSteps;
  /**
   * RSS growth over the second half of the fill, per flow: the cost of one more waiting flow. The heap is
   * not collected first, so it is an upper bound; a worker whose cache is full shows ~0 here.
   */
  workerKbPerWaitingFlow: number;
  serverKbPerWaitingFlow: number;
  /** from the first code sent to the last code sent */
  burstSendSeconds: number;
  /** from the first code sent to the last outcome received */
  drainSeconds: number;
  drainFlowsPerSecond: number;
  completed: number;
  failed: number;
  failures: string[];
  /** per flow, from its code being sent to its outcome */
  codeToOutcomeMs: LatencySummary;
  usage: Record<string, ProcessUsage>;
  otherLoadCores: number;
}

export interface CapacityOptions {
  flows: number;
  idPrefix: string;
  verifications: VerificationClient;
  mailbox: OtpMailbox;
  sandboxControl: SandboxControlClient;
  serverPid: number;
  /** the cluster's PostgreSQL postmaster, measured with its backends */
  databasePid?: number;
  sandboxPid: number;
  workerPid: number;
  log: (line: string) => void;
}

/**
 * As long as any operator may let a code live (the hard bound, 10 minutes), so that as few codes as
 * possible expire while thousands of others are still being started.
 */
const waitingPolicy = { ...defaultPolicy, otpValiditySeconds: policyBounds.otpValiditySeconds.maximum };

export async function runCapacity(options: CapacityOptions): Promise<CapacityResult> {
  const { flows, mailbox, log } = options;
  // The bench is the operator here: its policy, not a caller's, sets the longer validity.
  const verifications = new VerificationClient(
    options.verifications.client,
    options.verifications.taskQueue,
    {
      answerWithinMs: options.verifications.answerWithinMs,
      policy: waitingPolicy,
    },
  );
  const ids = Array.from({ length: flows }, (_, i) => `${options.idPrefix}-${i}`);
  await inPool(ids, 50, async (id) => void (await createCustomer(options.sandboxControl, id)));

  const pids: Record<string, Measured> = {
    server: options.serverPid,
    ...(options.databasePid !== undefined ? { database: { tree: options.databasePid } } : {}),
    sandbox: options.sandboxPid,
    'worker-1': options.workerPid,
    bench: process.pid,
  };
  const sampler = new UsageSampler(pids);
  const foreign = new ForeignLoad(() => Object.values(pids));
  const workerRssIdleMb = sampler.rssMb('worker-1');
  const serverRssIdleMb = sampler.rssMb('server');
  const databaseIdleMb = sampler.rssMb('database');
  sampler.start();
  foreign.start();

  const failures = new Set<string>();
  let failed = 0;
  const fail = (err: unknown) => {
    failed++;
    if (failures.size < 5) failures.add((err as Error).message.slice(0, 200));
  };

  const codes = new Map<string, string>();
  let fillMs = 0;
  // Filled in two halves, memory read after each: the growth over the second half, divided by its
  // flows, is the cost of one more waiting flow without the one-off growth of a worker's first flows.
  const half = Math.ceil(flows / 2);
  const fill = async (part: string[]) => {
    const began = performance.now();
    const arrived = Promise.all(
      part.map((id) =>
        mailbox.next(id, Math.max(300_000, flows * 300)).then((code) => void codes.set(id, code), fail),
      ),
    );
    await inPool(part, 100, async (id) => {
      await verifications.start({ customerId: id, change: { email: newEmail(id) } }).catch(fail);
    });
    await arrived;
    fillMs += performance.now() - began;
    // Let the last workflow tasks settle before reading memory.
    await new Promise((r) => setTimeout(r, 3000));
    return {
      worker: sampler.rssMb('worker-1'),
      server: sampler.rssMb('server'),
      database: sampler.rssMb('database'),
    };
  };
  const atHalf = await fill(ids.slice(0, half));
  log(`  capacity: ${codes.size} waiting after ${round(fillMs / 1000, 1)} s`);
  const atFull = await fill(ids.slice(half));
  const fillSeconds = round(fillMs / 1000, 2);
  const waiting = ids.filter((id) => codes.has(id));
  log(`  capacity: ${waiting.length} waiting after ${fillSeconds} s`);
  const secondHalf = Math.max(1, flows - half);

  const burstStart = performance.now();
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let lastOutcome = burstStart;
  let completed = 0;
  let lastSent = burstStart;
  const sending = inPool(waiting, 200, async (id) => {
    try {
      await verifications.submitOtp(id, codes.get(id)!);
      sentAt.set(id, performance.now());
      lastSent = performance.now();
    } catch (err) {
      fail(err);
    }
  });
  // Outcomes are awaited in the order the codes went out, a bounded number at a time.
  const awaiting = inPool(waiting, 1000, async (id) => {
    try {
      const outcome = await verifications.result(id);
      const now = performance.now();
      if (outcome.status !== 'MODIFIED') throw new Error(`a verification ended ${outcome.status}`);
      completed++;
      lastOutcome = Math.max(lastOutcome, now);
      latencies.push(now - (sentAt.get(id) ?? burstStart));
    } catch (err) {
      fail(err);
    }
  });
  await Promise.all([sending, awaiting]);
  const drainSeconds = round((lastOutcome - burstStart) / 1000, 2);
  const otherLoadCores = foreign.stop();
  const usage = sampler.stop();

  return {
    flows,
    fillSeconds,
    fillFlowsPerSecond: round(flows / fillSeconds, 1),
    workerRssMb: { idle: workerRssIdleMb, halfWaiting: atHalf.worker, allWaiting: atFull.worker },
    serverRssMb: { idle: serverRssIdleMb, halfWaiting: atHalf.server, allWaiting: atFull.server },
    ...(options.databasePid !== undefined
      ? { databaseMb: { idle: databaseIdleMb, halfWaiting: atHalf.database, allWaiting: atFull.database } }
      : {}),
    workerKbPerWaitingFlow: round(((atFull.worker - atHalf.worker) * 1024) / secondHalf, 1),
    serverKbPerWaitingFlow: round(((atFull.server - atHalf.server) * 1024) / secondHalf, 1),
    burstSendSeconds: round((lastSent - burstStart) / 1000, 2),
    drainSeconds,
    drainFlowsPerSecond: round(completed / Math.max(drainSeconds, 0.001), 1),
    completed,
    failed,
    failures: [...failures],
    codeToOutcomeMs: summarise(latencies),
    usage,
    otherLoadCores,
  };
}
