/**
 * The operator's view on a cluster: flows found by the project's search attributes in PostgreSQL
 * visibility (not the dev server's SQLite), by step while they wait and by outcome once they end.
 */
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { cancelSignal, submitOtpSignal } from '../../workflows/messages.js';
import { verificationStack, waitForStep, withVerificationWorker } from '../helpers/verification-env.js';

/** Visibility is written after the fact; lists until it shows exactly what is expected, within a bound. */
async function listUntil(client: Client, query: string, expected: string[]): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found: string[] = [];
    for await (const execution of client.workflow.list({ query })) found.push(execution.workflowId);
    found.sort();
    if (JSON.stringify(found) === JSON.stringify([...expected].sort()) || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('operator search on the cluster', function () {
  const stack = verificationStack();

  it('finds the waiting flow by VerificationStep and the ended ones by VerificationOutcome', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start, taskQueue }) => {
      const [waitingCustomer, modifiedCustomer, rejectedCustomer] = await Promise.all([
        control.addCustomer(),
        control.addCustomer(),
        control.addCustomer(),
      ]);
      const waiting = await start({
        customerId: waitingCustomer.customerId,
        change: { email: 'wait@example.com' },
      });
      const modified = await start({
        customerId: modifiedCustomer.customerId,
        change: { email: 'done@example.com' },
      });
      // Within the wire contract (4 to 16 digits), which the workflow checks itself; the sandbox refuses
      // it at the modify step with an F code.
      const rejected = await start({
        customerId: rejectedCustomer.customerId,
        change: { mobileNoInfo: { countryCode: '65', phoneNo: '1234' } },
      });
      for (const [handle, customer] of [
        [modified, modifiedCustomer],
        [rejected, rejectedCustomer],
      ] as const) {
        await waitForStep(handle, 'AWAITING_INPUT');
        await handle.signal(submitOtpSignal, { code: await control.latestOtp(customer.customerId) });
      }
      await waitForStep(waiting, 'AWAITING_INPUT');
      assert.equal((await modified.result()).status, 'MODIFIED');
      assert.equal((await rejected.result()).status, 'REJECTED');

      const client = stack.env.client;
      const inThisTest = `TaskQueue = "${taskQueue}"`;
      assert.deepEqual(
        await listUntil(client, `${inThisTest} AND VerificationStep = "AWAITING_INPUT"`, [
          waiting.workflowId,
        ]),
        [waiting.workflowId],
      );
      assert.deepEqual(
        await listUntil(client, `${inThisTest} AND VerificationOutcome = "REJECTED"`, [rejected.workflowId]),
        [rejected.workflowId],
      );
      assert.deepEqual(
        await listUntil(client, `${inThisTest} AND VerificationOutcome = "MODIFIED"`, [modified.workflowId]),
        [modified.workflowId],
      );
      assert.deepEqual(
        await listUntil(client, `${inThisTest} AND ExecutionStatus = "Running"`, [waiting.workflowId]),
        [waiting.workflowId],
      );

      await waiting.signal(cancelSignal, { reason: 'operator search test done' });
      assert.equal((await waiting.result()).status, 'CANCELLED');
      assert.deepEqual(
        await listUntil(client, `${inThisTest} AND VerificationOutcome = "CANCELLED"`, [waiting.workflowId]),
        [waiting.workflowId],
      );
    });
  });
});
