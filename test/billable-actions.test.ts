import assert from 'node:assert/strict';
import type { temporal } from '@temporalio/proto';
import {
  countActions,
  type JourneyActions,
  journeyWebhookEndpoints,
  runJourneys,
  startAcceptingReceiver,
} from '../bench/billable-actions.js';
import { parseWebhookEndpoints } from '../activities/webhooks/config.js';
import { withVerificationWorker, verificationStack } from './helpers/verification-env.js';

type Event = temporal.api.history.v1.IHistoryEvent;

describe('billable actions (Temporal Cloud) per journey', function () {
  it('counts by the rules of the Actions page', function () {
    const events = [
      { workflowExecutionStartedEventAttributes: {} },
      { workflowExecutionUpdateAcceptedEventAttributes: {} },
      // Two local activities in one workflow task are one action; a third in another task is one more.
      {
        markerRecordedEventAttributes: { markerName: 'core_local_activity', workflowTaskCompletedEventId: 4 },
      },
      {
        markerRecordedEventAttributes: { markerName: 'core_local_activity', workflowTaskCompletedEventId: 4 },
      },
      {
        markerRecordedEventAttributes: { markerName: 'core_local_activity', workflowTaskCompletedEventId: 9 },
      },
      // A patch marker is no local activity, and its TemporalChangeVersion upsert is exempt.
      { markerRecordedEventAttributes: { markerName: 'core_patch', workflowTaskCompletedEventId: 4 } },
      {
        upsertWorkflowSearchAttributesEventAttributes: {
          searchAttributes: { indexedFields: { TemporalChangeVersion: {} } },
        },
      },
      {
        upsertWorkflowSearchAttributesEventAttributes: {
          searchAttributes: { indexedFields: { VerificationStep: {} } },
        },
      },
      // The third attempt of an activity: three actions.
      { activityTaskStartedEventAttributes: { attempt: 3 } },
      { timerStartedEventAttributes: {} },
      { workflowExecutionSignaledEventAttributes: {} },
    ];
    // Event ids are Longs in the SDK's types; a plain number is what the counter reads the same way.
    const counted = countActions(
      'synthetic',
      { events: events as unknown as Event[] },
      { queries: 2, updates: 3 },
    );
    assert.deepEqual(counted.byCategory, {
      'workflow started': 1,
      'search-attribute upsert': 1,
      activity: 3,
      'local activity': 2,
      timer: 1,
      signal: 1,
      query: 2,
      // 3 sent, 1 accepted: the two rejected ones are billed as well.
      update: 3,
    });
    assert.equal(counted.total, 14);
  });

  describe('the documented HTTP journeys on the dev server', function () {
    const stack = verificationStack();
    let without: JourneyActions[] | undefined;

    it('a successful email change costs at most 9; the phone change with risk and a wrong code beside it', async function () {
      await withVerificationWorker(stack.env, stack.sandbox, async ({ control, taskQueue }) => {
        const journeys = await runJourneys({ client: stack.env.client, taskQueue, control });
        without = journeys;
        for (const { total, journey, byCategory } of journeys) {
          const categories = Object.entries(byCategory).filter(([, n]) => n > 0);
          console.log(
            `      ${total} actions: ${journey} (${categories.map(([c, n]) => `${c} ${n}`).join(', ')})`,
          );
        }
        const email = journeys.find((j) => j.journey.startsWith('email change: start'));
        assert.ok(email, 'the email journey ran');
        // The start, the two updates, the two upserts, the code's timer, the modify, and two workflow
        // tasks with local activities: the first (endpoint look-up, consult, trigger) and the code's (verify).
        assert.ok(
          email.total <= 9,
          `the email journey costs ${email.total} actions: ${JSON.stringify(email)}`,
        );
        assert.equal(email.byCategory['workflow started'], 1);
        assert.equal(email.byCategory.activity, 1, 'the modify; the consult answered in its local seconds');
        assert.equal(
          email.byCategory['local activity'],
          2,
          'the first workflow task (endpoint look-up, consult, trigger) and the code’s (verify); none at the finish',
        );
        assert.equal(email.byCategory.query, 0, 'nothing polls the state');
        assert.equal(email.byCategory.update, 2, 'the start and the code, each answered in its own call');
        assert.equal(email.byCategory['search-attribute upsert'], 2, 'waiting for input, and the outcome');
        const polling = journeys.find((j) => j.journey.includes('poll'));
        assert.ok(polling && polling.byCategory.query > 0 && polling.total > email.total);
      });
    });

    it('with a webhook endpoint the email change costs 4 more: the events at the finish, the delivery’s start, one attempt per event', async function () {
      const receiver = await startAcceptingReceiver();
      const webhooks = {
        endpoints: parseWebhookEndpoints(journeyWebhookEndpoints(receiver.url), 'the bench endpoint'),
        retryHours: 72,
        timeoutSeconds: 5,
      };
      try {
        const withWebhooks = await withVerificationWorker(
          stack.env,
          stack.sandbox,
          ({ control, taskQueue }) =>
            runJourneys({ client: stack.env.client, taskQueue, control, label: 'with one webhook endpoint' }),
          { webhooks },
        );
        // The same journeys without an endpoint, counted by the test before.
        assert.ok(without, 'the journeys without webhooks ran first');
        for (const { total, journey } of withWebhooks) console.log(`      ${total} actions: ${journey}`);
        const email = (list: JourneyActions[]) =>
          list.find((j) => j.journey.startsWith('email change: start'))!;
        assert.equal(email(withWebhooks).total, email(without).total + 4);
        assert.equal(
          email(withWebhooks).byCategory['local activity'],
          email(without).byCategory['local activity'] + 1,
          'the events prepared at the finish, for a caller the start found an endpoint for',
        );
        assert.equal(
          email(withWebhooks).byCategory['workflow started'],
          2,
          'the verification and its delivery',
        );
        assert.equal(email(withWebhooks).byCategory.activity, email(without).byCategory.activity + 2);
      } finally {
        await receiver.close();
      }
    });
  });
});
