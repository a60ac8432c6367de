/**
 * A webhook delivery's retries over days, on the time-skipping server, against a real receiver process:
 * a receiver down for two days, 5xx answers, a receiver that never answers, a secret rotated between two
 * attempts. The delivery workflow is started here as the verification starts it (its own workflow type).
 */
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, Worker } from '@temporalio/worker';
import { createWebhookActivities } from '../activities/webhooks/activities.js';
import type { WebhookSettings } from '../activities/webhooks/config.js';
import { webhookEvents } from '../activities/webhooks/events.js';
import type { WebhookAttemptDetails } from '../activities/webhooks/types.js';
import { pollUntil } from '../scripts/processes.js';
import { webhookDeliveryKey } from '../workflows/search-attributes.js';
import type { WebhookDeliveryInput } from '../workflows/types.js';
import { deliverWebhooks } from '../workflows/webhook-delivery.js';
import { timeSkippingServer, uniqueName, workflowBundle } from './helpers/temporal.js';
import { verificationWorkflows } from './helpers/verification-env.js';
import { newWebhookSecret, WebhookReceiver } from './helpers/webhook-receiver.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

const secret = newWebhookSecret();

/** The events of a MODIFIED email change, as the verification would hand them over. */
function modifiedEvents() {
  const runId = uniqueName('run');
  return webhookEvents({
    caller: 'orders',
    verificationId: 'contact-change-2188000000000000001',
    runId,
    customerId: '2188000000000000001',
    finishedAt: new Date().toISOString(),
    outcome: 'MODIFIED',
    resultCode: 'SUCCESS',
    change: { email: 'someone@example.com' },
  });
}

function settingsFor(receiver: WebhookReceiver, overrides: Partial<WebhookSettings> = {}): WebhookSettings {
  return {
    endpoints: [{ caller: 'orders', id: 'main', url: receiver.url, secrets: [secret] }],
    retryHours: 72,
    timeoutSeconds: 5,
    ...overrides,
  };
}

