import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildHttpApp } from '../http/app.js';
import { VerificationClient } from '../client/index.js';
import { verificationWorkflowId } from '../workflows/ids.js';
import { withVerificationWorker, verificationStack } from './helpers/verification-env.js';

const token = `failures-${randomBytes(12).toString('hex')}`;
const auth = { authorization: `Bearer ${token}` };

describe('typed failures: every Temporal error a caller can meet is a documented answer', function () {
  const stack = verificationStack();

  async function withApp<T>(verifications: VerificationClient, fn: (app: FastifyInstance) => Promise<T>) {
    const app = await buildHttpApp({ verifications, authTokens: [token] });
    try {
      return await fn(app);
    } finally {
      await app.close();
    }
  }

  function post(app: FastifyInstance, url: string, payload: object) {
    return app.inject({ method: 'POST', url, headers: auth, payload });
  }

  it('answers starts racing cancels on one customer 201 or 409 ALREADY_RUNNING, never 5xx', async function () {
    this.timeout(180_000);
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, taskQueue }) => {
      const customer = await control.addCustomer();
      const verificationId = verificationWorkflowId(customer.customerId);
      const answers: string[] = [];
      await withApp(new VerificationClient(stack.env.client, taskQueue), async (app) => {
        for (let loop = 0; loop < 30; loop++) {
          const start = await post(app, '/verifications', {
            customerId: customer.customerId,
            change: { email: `race${loop}@example.com` },
          });
          const cancel = await post(app, `/verifications/${verificationId}/cancel`, {
            customerId: customer.customerId,
          });
          answers.push(`start ${start.statusCode} ${start.json<{ error?: string }>().error ?? ''}`.trim());
          answers.push(`cancel ${cancel.statusCode} ${cancel.json<{ error?: string }>().error ?? ''}`.trim());
        }
      });
      const undocumented = answers.filter(
        (answer) =>
          ![
            'start 201',
            'start 409 ALREADY_RUNNING',
            'cancel 202',
            'cancel 409 VERIFICATION_FINISHED',
          ].includes(answer),
      );
      assert.deepEqual(undocumented, [], answers.join('\n'));
      assert.ok(answers.filter((answer) => answer === 'start 201').length >= 15, answers.join('\n'));
    });
  });
});
