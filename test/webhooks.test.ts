/**
 * Outcomes pushed to the caller's endpoints (docs/webhooks.md), on the dev server with a real receiver
 * process on loopback that verifies with the `standardwebhooks` package: what is delivered, once, how it
 * is signed, what it carries (and does not), and what an operator does with a delivery that gave up.
 */
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { VerificationClient, verifyWebhook, WebhookVerificationError } from '@dws-verify/client';
import { deliveryReport, gaveUpDeliveries, redeliver } from '../scripts/webhooks.js';
import { pollUntil } from '../scripts/processes.js';
import type { WebhookSettings } from '../activities/webhooks/config.js';
import { webhookDeliveryWorkflowId } from '../workflows/ids.js';
import type { WebhookDeliveryState, WebhookEvent } from '../workflows/types.js';
import { webhookEventSchema } from '../workflows/wire-schemas.js';
import {
  withVerificationWorker,
  verificationStack,
  type VerificationRig,
} from './helpers/verification-env.js';
import { newWebhookSecret, WebhookReceiver } from './helpers/webhook-receiver.js';

const ajv = new Ajv({ strict: true });
addFormats.default(ajv);
const checkEvent = ajv.compile(webhookEventSchema);

describe('webhooks: outcomes pushed to the caller’s endpoints (dev server)', function () {
  this.timeout(60_000);
  const stack = verificationStack();
  // A rotation in progress: the endpoint is configured with the old secret and the new one.
  const oldSecret = newWebhookSecret();
  const newSecret = newWebhookSecret();
  const otherSecret = newWebhookSecret();
  let receiver: WebhookReceiver;
  let settings: WebhookSettings;

  before(async function () {
    receiver = await WebhookReceiver.start([oldSecret, newSecret, otherSecret]);
    settings = {
      endpoints: [{ caller: 'orders', id: 'main', url: receiver.url, secrets: [oldSecret, newSecret] }],
      retryHours: 72,
      timeoutSeconds: 5,
    };
  });
  after(async () => receiver?.stop());

  const run = <T>(fn: (rig: VerificationRig) => Promise<T>) =>
    withVerificationWorker(stack.env, stack.sandbox, fn, { webhooks: settings });

  /** The change a user completes: start as the caller, answer the code, read the run id. */
  async function completeChange(rig: VerificationRig, caller: string, change: object, requestKey?: string) {
    const client = new VerificationClient(stack.env.client, rig.taskQueue, { caller });
    const { customerId } = await rig.control.addCustomer();
    await client.start({ customerId, change, ...(requestKey ? { requestKey } : {}) });
    assert.equal(
      (await client.verifyOtp(customerId, await rig.control.latestOtp(customerId))).verdict,
      'ACCEPTED',
    );
    const outcome = await client.result(customerId);
    const { runId } = await stack.env.client.workflow.getHandle(client.verificationId(customerId)).describe();
    return { customerId, outcome, verificationId: client.verificationId(customerId), runId };
  }

  async function deliveriesOf(eventIds: string[]) {
    const { deliveries, processed } = await receiver.deliveries();
    return {
      deliveries: deliveries.filter((d) => eventIds.includes(d.id)),
      processed: processed.filter((id) => eventIds.includes(id)),
    };
  }

  it('a completed change delivers verification.completed and contact.changed once, signed with every configured secret and with no other', async function () {
    await run(async (rig) => {
      const change = {
        email: 'new.address@example.com',
        mobileNoInfo: { countryCode: '65', phoneNo: '87654321' },
      };
      const { outcome, verificationId, runId, customerId } = await completeChange(
        rig,
        'orders',
        change,
        'order-4711',
      );
      assert.equal(outcome.status, 'MODIFIED');

      const delivery = stack.env.client.workflow.getHandle<() => Promise<WebhookDeliveryState>>(
        webhookDeliveryWorkflowId(verificationId, runId),
      );
      const state = await delivery.result();
      assert.equal(state.status, 'DELIVERED');
      assert.deepEqual(
        state.deliveries.map((d) => [d.type, d.status, d.attempts, d.lastAnswer]),
        [
          ['verification.completed', 'DELIVERED', 1, 204],
          ['contact.changed', 'DELIVERED', 1, 204],
        ],
      );
      const eventIds = state.deliveries.map((d) => d.eventId);
      const { deliveries, processed } = await deliveriesOf(eventIds);
      assert.equal(deliveries.length, 2, 'each event arrived once');
      assert.deepEqual(processed.sort(), [...eventIds].sort());

      for (const received of deliveries) {
        // The standardwebhooks package: the old and the new secret verify, another does not.
        assert.deepEqual(received.verified, [true, true, false]);
        assert.equal(received.signature.split(' ').length, 2, 'one signature per configured secret');
        const headers = {
          'webhook-id': received.id,
          'webhook-timestamp': received.timestamp,
          'webhook-signature': received.signature,
        };
        // The client library's verifier agrees, with either secret alone.
        assert.equal(verifyWebhook(received.body, headers, oldSecret).id, received.id);
        assert.equal(verifyWebhook(received.body, headers, [newSecret]).id, received.id);
        assert.throws(() => verifyWebhook(received.body, headers, otherSecret), WebhookVerificationError);
        assert.throws(() => verifyWebhook(`${received.body} `, headers, oldSecret), WebhookVerificationError);
        // No contact data in clear, nothing of the code.
        assert.ok(!received.body.includes('new.address'), 'the new email is masked');
        assert.ok(!received.body.includes('87654321'), 'the new phone is masked');
      }

      const events = deliveries.map((d) => JSON.parse(d.body) as WebhookEvent);
      for (const event of events) assert.ok(checkEvent(event), JSON.stringify(checkEvent.errors));
      const completed = events.find((e) => e.type === 'verification.completed');
      const changed = events.find((e) => e.type === 'contact.changed');
      assert.ok(completed && changed);
      assert.deepEqual(completed.data, {
        verificationId,
        runId,
        customerId,
        caller: 'orders',
        requestKey: 'order-4711',
        outcome: 'MODIFIED',
        resultCode: 'SUCCESS',
        change: { email: 'n*****s@example.com', phone: '+65******4321' },
        maskedDestination: completed.data.maskedDestination,
        wonderSync: 'NOT_REQUESTED',
      });
      assert.deepEqual(
        changed.data.changes.map((c) => [c.contact, c.newValue, c.previousValue !== undefined]),
        [
          ['email', 'n*****s@example.com', false],
          // The first code went to the number on file: the old number, masked.
          ['phone', '+65******4321', true],
        ],
      );
      assert.match(changed.data.changes[1]!.previousValue ?? '', /^\+\d+\*+\d{0,4}$/);

      // The verification's own timeline names the delivery it handed its events to.
      assert.ok(
        outcome.timeline.some((entry) =>
          entry.event.includes(webhookDeliveryWorkflowId(verificationId, runId)),
        ),
      );
    });
  });

  it('every outcome is announced (REJECTED with its result code, CANCELLED by an operator; no contact.changed); a caller without endpoints starts no delivery', async function () {
    await run(async (rig) => {
      const orders = new VerificationClient(stack.env.client, rig.taskQueue, { caller: 'orders' });
      // A customer DWS does not know: REJECTED at the consult.
      const unknown = '2188000000000000999';
      const started = await orders.start({ customerId: unknown, change: { email: 'x.y@example.com' } });
      assert.ok('outcome' in started && started.outcome.status === 'REJECTED');
      const { runId } = await stack.env.client.workflow.getHandle(orders.verificationId(unknown)).describe();
      const state = await stack.env.client.workflow
        .getHandle<() => Promise<WebhookDeliveryState>>(
          webhookDeliveryWorkflowId(orders.verificationId(unknown), runId),
        )
        .result();
      assert.deepEqual(
        state.deliveries.map((d) => d.type),
        ['verification.completed'],
      );
      const { deliveries } = await deliveriesOf([state.deliveries[0]!.eventId]);
      const event = JSON.parse(deliveries[0]!.body) as WebhookEvent;
      assert.equal(event.type, 'verification.completed');
      assert.equal(event.type === 'verification.completed' && event.data.outcome, 'REJECTED');
      assert.equal(event.type === 'verification.completed' && event.data.failedStep, 'CONSULTING');
      assert.ok(event.type === 'verification.completed' && event.data.resultCode);

      // An operator's cancel (Temporal cancellation) ends the flow CANCELLED, and that is announced too.
      const { customerId: cancelledCustomer } = await rig.control.addCustomer();
      await orders.start({ customerId: cancelledCustomer, change: { email: 'c.d@example.com' } });
      const cancelledFlow = stack.env.client.workflow.getHandle(orders.verificationId(cancelledCustomer));
      await cancelledFlow.cancel();
      assert.equal((await orders.result(cancelledCustomer)).status, 'CANCELLED');
      const { runId: cancelledRun } = await cancelledFlow.describe();
      const cancelled = await stack.env.client.workflow
        .getHandle<() => Promise<WebhookDeliveryState>>(
          webhookDeliveryWorkflowId(orders.verificationId(cancelledCustomer), cancelledRun),
        )
        .result();
      const [cancelledEvent] = (await deliveriesOf([cancelled.deliveries[0]!.eventId])).deliveries;
      assert.equal(
        (JSON.parse(cancelledEvent!.body) as { data: { outcome: string } }).data.outcome,
        'CANCELLED',
      );

      // "billing" has no endpoint: the flow finishes without a delivery, and no child was ever started.
      const { verificationId: billingId, runId: billingRun } = await completeChange(rig, 'billing', {
        email: 'b.c@example.com',
      });
      const history = await stack.env.client.workflow.getHandle(billingId, billingRun).fetchHistory();
      assert.ok(!history.events?.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes));
    });
  });

  it('410 stops the retries; the delivery is found by WebhookDelivery = "GAVE_UP", and a redeliver delivers the same events', async function () {
    await run(async (rig) => {
      await receiver.answer([410, 410], 204);
      const { verificationId, runId } = await completeChange(rig, 'orders', { email: 'gone@example.com' });
      const deliveryId = webhookDeliveryWorkflowId(verificationId, runId);
      let gaveUp: Awaited<ReturnType<typeof deliveryReport>> | undefined;
      await pollUntil(
        async () => {
          gaveUp = await deliveryReport(stack.env.client, deliveryId);
          return gaveUp.state.status === 'GAVE_UP';
        },
        20_000,
        'the delivery giving up',
      );
      assert.ok(gaveUp);
      assert.equal(gaveUp.status, 'RUNNING', 'it waits for an operator');
      assert.deepEqual(
        gaveUp.state.deliveries.map((d) => [d.status, d.attempts, d.lastAnswer]),
        [
          ['GONE', 1, 410],
          ['GONE', 1, 410],
        ],
        'one attempt each: 410 is not retried',
      );
      await pollUntil(
        async () => (await gaveUpDeliveries(stack.env.client)).includes(deliveryId),
        20_000,
        'visibility listing the delivery as GAVE_UP',
      );

      assert.deepEqual(await redeliver(stack.env.client, deliveryId), { queued: 2 });
      // A second one, sent before the first has delivered or after: nothing is queued twice.
      await assert.rejects(redeliver(stack.env.client, deliveryId), /nothing to redeliver/);
      const state = await stack.env.client.workflow
        .getHandle<() => Promise<WebhookDeliveryState>>(deliveryId)
        .result();
      assert.equal(state.status, 'DELIVERED');
      assert.deepEqual(
        state.deliveries.map((d) => [d.status, d.attempts]),
        [
          ['DELIVERED', 2],
          ['DELIVERED', 2],
        ],
      );
      const { deliveries, processed } = await deliveriesOf(state.deliveries.map((d) => d.eventId));
      assert.deepEqual(
        deliveries.map((d) => d.answered),
        [410, 410, 204, 204],
      );
      assert.equal(processed.length, 2, 'each event once, under the id it was first sent with');
    });
  });
});
