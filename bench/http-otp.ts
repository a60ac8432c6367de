/**
 * The OTP-entry load through the HTTP service, as the app sends it: N flows are started and left waiting
 * for their code (not measured), then every code is posted to `POST /verifications/:id/otp` over loopback
 * HTTP with its Idempotency-Key, C at a time, with the service's default limits and bound. Measured: the
 * submissions per second sustained over the whole burst, and each submission's latency until its verdict.
 * The service runs in the bench's own process (as one instance of `npm run http` would, minus the
 * process boundary); the worker is a real worker process.
 */
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import got from 'got';
import { loadHttpConfig } from '../http/config.js';
import { startHttpService } from '../http/server.js';
import { VerificationClient } from '@dws-verify/client';
import { verificationWorkflowId } from '../workflows/ids.js';
import { createCustomer, newEmail } from './flows.js';
import type { BenchStack } from './stack.js';
import { summarise, type LatencySummary } from './stats.js';

export interface HttpOtpOptions {
  flows: number;
  concurrency: number;
  idPrefix: string;
  workerEnv: Record<string, string>;
  log: (line: string) => void;
}

export interface HttpOtpResult {
  flows: number;
  concurrency: number;
  /** submissions answered over the time from the first sent to the last answered */
  submissionsPerSecond: number;
  /** from sending a code to its verdict on the socket */
  verdictMs: LatencySummary;
  /** any answer other than 200 ACCEPTED (429 from a limit, 503 past the bound, a wrong verdict) */
  errors: number;
  errorStatuses: Record<string, number>;
}

async function eachAtMost<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

export async function runHttpOtp(stack: BenchStack, options: HttpOtpOptions): Promise<HttpOtpResult> {
  const taskQueue = `${options.idPrefix}-http-otp`;
  await stack.startWorkers('verification', 1, taskQueue, options.workerEnv);
  const verifications = new VerificationClient(stack.client, taskQueue);
  const token = randomBytes(16).toString('hex');
  const service = await startHttpService({
    config: loadHttpConfig({ HTTP_PORT: '0', HTTP_AUTH_TOKENS: token }),
    verifications,
    logger: false,
  });
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  try {
    const http = got.extend({
      prefixUrl: service.url,
      headers: { authorization: `Bearer ${token}` },
      agent: { http: agent },
      retry: { limit: 0 },
      throwHttpErrors: false,
      timeout: { request: 60_000 },
    });
    const customerIds = Array.from({ length: options.flows }, (_, n) => `${options.idPrefix}-h${n}`);
    options.log(`  starting ${options.flows} flows and waiting for their codes`);
    const codes = new Map<string, string>();
    await eachAtMost(customerIds, 20, async (customerId) => {
      await createCustomer(stack.sandboxControl, customerId);
      await verifications.start({ customerId, change: { email: newEmail(customerId) } });
      codes.set(customerId, await stack.mailbox.next(customerId, 120_000));
    });

    options.log(`  posting ${options.flows} codes, ${options.concurrency} at a time`);
    const latencies: number[] = [];
    const errorStatuses: Record<string, number> = {};
    const firstSent = Date.now();
    await eachAtMost(customerIds, options.concurrency, async (customerId) => {
      const sentAt = Date.now();
      const response = await http.post(`verifications/${verificationWorkflowId(customerId)}/otp`, {
        json: { customerId, code: codes.get(customerId) },
        headers: { 'idempotency-key': `bench-${customerId}` },
      });
      latencies.push(Date.now() - sentAt);
      const accepted = response.statusCode === 200 && response.body === '{"verdict":"ACCEPTED"}';
      if (!accepted) {
        const label = response.statusCode === 200 ? response.body : String(response.statusCode);
        errorStatuses[label] = (errorStatuses[label] ?? 0) + 1;
      }
    });
    const seconds = (Date.now() - firstSent) / 1000;
    return {
      flows: options.flows,
      concurrency: options.concurrency,
      submissionsPerSecond: Math.round((options.flows / seconds) * 10) / 10,
      verdictMs: summarise(latencies),
      errors: Object.values(errorStatuses).reduce((sum, n) => sum + n, 0),
      errorStatuses,
    };
  } finally {
    agent.destroy();
    await service.close();
  }
}