describe('webhooks: retries over days (time-skipping server)', function () {
  this.timeout(90_000);
  let env: TestWorkflowEnvironment;
  let receiver: WebhookReceiver;

  before(async function () {
    this.timeout(120_000);
    env = await timeSkippingServer();
  });
  beforeEach(async () => {
    receiver = await WebhookReceiver.start([secret]);
  });
  afterEach(async () => receiver?.stop());

  async function worker(settings: WebhookSettings, taskQueue: string) {
    return Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(verificationWorkflows),
      activities: createWebhookActivities(settings),
    });
  }

  function startDelivery(taskQueue: string, settings: WebhookSettings, events = modifiedEvents()) {
    const input: WebhookDeliveryInput = {
      verificationId: 'contact-change-2188000000000000001',
      caller: 'orders',
      endpoints: ['main'],
      events,
      retryHours: settings.retryHours,
      timeoutSeconds: settings.timeoutSeconds,
      ...(settings.firstRetrySeconds ? { firstRetrySeconds: settings.firstRetrySeconds } : {}),
    };
    return env.client.workflow.start(deliverWebhooks, {
      taskQueue,
      workflowId: uniqueName('webhooks'),
      args: [input],
    });
  }

  it('a receiver down for two days gets every event once it is back, under the same ids', async function () {
    const taskQueue = uniqueName('webhooks');
    const settings = settingsFor(receiver);
    await receiver.stop();
    const w = await worker(settings, taskQueue);
    await w.runUntil(async () => {
      const handle = await startDelivery(taskQueue, settings);
      await env.sleep('2 days');
      // Still trying: the server's view of the attempts in progress (the UI's pending activities).
      const { raw } = await handle.describe();
      const pending = raw.pendingActivities ?? [];
      assert.equal(pending.length, 2);
      for (const activity of pending) {
        assert.ok((activity.attempt ?? 0) > 10, `only ${activity.attempt} attempts in two days`);
        assert.match(activity.lastFailure?.message ?? '', /endpoint orders\/main, attempt \d+: not reached/);
      }
      await receiver.start();
      const state = await handle.result();
      assert.equal(state.status, 'DELIVERED');
      for (const delivery of state.deliveries) assert.ok(delivery.attempts > 10);
      const { deliveries, processed } = await receiver.deliveries();
      assert.deepEqual(
        deliveries.map((d) => d.id).sort(),
        state.deliveries.map((d) => d.eventId).sort(),
        'each event once, with the id it had from the start',
      );
      assert.ok(deliveries.every((d) => d.verified[0]));
      assert.equal(processed.length, 2);
    });
  });

  it('5xx answers are retried with the same id until a 2xx', async function () {
    const taskQueue = uniqueName('webhooks');
    const settings = settingsFor(receiver);
    await receiver.answer([503, 500, 502], 204);
    const [completed] = modifiedEvents();
    const w = await worker(settings, taskQueue);
    const state = await w.runUntil(async () =>
      (await startDelivery(taskQueue, settings, [completed!])).result(),
    );
    assert.deepEqual(
      state.deliveries.map((d) => [d.status, d.attempts, d.lastAnswer]),
      [['DELIVERED', 4, 204]],
    );
    const { deliveries, processed } = await receiver.deliveries();
    assert.deepEqual(
      deliveries.map((d) => [d.id, d.answered]),
      [503, 500, 502, 204].map((answer) => [completed!.id, answer]),
    );
    assert.deepEqual(processed, [completed!.id]);
  });

  it('a receiver that never answers is cut off at the bound each time, and the delivery gives up after the period', async function () {
    const taskQueue = uniqueName('webhooks');
    // A first wait of 20 minutes keeps it to a few attempts (each up to a real second) in the hour.
    const settings = settingsFor(receiver, { retryHours: 1, timeoutSeconds: 1, firstRetrySeconds: 1200 });
    await receiver.answer([], 'hang');
    const [completed] = modifiedEvents();
    const w = await worker(settings, taskQueue);
    await w.runUntil(async () => {
      const handle = await startDelivery(taskQueue, settings, [completed!]);
      const state = await handle.result();
      assert.equal(state.status, 'GAVE_UP');
      const [delivery] = state.deliveries;
      assert.equal(delivery?.status, 'GAVE_UP');
      assert.equal(delivery?.lastAnswer, 'timeout');
      assert.ok((delivery?.attempts ?? 0) > 1, 'every attempt ended, so the next one came');
      const { typedSearchAttributes } = await handle.describe();
      assert.equal(typedSearchAttributes.get(webhookDeliveryKey), 'GAVE_UP');
    });
    const { deliveries } = await receiver.deliveries();
    assert.ok(deliveries.length > 1 && deliveries.every((d) => d.id === completed!.id));
  });

  it('one attempt waits for the answer at most WEBHOOK_TIMEOUT_SECONDS', async function () {
    await receiver.answer([], 'hang');
    const activities = createWebhookActivities(settingsFor(receiver, { timeoutSeconds: 1 }));
    const [completed] = modifiedEvents();
    const failure = await new MockActivityEnvironment({ attempt: 3 }, { logger: new DefaultLogger('ERROR') })
      .run(activities.deliverWebhookEvent, { caller: 'orders', endpoint: 'main', event: completed! })
      .then(
        () => assert.fail('a receiver that never answers was taken for a delivery'),
        (err: unknown) => err,
      );
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.nonRetryable, false);
    assert.deepEqual(failure.details?.[0], { attempt: 3, answer: 'timeout' } satisfies WebhookAttemptDetails);
    assert.match(failure.message, /no answer within 1 s/);
  });

  it('a secret rotated between two attempts: the next attempt is signed with both, and receivers holding either verify', async function () {
    const oldSecret = secret;
    const newSecret = newWebhookSecret();
    await receiver.stop();
    receiver = await WebhookReceiver.start([oldSecret, newSecret]);
    await receiver.answer([503], 204);
    const taskQueue = uniqueName('webhooks');
    const settings = settingsFor(receiver);
    const [completed] = modifiedEvents();
    const state = await (
      await worker(settings, taskQueue)
    ).runUntil(async () => {
      const handle = await startDelivery(taskQueue, settings, [completed!]);
      await pollUntil(
        async () => (await receiver.deliveries()).deliveries.length === 1,
        20_000,
        'a first attempt',
      );
      // The operator adds the new secret beside the old one (the worker reads its endpoints at each attempt).
      settings.endpoints[0]!.secrets = [oldSecret, newSecret];
      return handle.result();
    });
    assert.equal(state.deliveries[0]?.status, 'DELIVERED');
    const { deliveries } = await receiver.deliveries();
    assert.deepEqual(
      deliveries.map((d) => [d.answered, d.verified]),
      [
        [503, [true, false]],
        [204, [true, true]],
      ],
    );
  });
});
