/**
 * The provider side of a chaos run: the DWS sandbox injecting seeded faults of every kind, in both phases
 * ('before': nothing happened; 'after': the call was processed and its answer lost, the case that proves
 * exactly-once), a record of every call it saw, and fresh customers with the change each one asks for.
 */
import type { CustomerUser } from '../../activities/dws/types.js';
import { SandboxControlClient } from '../../sandbox/control-client.js';
import type { RequestLogEntry } from '../../sandbox/dws/request-log.js';
import type { DwsSimulator } from '../../sandbox/dws/simulator.js';
import type { FaultKind, FaultPhase, FaultSettings } from '../../sandbox/faults.js';
import type { Prng } from '../../sandbox/prng.js';
import { buildSandboxApp } from '../../sandbox/server.js';

/** About 30% of provider calls meet a fault: a quarter lose their answer, and a few more are slow. */
export const chaosFaultRates: FaultSettings['rates'] = {
  unknown: 0.07,
  trafficLimit: 0.05,
  serverError: 0.07,
  drop: 0.06,
  slow: 0.08,
};

const rotatedKinds: readonly FaultKind[] = ['unknown', 'trafficLimit', 'serverError', 'drop', 'slow'];

/** Round r puts half the kinds 'before' and half 'after', and the next round swaps them: both phases for every kind. */
export function phasesForRound(round: number): Record<FaultKind, FaultPhase> {
  return Object.fromEntries(
    rotatedKinds.map((kind, index) => [kind, (round + index) % 2 === 0 ? 'before' : 'after']),
  ) as Record<FaultKind, FaultPhase>;
}

export interface ChaosCustomer {
  customerId: string;
  change: CustomerUser;
  /** a phone change the sandbox treats as risky: a second challenge on the new number, applied by verifyAndResume */
  risky: boolean;
}

export interface ChaosProvider {
  url: string;
  clientId: string;
  dws: DwsSimulator;
  control: SandboxControlClient;
  /** every provider call of the run, oldest first (the sandbox's own log keeps only the last 1000) */
  calls: RequestLogEntry[];
  /**
   * Resolves true once a provider call started less than `freshMs` ago is still unanswered (with the fixed
   * latency, it will stay so for a while), or false after `maxWaitMs`: a worker killed then loses an activity.
   */
  callInFlight(freshMs: number, maxWaitMs: number): Promise<boolean>;
  /** starts swapping the fault phases every `everyMs`; returns the function that stops it */
  rotatePhases(everyMs: number): () => void;
  close(): Promise<void>;
}

/** Every provider call takes this long, so a crash has calls in flight to interrupt. */
export const chaosLatencyMs = 400;

export async function startChaosProvider(seed: number): Promise<ChaosProvider> {
  const { app, dws, clientId } = await buildSandboxApp({
    faults: {
      seed,
      rates: chaosFaultRates,
      slowMs: 1500,
      latencyMs: chaosLatencyMs,
      phase: phasesForRound(0),
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the sandbox is not listening on TCP');
  const url = `http://127.0.0.1:${address.port}`;
  const control = new SandboxControlClient(url);

  // Watched on the raw server, under every hook: when each provider call arrived, until its socket answers.
  const inFlight = new Map<object, number>();
  app.server.on('request', (request, response) => {
    if (!request.url?.startsWith('/ams/')) return;
    inFlight.set(response, Date.now());
    response.once('close', () => inFlight.delete(response));
  });

  const calls: RequestLogEntry[] = [];
  // The sandbox's log is a rolling window of 1000 calls and a run makes more; tap it so none is missed.
  const log = dws.requests;
  const add = log.add.bind(log);
  log.add = (entry) => {
    calls.push({ ...entry });
    add(entry);
  };
  return {
    url,
    clientId,
    dws,
    control,
    calls,
    async callInFlight(freshMs, maxWaitMs) {
      const deadline = Date.now() + maxWaitMs;
      while (Date.now() < deadline) {
        const now = Date.now();
        if ([...inFlight.values()].some((since) => now - since < freshMs)) return true;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return false;
    },
    rotatePhases(everyMs) {
      let round = 0;
      const timer = setInterval(() => {
        round += 1;
        // Through the control API, as any test or operator would; a failed switch only delays the next.
        void control.setFaults({ phase: phasesForRound(round) }).catch(() => undefined);
      }, everyMs);
      return () => clearInterval(timer);
    },
    close: () => app.close(),
  };
}

function digits(prng: Prng, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += String(Math.floor(prng.next() * 10));
  return out;
}

/**
 * `count` new sms customers, added through the control API: two in five change their email, two their
 * phone, one its phone to a number ending 0000 (risky by the sandbox's rule).
 */
export async function addChaosCustomers(
  control: SandboxControlClient,
  prng: Prng,
  count: number,
  tag: string,
): Promise<ChaosCustomer[]> {
  const customers: ChaosCustomer[] = [];
  for (let i = 0; i < count; i++) {
    const customerId = `chaos-${tag}-${String(i).padStart(3, '0')}`;
    await control.addCustomer({
      customerId,
      email: `before.${i}@example.com`,
      mobileNoInfo: { countryCode: '65', phoneNo: `8${digits(prng, 7)}` },
    });
    const kind = i % 5;
    const change: CustomerUser =
      kind < 2
        ? { email: `after.${tag}.${i}@example.com` }
        : {
            mobileNoInfo: {
              countryCode: '65',
              phoneNo: kind === 4 ? `9${digits(prng, 3)}0000` : `9${digits(prng, 7)}1`,
            },
          };
    customers.push({ customerId, change, risky: kind === 4 });
  }
  return customers;
}

/** How many calls met each lossy fault, keyed `kind/phase`. */
export function faultTally(calls: readonly RequestLogEntry[]): Map<string, number> {
  const tally = new Map<string, number>();
  for (const call of calls) {
    if (!call.fault) continue;
    const key = `${call.fault.kind}/${call.fault.phase}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
  return tally;
}
