import assert from 'node:assert/strict';
import { WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { cancelSignal, stateQuery, submitOtpSignal, verifyOtpUpdate } from '../workflows/messages.js';
import { verificationWorkflowId } from '../workflows/ids.js';
import {
  verificationOutcomeKey,
  verificationResultCodeKey,
  verificationStepKey,
} from '../workflows/search-attributes.js';
import { verifyContactChange } from '../workflows/verification.js';
import { SandboxControlClient } from '../sandbox/control-client.js';
import {
  createVerificationWorker,
  verificationWorkflows,
  waitForStep,
  withVerificationWorker,
  verificationStack,
} from './helpers/verification-env.js';
import { uniqueName, workflowBundle } from './helpers/temporal.js';
import { encryptPin, VerificationClient } from '@dws-verify/client';
import { issuePinKey } from '../sandbox/dws/pin-keys.js';

describe('contact-change verification on the dev server', function () {
  const stack = verificationStack();

  it('changes an email: consult, SMS code by signal, verify, modify', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      const handle = await start({
        customerId: customer.customerId,
        change: { email: 'new.address@example.com' },
      });
      const waiting = await waitForStep(handle, 'AWAITING_INPUT');
      assert.equal(waiting.challengeType, 'sms');
      assert.equal(waiting.attemptsLeft, 5);
      assert.equal(waiting.resendsLeft, 3);
      assert.match(waiting.maskedDestination ?? '', /\*{3,}/);
      assert.ok(waiting.expiresAt && Date.parse(waiting.expiresAt) > Date.now());

      await handle.signal(submitOtpSignal, { code: await control.latestOtp(customer.customerId) });
      const outcome = await handle.result();
      assert.equal(outcome.status, 'MODIFIED');
      const steps = outcome.timeline.map((e) => e.step).filter((step, i, all) => step !== all[i - 1]);
      assert.deepEqual(steps, ['CONSULTING', 'CHALLENGING', 'VERIFYING', 'MODIFYING', 'DONE']);
      assert.equal((await control.customer(customer.customerId)).email, 'new.address@example.com');
      assert.equal((await control.ledger(customer.customerId)).count, 1);
    });
  });

  it('changes a phone number', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      const handle = await start({
        customerId: customer.customerId,
        change: { mobileNoInfo: { countryCode: '65', phoneNo: '85555555' } },
      });
      await waitForStep(handle, 'AWAITING_INPUT');
      await handle.signal(submitOtpSignal, { code: await control.latestOtp(customer.customerId) });
      assert.equal((await handle.result()).status, 'MODIFIED');
      assert.deepEqual((await control.customer(customer.customerId)).mobileNoInfo, {
        countryCode: '65',
        phoneNo: '85555555',
      });
    });
  });

  it('passes the second challenge of a phone change "with risk", applied once by verifyAndResume', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer({ riskyPhoneChange: true });
      const handle = await start({
        customerId: customer.customerId,
        change: { mobileNoInfo: { countryCode: '65', phoneNo: '87777777' } },
      });
      await waitForStep(handle, 'AWAITING_INPUT', (s) => s.round === 1);
      await handle.signal(submitOtpSignal, { code: await control.latestOtp(customer.customerId) });
      const second = await waitForStep(handle, 'AWAITING_INPUT', (s) => s.round === 2);
      assert.match(second.maskedDestination ?? '', /7777$/, 'the second code goes to the new number');
      await handle.signal(submitOtpSignal, { code: await control.latestOtp(customer.customerId) });
      const outcome = await handle.result();
      assert.equal(outcome.status, 'MODIFIED');
      assert.equal((await control.ledger(customer.customerId)).count, 1);
      assert.equal((await control.customer(customer.customerId)).mobileNoInfo?.phoneNo, '87777777');
    });
  });

  it("takes a payment PIN encrypted with the challenge's key; a clear PIN and another key's cost an attempt", async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer({ challengeType: 'PAYMENT_PASSWORD', pin: '246810' });
      const handle = await start({
        customerId: customer.customerId,
        change: { email: 'pin.user@example.com' },
      });
      const waiting = await waitForStep(handle, 'AWAITING_INPUT');
      assert.equal(waiting.challengeType, 'PAYMENT_PASSWORD');
      const info = waiting.encryptionInfo;
      assert.ok(info?.publicKey && info.salt, 'the state shows the key material');
      assert.equal(info.algorithm, 'RSA-OAEP-256');
      const verify = (code: string) => handle.executeUpdate(verifyOtpUpdate, { args: [{ code }] });

      // The right PIN, but in clear: the provider refuses it, and it costs an attempt.
      assert.deepEqual(await verify('246810'), { verdict: 'INCORRECT', attemptsLeft: 4 });
      // The right PIN encrypted with a key that is not this challenge's.
      const otherChallenge = issuePinKey().encryptionInfo;
      assert.deepEqual(await verify(await encryptPin('246810', otherChallenge)), {
        verdict: 'INCORRECT',
        attemptsLeft: 3,
      });
      // Not a ciphertext at all: refused by the validator, no attempt used.
      await assert.rejects(verify('not a ciphertext!'), (err: unknown) =>
        /encrypted with encryptionInfo/.test(String((err as { cause?: Error }).cause?.message)),
      );
      assert.equal((await handle.query(stateQuery)).attemptsLeft, 3);
      assert.deepEqual(await verify(await encryptPin('246810', info)), { verdict: 'ACCEPTED' });
      assert.equal((await handle.result()).status, 'MODIFIED');
      assert.equal((await control.customer(customer.customerId)).email, 'pin.user@example.com');
    });
  });

  it('keeps waiting after a wrong code and accepts the right one', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      const handle = await start({ customerId: customer.customerId, change: { email: 'retry@example.com' } });
      await waitForStep(handle, 'AWAITING_INPUT');
      const right = await control.latestOtp(customer.customerId);
      const wrong = right === '111111' ? '222222' : '111111';
      await handle.signal(submitOtpSignal, { code: wrong });
      const after = await waitForStep(handle, 'AWAITING_INPUT', (s) => s.attemptsLeft === 4);
      assert.equal(after.lastResultCode, 'VERIFY_CODE_INCORRECT');
      await handle.signal(submitOtpSignal, { code: right });
      assert.equal((await handle.result()).status, 'MODIFIED');
    });
  });

  it('ends ATTEMPTS_EXCEEDED after the last wrong code, without modifying', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      const handle = await start({
        customerId: customer.customerId,
        change: { email: 'brute@example.com' },
        policy: { maxVerifyAttempts: 3 },
      });
      await waitForStep(handle, 'AWAITING_INPUT');
      const right = await control.latestOtp(customer.customerId);
      const wrong = right === '111111' ? '222222' : '111111';
      const verdicts = [];
      for (let i = 0; i < 3; i++)
        verdicts.push(await handle.executeUpdate(verifyOtpUpdate, { args: [{ code: wrong }] }));
      assert.deepEqual(verdicts, [
        { verdict: 'INCORRECT', attemptsLeft: 2 },
        { verdict: 'INCORRECT', attemptsLeft: 1 },
        { verdict: 'ATTEMPTS_EXCEEDED' },
      ]);
      assert.equal((await handle.result()).status, 'ATTEMPTS_EXCEEDED');
      assert.equal((await control.ledger(customer.customerId)).count, 0);
    });
  });

  it('refuses a malformed code in the update validator, before anything reaches history', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      const handle = await start({
        customerId: customer.customerId,
        change: { email: 'validator@example.com' },
      });
      await waitForStep(handle, 'AWAITING_INPUT');
      await assert.rejects(
        handle.executeUpdate(verifyOtpUpdate, { args: [{ code: '12ab' }] }),
        (err: Error) => /4 to 8 digits/.test((err.cause as Error | undefined)?.message ?? ''),
      );
      const history = await handle.fetchHistory();
      assert.equal(history.events?.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length, 0);
      await handle.signal(cancelSignal, {});
      assert.equal((await handle.result()).status, 'CANCELLED');
    });
  });

  it('lets an operator find waiting flows by search attribute, and says the state in words', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      const handle = await start({
        customerId: customer.customerId,
        change: { email: 'visible@example.com' },
      });
      await waitForStep(handle, 'AWAITING_INPUT');
      const query = `VerificationStep = "AWAITING_INPUT" AND WorkflowId = "${handle.workflowId}"`;
      let found = 0;
      for (let i = 0; i < 100 && found === 0; i++) {
        for await (const _ of stack.env.client.workflow.list({ query })) found++;
        if (found === 0) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(found, 1, 'visibility lists the waiting flow');
      const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      assert.match(
        metadata.currentDetails ?? '',
        /^Waiting for the SMS code sent to \+65\*+\d{4}: 5 attempts left/,
      );
      assert.ok(!JSON.stringify(metadata).includes('visible@example.com'));
      await handle.signal(cancelSignal, {});
      await handle.result();
    });
  });

  it('ends CANCELLED when cancelled while waiting, and never modifies', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      const handle = await start({
        customerId: customer.customerId,
        change: { email: 'cancel@example.com' },
      });
      await waitForStep(handle, 'AWAITING_INPUT');
      await handle.signal(cancelSignal, { reason: 'user closed the app' });
      const outcome = await handle.result();
      assert.equal(outcome.status, 'CANCELLED');
      assert.equal(outcome.status === 'CANCELLED' && outcome.reason, 'user closed the app');
      assert.equal((await control.ledger(customer.customerId)).count, 0);
    });
  });

  it('rides out U, UNKNOWN_EXCEPTION and 5xx answers: applied once, every retry with the same requestId', async function () {
    this.timeout(120_000);
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      await control.setFaults({
        failNext: [
          { api: 'modifyCustomer', kind: 'unknown', count: 1, phase: 'before' },
          { api: 'modifyCustomer', kind: 'serverError', count: 1, phase: 'before' },
        ],
      });
      const handle = await start({ customerId: customer.customerId, change: { email: 'flaky@example.com' } });
      await waitForStep(handle, 'AWAITING_INPUT');
      await control.setFaults({
        failNext: [
          { api: 'modifyCustomer', kind: 'unknown', count: 1, phase: 'after' },
          { api: 'modifyCustomer', kind: 'serverError', count: 1, phase: 'after' },
        ],
      });
      await handle.signal(submitOtpSignal, { code: await control.latestOtp(customer.customerId) });
      assert.equal((await handle.result()).status, 'MODIFIED');
      assert.equal((await control.ledger(customer.customerId)).count, 1);
      const modifies = (await control.requests()).filter(
        (r) => r.api === 'modifyCustomer' && r.requestId && !r.resultCode?.startsWith('REPEAT'),
      );
      const forThisFlow = modifies.slice(-3);
      assert.equal(new Set(forThisFlow.map((r) => r.requestId)).size, 1, 'one requestId across the retries');
      assert.ok(!(await control.requests()).some((r) => r.resultCode === 'REPEAT_REQ_INCONSISTENT'));
    });
  });

  it('retries the local trigger and verify with the request id the workflow made: one code out, verified once', async function () {
    this.timeout(120_000);
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      // 'after': the provider acted, then the answer was lost; the retry must not act a second time.
      await control.setFaults({
        failNext: [{ api: 'triggerChallenge', kind: 'unknown', count: 1, phase: 'after' }],
      });
      const handle = await start({ customerId: customer.customerId, change: { email: 'local@example.com' } });
      await waitForStep(handle, 'AWAITING_INPUT');
      await control.setFaults({
        failNext: [{ api: 'verifyAndResume', kind: 'serverError', count: 1, phase: 'after' }],
      });
      const verdict = await handle.executeUpdate(verifyOtpUpdate, {
        args: [{ code: await control.latestOtp(customer.customerId) }],
      });
      assert.deepEqual(verdict, { verdict: 'ACCEPTED' });
      assert.equal((await handle.result()).status, 'MODIFIED');

      const requests = await control.requests();
      for (const api of ['triggerChallenge', 'verifyAndResume'] as const) {
        const faulted = requests.find((r) => r.api === api && r.fault);
        assert.ok(faulted, `the ${api} fault was injected`);
        const calls = requests.filter(
          (r) => r.api === api && r.authenticationId === faulted.authenticationId,
        );
        assert.ok(calls.length >= 2, `${api} was retried`);
        const ids = new Set(
          calls.map((r) => (api === 'triggerChallenge' ? r.triggerRequestId : r.requestId)),
        );
        assert.equal(ids.size, 1, `every ${api} attempt carried the same request id`);
      }
      const history = await handle.fetchHistory();
      const scheduled = history.events
        ?.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
        .filter(Boolean);
      assert.deepEqual(scheduled, ['modifyCustomer'], 'consult, trigger and verify ran locally');
      assert.equal(
        (await control.outbox({ customerId: customer.customerId })).length,
        1,
        'the retried trigger sent no second code',
      );
      assert.equal((await control.ledger(customer.customerId)).count, 1);
    });
  });

  it('ends REJECTED on an F code, with that code and no retry', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      const handle = await start({
        customerId: customer.customerId,
        // Within the wire contract (4 to 16 digits), which the workflow checks itself; too short for DWS.
        change: { mobileNoInfo: { countryCode: '65', phoneNo: '1234' } },
      });
      await waitForStep(handle, 'AWAITING_INPUT');
      await handle.signal(submitOtpSignal, { code: await control.latestOtp(customer.customerId) });
      const outcome = await handle.result();
      assert.equal(outcome.status, 'REJECTED');
      assert.equal(outcome.status === 'REJECTED' && outcome.resultCode, 'INVALID_PHONE_NUMBER');
      assert.equal(outcome.status === 'REJECTED' && outcome.failedStep, 'MODIFYING');
      // What the UI's list (search attribute columns) and workflow page (current details) show.
      const { typedSearchAttributes } = await handle.describe();
      assert.equal(typedSearchAttributes.get(verificationOutcomeKey), 'REJECTED');
      assert.equal(typedSearchAttributes.get(verificationResultCodeKey), 'INVALID_PHONE_NUMBER');
      const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      assert.equal(metadata.currentDetails, 'REJECTED: INVALID_PHONE_NUMBER (answered while MODIFYING).');
      const history = await handle.fetchHistory();
      const modifyAttempts = history.events
        ?.filter((e) => e.activityTaskStartedEventAttributes)
        .map((e) => e.activityTaskStartedEventAttributes?.attempt);
      assert.ok(
        modifyAttempts?.every((a) => a === 1),
        'every activity ran on its first attempt only',
      );
    });
  });

  describe('the consult: local for its first seconds, then an activity', function () {
    type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
    const codeSentTo = async (control: SandboxControlClient, customerId: string): Promise<string> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const [message] = await control.outbox({ customerId });
        if (message) return message.code;
        assert.ok(Date.now() < deadline, 'no code was sent');
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const scheduledActivities = (history: History) =>
      (history.events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);

    it('sends the code in the first workflow task: endpoint look-up, consult and trigger, all local', async function () {
      await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
        const customer = await control.addCustomer();
        const handle = await start({
          customerId: customer.customerId,
          change: { email: 'fast@example.com' },
        });
        // Waits on the sandbox, not on the state query: nothing but the flow itself in its first seconds.
        const code = await codeSentTo(control, customer.customerId);
        await handle.signal(submitOtpSignal, { code });
        assert.equal((await handle.result()).status, 'MODIFIED');
        const events = (await handle.fetchHistory()).events ?? [];
        // Which workflow task recorded each local activity (its marker names the activity type).
        const taskOf = new Map(
          events.flatMap((e) => {
            const marker = e.markerRecordedEventAttributes;
            const data = marker?.details?.data?.payloads?.[0]?.data;
            if (marker?.markerName !== 'core_local_activity' || !data) return [];
            const { activity_type: type } = JSON.parse(Buffer.from(data).toString('utf8')) as {
              activity_type: string;
            };
            return [[type, Number(marker.workflowTaskCompletedEventId)] as const];
          }),
        );
        const firstTask = Number(events.find((e) => e.workflowTaskCompletedEventAttributes)?.eventId);
        const { verifyAndResume, ...beforeTheCode } = Object.fromEntries(taskOf);
        assert.deepEqual(
          beforeTheCode,
          { webhookEndpoints: firstTask, consultModification: firstTask, triggerChallenge: firstTask },
          'the endpoint look-up, the consult and the trigger, all in the first workflow task',
        );
        assert.ok(
          verifyAndResume !== undefined && verifyAndResume > firstTask,
          'the verify, once the code came',
        );

        assert.deepEqual(scheduledActivities({ events }), ['modifyCustomer'], 'the modify only');
      });
    });

    // A failing test must not leave the sandbox answering U to the tests after it.
    let recover: (() => Promise<unknown>) | undefined;
    afterEach(async () => {
      await recover?.();
      recover = undefined;
    });

    it('goes on as a pending activity, same requestId, when DWS answers U past the local budget', async function () {
      this.timeout(120_000);
      await withVerificationWorker(stack.env, stack.sandbox, async ({ control, taskQueue }) => {
        const customer = await control.addCustomer();
        // Every consult answered U until the provider "recovers" below.
        await control.setFaults({ failNext: [{ api: 'modifyCustomer', kind: 'unknown', count: 1000 }] });
        recover = () => control.setFaults({ failNext: [] });
        const since = Date.now();
        // As the HTTP service starts it: VerificationStep = CONSULTING set by the start itself.
        const verifications = new VerificationClient(stack.env.client, taskQueue);
        const { verificationId } = await verifications.start(
          { customerId: customer.customerId, change: { email: 'outage@example.com' } },
          { answer: 'started' },
        );
        const handle = stack.env.client.workflow.getHandle<typeof verifyContactChange>(verificationId);

        // What an operator finds (docs/operators.md#the-list): the pending activity and its attempts.
        const deadline = Date.now() + 60_000;
        let pending;
        for (;;) {
          const { raw } = await handle.describe();
          pending = raw.pendingActivities?.find((a) => a.activityType?.name === 'consultModification');
          if (pending && (pending.attempt ?? 0) >= 2) break;
          assert.ok(
            Date.now() < deadline,
            `no retried consult activity: ${JSON.stringify(raw.pendingActivities)}`,
          );
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.match(pending.lastFailure?.message ?? '', /U|UNKNOWN/i);
        const description = await handle.describe();
        assert.equal(description.typedSearchAttributes.get(verificationStepKey), 'CONSULTING');
        const state = await handle.query(stateQuery);
        assert.equal(state.step, 'CONSULTING');
        assert.ok(
          state.timeline.some((e) => e.event.includes('the consult goes on as an activity')),
          JSON.stringify(state.timeline),
        );
        const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
        assert.equal(metadata.currentDetails, `Consulting DWS for customer ${customer.customerId}.`);

        await recover();
        await waitForStep(handle, 'AWAITING_INPUT');
        await handle.signal(submitOtpSignal, { code: await control.latestOtp(customer.customerId) });
        assert.equal((await handle.result()).status, 'MODIFIED');
        assert.equal((await control.ledger(customer.customerId)).count, 1);

        const history = await handle.fetchHistory();
        assert.deepEqual(scheduledActivities(history), ['consultModification', 'modifyCustomer']);
        const consults = (await control.requests({ api: 'modifyCustomer' })).filter(
          (r) => r.requestId && r.fault && r.at >= since,
        );
        assert.ok(consults.length >= 4, 'local attempts, then activity attempts, all answered U');
        assert.equal(new Set(consults.map((r) => r.requestId)).size, 1, 'one requestId across both');
      });
    });

    it('replays a consult whose local attempts timed out as it ran: on as an activity, no nondeterminism', async function () {
      this.timeout(120_000);
      await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
        const customer = await control.addCustomer();
        // Each local attempt waits past its 3 s; the activity's 20 s take the fourth call's slow answer.
        await control.setFaults({
          slowMs: 3_500,
          failNext: [{ api: 'modifyCustomer', kind: 'slow', count: 4 }],
        });
        recover = () => control.setFaults({ slowMs: 2_000, failNext: [] });
        const handle = await start({
          customerId: customer.customerId,
          change: { email: 'slow@example.com' },
        });
        await waitForStep(handle, 'AWAITING_INPUT');
        await recover();
        await handle.signal(submitOtpSignal, { code: await codeSentTo(control, customer.customerId) });
        assert.equal((await handle.result()).status, 'MODIFIED');

        const history = await handle.fetchHistory();
        const timedOut = (history.events ?? []).filter(
          (e) =>
            e.markerRecordedEventAttributes?.markerName === 'core_local_activity' &&
            e.markerRecordedEventAttributes.failure?.timeoutFailureInfo,
        );
        assert.equal(timedOut.length, 1, 'the local consult recorded as timed out');
        assert.deepEqual(scheduledActivities(history), ['consultModification', 'modifyCustomer']);
        // What a worker does after a crash or an eviction: the same path from the recorded history.
        await Worker.runReplayHistory(
          { workflowBundle: await workflowBundle(verificationWorkflows) },
          history,
        );
      });
    });

    it("ends REJECTED on the consult's F with the provider's code, with no activity after it", async function () {
      await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
        // A customer the sandbox does not know: DWS refuses the consult.
        const handle = await start({
          customerId: `unknown${Date.now()}`,
          change: { email: 'no@example.com' },
        });
        const outcome = await handle.result();
        assert.equal(outcome.status, 'REJECTED');
        const [consult] = (await control.requests({ api: 'modifyCustomer' })).slice(-1);
        assert.equal(consult?.resultStatus, 'F');
        assert.equal(outcome.status === 'REJECTED' && outcome.resultCode, consult?.resultCode);
        assert.equal(outcome.status === 'REJECTED' && outcome.failedStep, 'CONSULTING');
        const { typedSearchAttributes } = await handle.describe();
        assert.equal(typedSearchAttributes.get(verificationResultCodeKey), consult?.resultCode);
        assert.deepEqual(scheduledActivities(await handle.fetchHistory()), [], 'no fallback to an activity');
      });
    });
  });

  it('refuses a second start for the same customer while one runs', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      const handle = await start({ customerId: customer.customerId, change: { email: 'first@example.com' } });
      await assert.rejects(
        start({ customerId: customer.customerId, change: { email: 'second@example.com' } }),
        WorkflowExecutionAlreadyStartedError,
      );
      await handle.signal(cancelSignal, {});
      await handle.result();
    });
  });

  it('loses no signal sent while no worker runs', async function () {
    const control = new SandboxControlClient(stack.sandbox.url);
    const customer = await control.addCustomer();
    const taskQueue = uniqueName('restart');
    const handle = await stack.env.client.workflow.start(verifyContactChange, {
      args: [{ customerId: customer.customerId, change: { email: 'restart@example.com' } }],
      taskQueue,
      workflowId: verificationWorkflowId(customer.customerId),
    });
    const first = await createVerificationWorker(stack.env, stack.sandbox.url, taskQueue);
    await first.runUntil(waitForStep(handle, 'AWAITING_INPUT'));
    // The first worker is gone; the code arrives while nobody polls.
    await handle.signal(submitOtpSignal, { code: await control.latestOtp(customer.customerId) });
    const second = await createVerificationWorker(stack.env, stack.sandbox.url, taskQueue);
    const outcome = await second.runUntil(handle.result());
    assert.equal(outcome.status, 'MODIFIED');
    assert.equal((await control.ledger(customer.customerId)).count, 1);
  });
});

