/**
 * The users of a live-traffic run: each goes through the whole HTTP journey as the app would, through the
 * load balancer: start (answered once the code is on its way), the code read from the sandbox outbox (the
 * user's phone), the code posted with its Idempotency-Key until a verdict, then the outcome. A 503 (and a
 * 502/504 from the balancer) is what the app is told to retry: after Retry-After, with the same key, so a
 * retried start attaches to its run and a retried code costs no second attempt. Anything else is an error.
 */
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import got, { type Got } from 'got';
import type { SandboxControlClient } from '../sandbox/control-client.js';

export type JourneyStep = 'start' | 'verdict' | 'outcome';
export const journeySteps: readonly JourneyStep[] = ['start', 'verdict', 'outcome'];

/** One HTTP answer as the user saw it. */
export interface Answer {
  step: JourneyStep;
  status: number;
  ms: number;
  at: number;
  /** a 5xx's `error` and `reason` (TEMPORAL_UNAVAILABLE/NO_ANSWER_IN_TIME), or the balancer's status */
  why?: string;
}

export interface Journey {
  customerId: string;
  phase: string;
  /** each step as the user felt it, retries included, in ms */
  stepsMs: Partial<Record<JourneyStep, number>>;
  answers: Answer[];
  /** per step, from its first retried answer (5xx) until the answer that let the user go on */
  retriedForMs: Partial<Record<JourneyStep, number>>;
  outcome?: string;
  /** why the journey did not end MODIFIED: an answer the app does not retry, or the deadline */
  error?: string;
}

export interface LiveUsersOptions {
  url: string;
  token: string;
  sandbox: SandboxControlClient;
  /** a journey still not done after this is given up (and counted lost) */
  journeyDeadlineMs: number;
  /** the outcome's long poll: GET /verifications/:id/outcome?waitSeconds= */
  outcomeWaitSeconds: number;
  /** the longest Retry-After a user honours before trying again */
  maxRetryAfterMs: number;
}

/** What a user retries: the service's outage answer, and the balancer's when no replica could answer. */
const retried = new Set([502, 503, 504]);

export class LiveUsers {
  readonly http: Got;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(private readonly options: LiveUsersOptions) {
    this.http = got.extend({
      prefixUrl: options.url,
      headers: { authorization: `Bearer ${options.token}` },
      agent: { http: this.agent },
      retry: { limit: 0 },
      throwHttpErrors: false,
      timeout: { request: 60_000 },
    });
  }

  close(): void {
    this.agent.destroy();
  }

  /** One user's whole journey for a fresh customer; never throws, the journey says what happened. */
  async journey(phase: string): Promise<Journey> {
    const { sandbox } = this.options;
    const customer = await sandbox.addCustomer();
    const journey: Journey = {
      customerId: customer.customerId,
      phase,
      stepsMs: {},
      answers: [],
      retriedForMs: {},
    };
    const deadline = Date.now() + this.options.journeyDeadlineMs;
    const id = customer.customerId;
    // The end user the backend names, so the per-user limits count this user, not the balancer's address.
    const headers = { 'x-end-user-id': `user-${id}` };
    try {
      const started = await this.step(journey, 'start', deadline, () =>
        this.http.post('verifications', {
          json: { customerId: id, change: { email: `${id}@example.com` } },
          headers: { ...headers, 'idempotency-key': `start-${id}` },
        }),
      );
      const { verificationId } = JSON.parse(started) as { verificationId: string };
      const code = await this.code(id, deadline);
      const verdict = await this.step(journey, 'verdict', deadline, () =>
        this.http.post(`verifications/${verificationId}/otp`, {
          json: { customerId: id, code },
          headers: { ...headers, 'idempotency-key': `otp-${id}` },
        }),
      );
      if (JSON.parse(verdict).verdict !== 'ACCEPTED') throw new Error(`verdict ${verdict}`);
      const outcome = await this.step(journey, 'outcome', deadline, () =>
        this.http.get(`verifications/${verificationId}/outcome`, {
          searchParams: { waitSeconds: this.options.outcomeWaitSeconds },
          headers,
        }),
      );
      journey.outcome = (JSON.parse(outcome) as { status: string }).status;
      if (journey.outcome !== 'MODIFIED') journey.error = `outcome ${journey.outcome}`;
    } catch (err) {
      journey.error = (err as Error).message;
    }
    return journey;
  }

  /**
   * Asks until a final answer: 5xx retried after Retry-After, 202 (the outcome not yet there) asked
   * again at once. Answers the body of the 2xx that ended the step.
   */
  private async step(
    journey: Journey,
    step: JourneyStep,
    deadline: number,
    ask: () => Promise<{ statusCode: number; body: string; headers: Record<string, unknown> }>,
  ): Promise<string> {
    const began = Date.now();
    let firstRetried: number | undefined;
    for (;;) {
      const sent = Date.now();
      let response;
      try {
        response = await ask();
      } catch (err) {
        throw new Error(`${step}: no answer (${(err as Error).message})`, { cause: err });
      }
      const now = Date.now();
      journey.answers.push({
        step,
        status: response.statusCode,
        ms: now - sent,
        at: now,
        ...(response.statusCode >= 500 ? { why: whyUnavailable(response.statusCode, response.body) } : {}),
      });
      if (response.statusCode === 200 || response.statusCode === 201) {
        journey.stepsMs[step] = now - began;
        if (firstRetried !== undefined) journey.retriedForMs[step] = now - firstRetried;
        return response.body;
      }
      if (now > deadline) throw new Error(`${step}: still ${response.statusCode} at the journey's deadline`);
      if (response.statusCode === 202) continue;
      if (!retried.has(response.statusCode)) {
        throw new Error(`${step}: ${response.statusCode} ${response.body.slice(0, 200)}`);
      }
      firstRetried ??= sent;
      const retryAfter = Number(response.headers['retry-after'] ?? 1) * 1000;
      await sleep(Math.min(Number.isFinite(retryAfter) ? retryAfter : 1000, this.options.maxRetryAfterMs));
    }
  }

  /** The code on the user's phone: the start answered once it was on its way, so it is there or nearly. */
  private async code(customerId: string, deadline: number): Promise<string> {
    for (;;) {
      const [message] = await this.options.sandbox.outbox({ customerId });
      if (message) return message.code;
      if (Date.now() > deadline) throw new Error('no code reached the outbox');
      await sleep(100);
    }
  }
}

function whyUnavailable(status: number, body: string): string {
  try {
    const { error, reason } = JSON.parse(body) as { error?: string; reason?: string };
    return [error, reason].filter(Boolean).join('/') || String(status);
  } catch {
    return `${status} from the balancer`;
  }
}
