/**
 * What one verification costs on Temporal Cloud, in billable actions, counted by the categories of
 * Temporal's "Temporal Cloud Actions" page (https://docs.temporal.io/cloud/actions): from the run's
 * history (start, activity attempts, local activities per workflow task, timers, search-attribute
 * upserts, signals, updates) and from the client's own calls (queries and rejected updates never
 * reach history). The journeys are the app's documented HTTP journeys, run through the HTTP service.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { Client, type WorkflowClientInterceptor } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { FastifyInstance } from 'fastify';
import { buildHttpApp } from '../http/app.js';
import { VerificationClient } from '@dws-verify/client';
import type { SandboxControlClient } from '../sandbox/control-client.js';
import { verificationWorkflowId } from '../workflows/ids.js';

export const actionCategories = [
  'workflow started',
  'search-attribute upsert',
  'activity',
  'local activity',
  'timer',
  'signal',
  'query',
  'update',
] as const;
export type ActionCategory = (typeof actionCategories)[number];

export interface JourneyActions {
  journey: string;
  total: number;
  byCategory: Record<ActionCategory, number>;
}

/** The client calls that are billable but leave no event (queries) or may leave none (rejected updates). */
export class ClientCallCounter {
  queries = 0;
  updates = 0;
  signals = 0;

  readonly interceptor: WorkflowClientInterceptor = {
    query: (input, next) => {
      this.queries++;
      return next(input);
    },
    startUpdate: (input, next) => {
      this.updates++;
      return next(input);
    },
    startUpdateWithStart: (input, next) => {
      this.updates++;
      return next(input);
    },
    signal: (input, next) => {
      this.signals++;
      return next(input);
    },
  };

  reset(): void {
    this.queries = 0;
    this.updates = 0;
    this.signals = 0;
  }
}

/** Marker name SDK Core gives a local activity's result in history. */
const localActivityMarker = 'core_local_activity';
/** The patch marker's search attribute: exempt from counting, says the Actions page. */
const changeVersionAttribute = 'TemporalChangeVersion';

/** Counts one run's billable actions from its history plus the client calls made for it. */
export function countActions(
  journey: string,
  history: temporal.api.history.v1.IHistory,
  calls: Pick<ClientCallCounter, 'queries' | 'updates'>,
): JourneyActions {
  const byCategory = Object.fromEntries(actionCategories.map((c) => [c, 0])) as Record<
    ActionCategory,
    number
  >;
  const localActivityTasks = new Set<string>();
  let acceptedUpdates = 0;
  for (const event of history.events ?? []) {
    if (event.workflowExecutionStartedEventAttributes) byCategory['workflow started']++;
    // Retries write no event of their own; the started event carries the attempt that ran last.
    const started = event.activityTaskStartedEventAttributes;
    if (started) byCategory.activity += Math.max(1, started.attempt ?? 1);
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName === localActivityMarker) {
      // Every local activity of one workflow task is one action together.
      localActivityTasks.add(String(marker.workflowTaskCompletedEventId));
    }
    if (event.timerStartedEventAttributes) byCategory.timer++;
    const upsert = event.upsertWorkflowSearchAttributesEventAttributes;
    if (upsert) {
      const keys = Object.keys(upsert.searchAttributes?.indexedFields ?? {});
      if (keys.some((key) => key !== changeVersionAttribute)) byCategory['search-attribute upsert']++;
    }
    if (event.workflowExecutionSignaledEventAttributes) byCategory.signal++;
    if (event.workflowExecutionUpdateAcceptedEventAttributes) acceptedUpdates++;
  }
  byCategory['local activity'] = localActivityTasks.size;
  byCategory.query = calls.queries;
  // A rejected update is billed too and leaves no event: the client's count covers both.
  byCategory.update = Math.max(calls.updates, acceptedUpdates);
  const total = Object.values(byCategory).reduce((sum, n) => sum + n, 0);
  return { journey, total, byCategory };
}

export interface JourneyRig {
  /** any client on the server the worker polls; its connection is reused with a counting interceptor */
  client: Client;
  taskQueue: string;
  control: SandboxControlClient;
  /** said after each journey's name: what the worker was configured with (e.g. a webhook endpoint) */
  label?: string;
}

