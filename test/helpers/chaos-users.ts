/**
 * The people and backend of a chaos run: a backend that starts verifications, and users who read their
 * code from the sandbox outbox (their phone) and type it once their flow asks for it. Everything here
 * talks to a Temporal server that may be restarting, so each call is retried in a bounded loop.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { VerificationError, VerificationUnavailableError, type VerificationClient } from '@dws-verify/client';
import type { SandboxControlClient } from '../../sandbox/control-client.js';
import type { Prng } from '../../sandbox/prng.js';
import { verificationStepKey } from '../../workflows/search-attributes.js';
import type { VerificationOutcome } from '../../workflows/types.js';
import type { ChaosCustomer } from './chaos-provider.js';

/**
 * Retries `act` while Temporal is unreachable (a restarting server answers UNAVAILABLE or drops the call);
 * the client library's own errors are answers, not outages, and are thrown at once, except the one that
 * says the service is unavailable.
 */
export async function retrying<T>(act: () => Promise<T>, attempts = 60, delayMs = 500): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await act();
    } catch (err) {
      const answer = err instanceof VerificationError && !(err instanceof VerificationUnavailableError);
      if (answer || attempt >= attempts) throw err;
      await sleep(delayMs);
    }
  }
}

/** A whole number of milliseconds in [min, max), from the run's seeded generator. */
export function between(prng: Prng, min: number, max: number): number {
  return Math.floor(min + prng.next() * (max - min));
}

export interface SimulatedUsersOptions {
  verifications: VerificationClient;
  sandbox: SandboxControlClient;
  prng: Prng;
  /** how long a user takes to type a code once the flow asks for it, [min, max) ms */
  thinkMs: [number, number];
}

export class SimulatedUsers {
  private readonly started = new Set<string>();
  private readonly closed = new Map<string, string>();
  private readonly lastSeen = new Map<string, string>();
  /** outbox messages already typed in, by authenticationId and code */
  private readonly typed = new Set<string>();
  private readonly typeAt = new Map<string, number>();
  codesTyped = 0;

  constructor(private readonly options: SimulatedUsersOptions) {}

  /** Customers whose flow was started and is not known to be closed. */
  get open(): string[] {
    return [...this.started].filter((id) => !this.closed.has(id));
  }

  /** Starts one verification per customer, `gapMs` apart; a start retried after an outage attaches to its run. */
  async startAll(customers: readonly ChaosCustomer[], gapMs: [number, number]): Promise<void> {
    const { verifications, prng } = this.options;
    for (const customer of customers) {
      // 'started': these users watch the state themselves, and a start that waited for the code would
      // hold the next user's start behind a crashed worker.
      const started = await retrying(() =>
        verifications.start(
          {
            customerId: customer.customerId,
            change: customer.change,
            requestKey: `start-${customer.customerId}`,
          },
          { answer: 'started' },
        ),
      );
      if (started.runId === '') throw new Error(`no run id for ${customer.customerId}`);
      this.started.add(customer.customerId);
      await sleep(between(prng, gapMs[0], gapMs[1]));
    }
  }

  /**
   * Watches every started flow until all `total` have closed: a flow at AWAITING_INPUT gets the newest code
   * of its customer's outbox, once per code, after the user's thinking time. `check` is called every round
   * so a broken run (a worker that died on its own) fails at once instead of at the deadline.
   */
  async answerUntilClosed(total: number, deadline: number, check: () => void): Promise<Map<string, string>> {
    while (this.closed.size < total) {
      check();
      if (Date.now() > deadline) {
        const open = [...this.started].filter((id) => !this.closed.has(id));
        throw new Error(
          `${total - this.closed.size} of ${total} flows still open at the deadline (${this.started.size} started): ${open
            .map((id) => `${id} ${this.lastSeen.get(id) ?? '?'}`)
            .join(', ')}`,
        );
      }
      const open = [...this.started].filter((id) => !this.closed.has(id));
      await Promise.all(
        open.map((id) =>
          this.visit(id).catch((err: Error) => this.lastSeen.set(id, `error ${err.name}: ${err.message}`)),
        ),
      );
      await sleep(400);
    }
    return this.closed;
  }

  /** Each outcome, once every flow has closed. */
  async outcomes(customers: readonly ChaosCustomer[]): Promise<Map<string, VerificationOutcome>> {
    const outcomes = new Map<string, VerificationOutcome>();
    for (const { customerId } of customers) {
      outcomes.set(customerId, await retrying(() => this.options.verifications.result(customerId)));
    }
    return outcomes;
  }

  private async visit(customerId: string): Promise<void> {
    const { verifications } = this.options;
    // describe, not the state query: a query needs a worker, and the worker is sometimes dead on purpose.
    const description = await verifications.client.workflow
      .getHandle(verifications.verificationId(customerId))
      .describe();
    if (description.status.name !== 'RUNNING') {
      this.closed.set(customerId, description.status.name);
      return;
    }
    const step = description.typedSearchAttributes.get(verificationStepKey) ?? '?';
    this.lastSeen.set(customerId, step);
    if (step !== 'AWAITING_INPUT') return;

    const [message] = await this.options.sandbox.outbox({ customerId });
    if (!message) return;
    const key = `${message.authenticationId}:${message.code}`;
    if (this.typed.has(key)) return;
    const due = this.typeAt.get(key) ?? Date.now() + between(this.options.prng, ...this.options.thinkMs);
    this.typeAt.set(key, due);
    if (Date.now() < due) return;
    await verifications.submitOtp(customerId, message.code);
    this.typed.add(key);
    this.codesTyped += 1;
  }
}
