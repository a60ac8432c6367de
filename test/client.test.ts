import assert from 'node:assert/strict';
import {
  InvalidVerificationInputError,
  VerificationAlreadyRunningError,
  VerificationFinishedError,
  VerificationClient,
  VerificationNotFoundError,
} from '@dws-verify/client';
import { waitForStep, withVerificationWorker, verificationStack } from './helpers/verification-env.js';

describe('the client library a backend service imports', function () {
  const stack = verificationStack();

  it('runs a verification: start, state, wrong and right code by update, outcome', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, taskQueue }) => {
      const verifications = new VerificationClient(stack.env.client, taskQueue);
      const customer = await control.addCustomer();
      const started = await verifications.start({
        customerId: customer.customerId,
        change: { email: 'lib@example.com' },
      });
      assert.equal(started.attached, false);
      assert.equal(started.verificationId, `contact-change-${customer.customerId}`);
      await waitForStep(stack.env.client.workflow.getHandle(started.verificationId), 'AWAITING_INPUT');
      const state = await verifications.state(customer.customerId);
      assert.equal(state.step, 'AWAITING_INPUT');
      const code = await control.latestOtp(customer.customerId);
      const wrong = code === '000000' ? '111111' : '000000';
      assert.deepEqual(await verifications.verifyOtp(customer.customerId, wrong), {
        verdict: 'INCORRECT',
        attemptsLeft: 4,
      });
      assert.deepEqual(await verifications.verifyOtp(customer.customerId, code), { verdict: 'ACCEPTED' });
      assert.equal((await verifications.result(customer.customerId)).status, 'MODIFIED');
      await assert.rejects(verifications.submitOtp(customer.customerId, code), VerificationFinishedError);
    });
  });

  it('answers the start with the challenge the code went to, without polling', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, taskQueue }) => {
      const verifications = new VerificationClient(stack.env.client, taskQueue);
      const customer = await control.addCustomer();
      const started = await verifications.start({
        customerId: customer.customerId,
        change: { email: 'answered@example.com' },
      });
      assert.ok('challengeType' in started, JSON.stringify(started));
      assert.equal(started.challengeType, 'sms');
      assert.match(started.maskedDestination ?? '', /\*{3,}/);
      assert.equal(started.attemptsLeft, 5);
      assert.equal(started.round, 1);
      assert.ok(Date.parse(started.expiresAt) > Date.now());
      // The answer means the code is out: the sandbox's outbox has it already.
      const code = await control.latestOtp(customer.customerId);
      assert.deepEqual(await verifications.verifyOtp(customer.customerId, code), { verdict: 'ACCEPTED' });
      assert.equal((await verifications.result(customer.customerId)).status, 'MODIFIED');
    });
  });

  it('answers the start with the outcome when the flow ends before a code is sent', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ taskQueue }) => {
      const verifications = new VerificationClient(stack.env.client, taskQueue);
      // A customer the sandbox does not know: DWS refuses the consult.
      const started = await verifications.start({
        customerId: `unknown${Date.now()}`,
        change: { email: 'nobody@example.com' },
      });
      assert.ok('outcome' in started, JSON.stringify(started));
      assert.equal(started.outcome.status, 'REJECTED');
      assert.equal(started.outcome.status === 'REJECTED' && started.outcome.failedStep, 'CONSULTING');
    });
  });

  it('refuses a second start, attaches when asked, and is idempotent on the request key', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, taskQueue }) => {
      const verifications = new VerificationClient(stack.env.client, taskQueue);
      const customer = await control.addCustomer();
      const input = {
        customerId: customer.customerId,
        change: { email: 'once@example.com' },
        requestKey: 'req-1',
      };
      const first = await verifications.start(input);
      const retried = await verifications.start(input);
      assert.deepEqual(retried, { ...first, attached: true }, 'the same key returns the same run');
      await assert.rejects(
        verifications.start({ ...input, requestKey: 'req-2' }),
        VerificationAlreadyRunningError,
      );
      const attached = await verifications.start({ ...input, requestKey: 'req-3' }, { ifRunning: 'attach' });
      assert.equal(attached.runId, first.runId);
      await verifications.cancel(customer.customerId, 'test over');
      assert.equal((await verifications.result(customer.customerId)).status, 'CANCELLED');
    });
  });

  it('names the field of bad input and the verification that does not exist', async function () {
    const verifications = new VerificationClient(stack.env.client, 'unused');
    await assert.rejects(
      verifications.start({
        customerId: '2188',
        change: { mobileNoInfo: { countryCode: '65', phoneNo: 'abc' } },
      }),
      (err: unknown) =>
        err instanceof InvalidVerificationInputError && err.field === 'change.mobileNoInfo.phoneNo',
    );
    await assert.rejects(
      verifications.start({ customerId: '2188', change: {} }),
      (err: unknown) => err instanceof InvalidVerificationInputError && err.field === 'change',
    );
    await assert.rejects(verifications.state('no-such-customer-0000'), VerificationNotFoundError);
    await assert.rejects(
      verifications.submitOtp('no-such-customer-0000', '123456'),
      VerificationNotFoundError,
    );
  });

  it('answers "finished" for a flow that closed before any worker ran it', async function () {
    const verifications = new VerificationClient(stack.env.client, 'no-worker-polls-this');
    const customerId = `closed${Date.now()}`;
    // 'started': no worker will ever send a code, so the start must not wait for one.
    await verifications.start({ customerId, change: { email: 'never@example.com' } }, { answer: 'started' });
    await stack.env.client.workflow.getHandle(verifications.verificationId(customerId)).terminate('test');
    await assert.rejects(verifications.state(customerId), VerificationFinishedError);
  });
});