/** Two counts of one journey (the verification and the delivery it started) as one. */
export function addActions(a: JourneyActions, b: JourneyActions): JourneyActions {
  const byCategory = Object.fromEntries(
    actionCategories.map((c) => [c, a.byCategory[c] + b.byCategory[c]]),
  ) as Record<ActionCategory, number>;
  return { journey: a.journey, total: a.total + b.total, byCategory };
}

/**
 * The verification's own actions, plus those of the webhook delivery it started, if any (a child
 * workflow: its start and its activities are billed like any other), counted once it has finished.
 */
async function journeyActions(
  client: Client,
  journey: string,
  workflowId: string,
  calls: Pick<ClientCallCounter, 'queries' | 'updates'>,
): Promise<JourneyActions> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const own = countActions(journey, history, calls);
  const child = history.events?.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)
    ?.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
  if (!child) return own;
  const delivery = client.workflow.getHandle(child);
  await delivery.result();
  return addActions(own, countActions(journey, await delivery.fetchHistory(), { queries: 0, updates: 0 }));
}

/**
 * A receiver for the bench's webhook journeys: answers every delivery 204 at once (what it costs in
 * actions is the subject, not what a receiver does).
 */
export async function startAcceptingReceiver(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(204).end());
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    close: () => new Promise((closed) => server.close(() => closed())),
  };
}

/** WEBHOOK_ENDPOINTS for the journeys' caller ("default", the HTTP_AUTH_TOKENS caller) to `url`. */
export function journeyWebhookEndpoints(url: string): string {
  return `default/bench ${url} whsec_${randomBytes(32).toString('base64')}`;
}

const token = 'billable-actions-journey';
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

/**
 * The three documented journeys, each on a fresh sandbox customer: a successful email change (start,
 * one code, outcome), a phone change "with risk" (a second code to the new number, learnt by a second
 * start with ifRunning "attach"), and a wrong code then the right one.
 */
export async function runJourneys(rig: JourneyRig): Promise<JourneyActions[]> {
  const counter = new ClientCallCounter();
  const client = new Client({
    connection: rig.client.connection,
    namespace: rig.client.options.namespace,
    dataConverter: rig.client.options.dataConverter,
    interceptors: { workflow: [counter.interceptor] },
  });
  const app = await buildHttpApp({
    verifications: new VerificationClient(client, rig.taskQueue),
    authTokens: [token],
  });
  try {
    const verifications = new VerificationClient(client, rig.taskQueue);
    const journeys: Array<[string, (app: FastifyInstance) => Promise<string>]> = [
      [
        'email change, start then poll (before: the state polled for the code and the outcome)',
        () => pollingJourney(verifications, rig.control),
      ],
      ['email change: start, one code, outcome', (a) => emailJourney(a, rig.control)],
      ['phone change with risk (two codes)', (a) => riskyPhoneJourney(a, rig.control)],
      ['email change: wrong code, then the right one', (a) => wrongThenRightJourney(a, rig.control)],
    ];
    const results: JourneyActions[] = [];
    for (const [name, journey] of journeys) {
      counter.reset();
      const customerId = await journey(app);
      const label = rig.label ? `${name}, ${rig.label}` : name;
      results.push(await journeyActions(client, label, verificationWorkflowId(customerId), counter));
    }
    return results;
  } finally {
    await app.close();
  }
}

async function call<T>(app: FastifyInstance, method: 'GET' | 'POST', url: string, body?: object): Promise<T> {
  const answer = await app.inject({
    method,
    url,
    headers,
    ...(body ? { payload: body } : {}),
  });
  if (answer.statusCode >= 300)
    throw new Error(`${method} ${url} answered ${answer.statusCode}: ${answer.body}`);
  return answer.json<T>();
}

