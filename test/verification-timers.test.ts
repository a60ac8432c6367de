import assert from 'node:assert/strict';
import { requestResendUpdate, resendOtpSignal, stateQuery, verifyOtpUpdate } from '../workflows/messages.js';
import { timeSkippingServer } from './helpers/temporal.js';
import { waitForStep, withVerificationWorker, verificationStack } from './helpers/verification-env.js';

describe('contact-change verification timers on the time-skipping server', function () {
  const stack = verificationStack(timeSkippingServer);

  it('ends EXPIRED when the code is not answered within its validity', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      const handle = await start({ customerId: customer.customerId, change: { email: 'late@example.com' } });
      const waiting = await waitForStep(handle, 'AWAITING_INPUT');
      const outcome = await handle.result();
      assert.equal(outcome.status, 'EXPIRED');
      assert.ok(
        (await stack.env.currentTimeMs()) >= Date.parse(waiting.expiresAt ?? ''),
        'server time passed the expiry',
      );
      assert.equal((await control.ledger(customer.customerId)).count, 0);
    });
  });

  it('refuses a resend within the cooldown and honours it after; the new code replaces the old', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      const handle = await start({
        customerId: customer.customerId,
        change: { email: 'resend@example.com' },
      });
      await waitForStep(handle, 'AWAITING_INPUT');
      const oldCode = await control.latestOtp(customer.customerId);

      const early = await handle.executeUpdate(requestResendUpdate);
      assert.equal(early.honoured, false);
      assert.equal(!early.honoured && early.reason, 'COOLDOWN');
      await handle.signal(resendOtpSignal);
      assert.equal(
        (await control.outbox({ customerId: customer.customerId })).length,
        1,
        'no code sent within the cooldown',
      );

      await stack.env.sleep(31_000);
      const later = await handle.executeUpdate(requestResendUpdate);
      assert.deepEqual(later.honoured && later.resendsLeft, 2);
      assert.equal((await control.outbox({ customerId: customer.customerId })).length, 2);
      const newCode = await control.latestOtp(customer.customerId);

      if (newCode !== oldCode) {
        const stale = await handle.executeUpdate(verifyOtpUpdate, { args: [{ code: oldCode }] });
        assert.equal(stale.verdict, 'INCORRECT', 'the old code no longer works');
      }
      assert.deepEqual(await handle.executeUpdate(verifyOtpUpdate, { args: [{ code: newCode }] }), {
        verdict: 'ACCEPTED',
      });
      const outcome = await handle.result();
      assert.equal(outcome.status, 'MODIFIED');
      assert.ok(outcome.timeline.some((e) => e.event === 'resend refused: COOLDOWN'));
    });
  });

  it('refuses resends once the cap is used up', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      const handle = await start({
        customerId: customer.customerId,
        change: { email: 'cap@example.com' },
        policy: { maxResends: 1, resendCooldownSeconds: 30, otpValiditySeconds: 600 },
      });
      await waitForStep(handle, 'AWAITING_INPUT');
      await stack.env.sleep(31_000);
      assert.equal((await handle.executeUpdate(requestResendUpdate)).honoured, true);
      await stack.env.sleep(31_000);
      const refused = await handle.executeUpdate(requestResendUpdate);
      assert.equal(!refused.honoured && refused.reason, 'NO_RESENDS_LEFT');
      assert.equal((await handle.query(stateQuery)).resendsLeft, 0);
      await handle.cancel();
      assert.equal((await handle.result()).status, 'CANCELLED');
    });
  });
});
