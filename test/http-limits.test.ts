/**
 * The limits at real traffic, through the HTTP service on a loopback port with its default limits: a
 * backend relaying many users is not throttled as if it were one user, and guessing one verification's
 * code stays capped at maxVerifyAttempts wrong codes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import got, { type Got } from 'got';
import { loadHttpConfig } from '../http/config.js';
import { startHttpService, type RunningHttpService } from '../http/server.js';
import { VerificationClient } from '@dws-verify/client';
import type { SandboxControlClient } from '../sandbox/control-client.js';
import { verificationWorkflowId } from '../workflows/ids.js';
import { defaultPolicy } from '../workflows/types.js';
import { withVerificationWorker, verificationStack } from './helpers/verification-env.js';

const token = `limits-${randomBytes(12).toString('hex')}`;

/** Runs `task` over `items` with at most `width` in flight. */
async function inParallel<T, R>(
  items: readonly T[],
  width: number,
  task: (item: T, index: number) => Promise<R>,
) {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index]!, index);
      }
    }),
  );
  return results;
}

function wrongCodeFor(code: string): string {
  return code.replace(/\d$/, (digit) => String((Number(digit) + 1) % 10));
}

describe('HTTP limits at real traffic', function () {
  this.timeout(240_000);
  const stack = verificationStack();

  async function withService<T>(fn: (http: Got, control: SandboxControlClient) => Promise<T>): Promise<T> {
    return withVerificationWorker(stack.env, stack.sandbox, async ({ taskQueue, control }) => {
      const service: RunningHttpService = await startHttpService({
        config: loadHttpConfig({ HTTP_PORT: '0', HTTP_AUTH_TOKENS: token }),
        verifications: new VerificationClient(stack.env.client, taskQueue),
        logger: false,
      });
      try {
        const http = got.extend({
          prefixUrl: service.url,
          headers: { authorization: `Bearer ${token}` },
          retry: { limit: 0 },
          throwHttpErrors: false,
        });
        return await fn(http, control);
      } finally {
        await service.close();
      }
    });
  }

  /** Starts one flow per new customer and resolves once each one's code has been sent. */
  async function flowsWithCodes(http: Got, control: SandboxControlClient, count: number) {
    const customers = await inParallel(Array.from({ length: count }), 10, () => control.addCustomer());
    await inParallel(customers, 10, async ({ customerId }) => {
      const started = await http.post('verifications', {
        json: { customerId, change: { email: `limits.${customerId}@example.com` } },
      });
      assert.equal(started.statusCode, 201, started.body);
    });
    const codes = new Map<string, string>();
    for (let polls = 0; codes.size < count; polls++) {
      assert.ok(polls < 600, `only ${codes.size} of ${count} codes were sent`);
      for (const message of await control.outbox()) codes.set(message.customerId, message.code);
      for (const id of [...codes.keys()]) if (!customers.some((c) => c.customerId === id)) codes.delete(id);
      if (codes.size < count) await new Promise((r) => setTimeout(r, 200));
    }
    return codes;
  }

  it('lets one backend submit 200 codes for 200 customers within a minute, none refused by a limit', async function () {
    await withService(async (http, control) => {
      const codes = await flowsWithCodes(http, control, 200);
      const startedAt = Date.now();
      // Half name their end user, half do not: neither kind is throttled as one caller. A 503 (a loaded
      // machine past the bound) is not a limit: the app retries it with the same key, as documented.
      let unavailable = 0;
      const answers = await inParallel([...codes], 10, async ([customerId, code], index) => {
        for (let attempt = 1; ; attempt++) {
          const response = await http.post(`verifications/${verificationWorkflowId(customerId)}/otp`, {
            json: { customerId, code },
            headers: {
              'idempotency-key': `limits-${customerId}`,
              ...(index % 2 === 0 ? { 'x-end-user-id': `user-${customerId}` } : {}),
            },
          });
          if (response.statusCode !== 503 || attempt === 10) {
            return { customerId, status: response.statusCode, body: response.body };
          }
          unavailable += 1;
        }
      });
      const seconds = (Date.now() - startedAt) / 1000;
      const refused = answers.filter((answer) => answer.status !== 200);
      assert.deepEqual(refused, [], `answered in ${seconds} s`);
      for (const { body } of answers) assert.deepEqual(JSON.parse(body), { verdict: 'ACCEPTED' });
      // Retried or not, each code was checked once.
      const ours = new Set(
        (await control.outbox()).filter((m) => codes.has(m.customerId)).map((m) => m.authenticationId),
      );
      const verifies = (await control.requests({ api: 'verifyAndResume' })).filter((call) =>
        ours.has(call.authenticationId ?? ''),
      );
      assert.equal(verifies.length, codes.size, 'a code was verified more than once');
      console.log(
        `      200 codes answered ACCEPTED in ${seconds.toFixed(1)} s (${unavailable} answers 503 on the way, retried)`,
      );
    });
  });

  it('refuses a 20-guess burst on one verification from the cap on: maxVerifyAttempts wrong codes verified, no more', async function () {
    await withService(async (http, control) => {
      const [[customerId, code]] = [...(await flowsWithCodes(http, control, 1))] as [[string, string]];
      const url = `verifications/${verificationWorkflowId(customerId)}/otp`;
      const statuses: number[] = [];
      const verdicts: string[] = [];
      for (let guess = 1; guess <= 20; guess++) {
        const response = await http.post(url, {
          json: { customerId, code: wrongCodeFor(code) },
          headers: { 'idempotency-key': `guess-${guess}` },
        });
        statuses.push(response.statusCode);
        if (response.statusCode === 200)
          verdicts.push((JSON.parse(response.body) as { verdict: string }).verdict);
      }
      const cap = defaultPolicy.maxVerifyAttempts;
      assert.deepEqual(verdicts, [...Array<string>(cap - 1).fill('INCORRECT'), 'ATTEMPTS_EXCEEDED']);
      assert.deepEqual(statuses.slice(0, cap), Array<number>(cap).fill(200));
      for (const [index, status] of statuses.slice(cap).entries()) {
        assert.ok(status === 409 || status === 429, `guess ${cap + index + 1} answered ${status}`);
      }
      const [message] = await control.outbox({ customerId });
      const verified = (await control.requests({ api: 'verifyAndResume' })).filter(
        (call) => call.authenticationId === message?.authenticationId,
      );
      assert.equal(verified.length, cap, 'the provider checked more guesses than the cap');
    });
  });
});