async function startAndAnswer(
  app: FastifyInstance,
  control: SandboxControlClient,
  customerId: string,
  change: object,
): Promise<string> {
  const started = await call<{ maskedDestination?: string }>(app, 'POST', '/verifications', {
    customerId,
    change,
  });
  if (!started.maskedDestination)
    throw new Error(`the start answered no challenge: ${JSON.stringify(started)}`);
  return control.latestOtp(customerId);
}

async function expectVerdict(app: FastifyInstance, customerId: string, code: string, verdict: string) {
  const answer = await call<{ verdict: string }>(
    app,
    'POST',
    `/verifications/${verificationWorkflowId(customerId)}/otp`,
    { customerId, code },
  );
  if (answer.verdict !== verdict) throw new Error(`the code was answered ${answer.verdict}, not ${verdict}`);
}

async function expectModified(app: FastifyInstance, customerId: string): Promise<string> {
  const outcome = await call<{ status: string }>(
    app,
    'GET',
    `/verifications/${verificationWorkflowId(customerId)}/outcome`,
  );
  if (outcome.status !== 'MODIFIED') throw new Error(`the verification ended ${outcome.status}`);
  return customerId;
}

async function emailJourney(app: FastifyInstance, control: SandboxControlClient): Promise<string> {
  const { customerId } = await control.addCustomer();
  const code = await startAndAnswer(app, control, customerId, { email: 'journey@example.com' });
  await expectVerdict(app, customerId, code, 'ACCEPTED');
  return expectModified(app, customerId);
}

async function riskyPhoneJourney(app: FastifyInstance, control: SandboxControlClient): Promise<string> {
  const { customerId } = await control.addCustomer({ riskyPhoneChange: true });
  const change = { mobileNoInfo: { countryCode: '65', phoneNo: '87777777' } };
  const first = await startAndAnswer(app, control, customerId, change);
  await expectVerdict(app, customerId, first, 'ACCEPTED');
  // The app asks where the next code went: the attached start answers once it is on its way.
  const second = await call<{ round?: number }>(app, 'POST', '/verifications', {
    customerId,
    change,
    ifRunning: 'attach',
  });
  if (second.round !== 2) throw new Error(`expected the second challenge, got ${JSON.stringify(second)}`);
  await expectVerdict(app, customerId, await control.latestOtp(customerId), 'ACCEPTED');
  return expectModified(app, customerId);
}

async function wrongThenRightJourney(app: FastifyInstance, control: SandboxControlClient): Promise<string> {
  const { customerId } = await control.addCustomer();
  const code = await startAndAnswer(app, control, customerId, { email: 'journey@example.com' });
  const wrong = code.replace(/\d/g, (digit) => String((Number(digit) + 1) % 10));
  await expectVerdict(app, customerId, wrong, 'INCORRECT');
  await expectVerdict(app, customerId, code, 'ACCEPTED');
  return expectModified(app, customerId);
}

/** How often the app of the old journey polled the state: what the README's example loop did. */
const pollIntervalMs = 100;

/**
 * The journey before the start answered with the challenge: start, poll the state (a query each) until
 * it names where the code went, send the code, poll the state until the flow is done.
 */
async function pollingJourney(
  verifications: VerificationClient,
  control: SandboxControlClient,
): Promise<string> {
  const { customerId } = await control.addCustomer();
  await verifications.start({ customerId, change: { email: 'journey@example.com' } }, { answer: 'started' });
  const pollUntil = async (done: (state: Awaited<ReturnType<VerificationClient['state']>>) => boolean) => {
    for (let polls = 0; polls < 300; polls++) {
      const state = await verifications.state(customerId);
      if (done(state)) return state;
      await new Promise((r) => setTimeout(r, pollIntervalMs));
    }
    throw new Error('the state never reached the awaited step');
  };
  await pollUntil((state) => state.step === 'AWAITING_INPUT' && !!state.maskedDestination);
  const verdict = await verifications.verifyOtp(customerId, await control.latestOtp(customerId));
  if (verdict.verdict !== 'ACCEPTED') throw new Error(`the code was answered ${verdict.verdict}`);
  const done = await pollUntil((state) => state.step === 'DONE');
  if (done.outcome !== 'MODIFIED') throw new Error(`the verification ended ${done.outcome}`);
  return customerId;
}