describe('carrying a verified change to the Wonder customer record', function () {
  const stack = verificationStack();
  const wonderCustomer = 'e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a02';
  const wonderReference = 'MERCHANT-CUST-0002';

  it('updates the Wonder customer after the DWS modify', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      const handle = await start({
        customerId: customer.customerId,
        change: { email: 'synced@example.com', mobileNoInfo: { countryCode: '852', phoneNo: '61234567' } },
        wonder: { customerUuid: wonderCustomer, referenceNumber: wonderReference, lang: 'en' },
      });
      await waitForStep(handle, 'AWAITING_INPUT');
      await handle.signal(submitOtpSignal, { code: await control.latestOtp(customer.customerId) });
      const outcome = await handle.result();
      assert.equal(outcome.status, 'MODIFIED');
      assert.equal(outcome.status === 'MODIFIED' && outcome.wonderSync, 'SYNCED');
      const record = stack.sandbox.wonder.customer(wonderCustomer);
      assert.equal(record?.email, 'synced@example.com');
      assert.equal(record?.phone, '+85261234567');
      assert.equal(stack.sandbox.wonder.ledger(wonderCustomer).length, 1);
    });
  });

  it('refuses to write a Wonder record that is not the verified customer: MODIFIED, sync FAILED, record untouched', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, start }) => {
      const customer = await control.addCustomer();
      // The backend's reference for this DWS customer is another Wonder record's (Chan's): the uuid named
      // (Wong's) is not this customer's, so Wong's record must not receive this customer's new email.
      const before = stack.sandbox.wonder.customer(wonderCustomer);
      const ledgerBefore = stack.sandbox.wonder.ledger(wonderCustomer).length;
      const puts = () =>
        stack.sandbox.wonder
          .requests()
          .filter((r) => r.api === 'putCustomer' && r.path.includes(wonderCustomer)).length;
      const putsBefore = puts();
      const handle = await start({
        customerId: customer.customerId,
        change: { email: 'dws-only@example.com' },
        wonder: { customerUuid: wonderCustomer, referenceNumber: 'MERCHANT-CUST-0001' },
      });
      await waitForStep(handle, 'AWAITING_INPUT');
      await handle.signal(submitOtpSignal, { code: await control.latestOtp(customer.customerId) });
      const outcome = await handle.result();
      assert.equal(outcome.status, 'MODIFIED');
      assert.equal(outcome.status === 'MODIFIED' && outcome.wonderSync, 'FAILED');
      assert.equal(outcome.status === 'MODIFIED' && outcome.wonderFailure, 'WONDER_CUSTOMER_MISMATCH');
      assert.equal((await handle.query(stateQuery)).wonderSync, 'FAILED');
      assert.deepEqual(
        stack.sandbox.wonder.customer(wonderCustomer),
        before,
        'the Wonder record is unchanged',
      );
      assert.equal(stack.sandbox.wonder.ledger(wonderCustomer).length, ledgerBefore);
      assert.equal(puts(), putsBefore, 'no PUT was sent for the refused write');
      // The DWS change stands: it was verified, and only the gateway write was refused.
      assert.equal((await control.customer(customer.customerId)).email, 'dws-only@example.com');
      assert.equal((await control.ledger(customer.customerId)).count, 1);
    });
  });
});
