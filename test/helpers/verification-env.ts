/**
 * A worker running the real verification workflow and the real DWS activities against the provider
 * sandbox, on whichever real Temporal server the test picked.
 */
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { HistoryAndWorkflowId } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { sandboxDwsConfig } from '../../activities/dws/config.js';
import type { WebhookSettings } from '../../activities/webhooks/config.js';
import { sandboxWonderConfig } from '../../activities/wonder/config.js';
import type { SendBudget } from '../../limits/send-budget.js';
import { createActivities } from '../../worker/run.js';
import { SandboxControlClient } from '../../sandbox/control-client.js';
import { startSandbox, type RunningSandbox } from '../../sandbox/server.js';
import { verificationWorkflowId } from '../../workflows/ids.js';
import { stateQuery } from '../../workflows/messages.js';
import type { VerificationInput, VerificationState, VerificationStep } from '../../workflows/types.js';
import { verifyContactChange } from '../../workflows/verification.js';
import { devServer, uniqueName, workflowBundle } from './temporal.js';

export const verificationWorkflows = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

export interface VerificationRig {
  env: TestWorkflowEnvironment;
  sandbox: RunningSandbox;
  control: SandboxControlClient;
  taskQueue: string;
  start(input: VerificationInput): Promise<WorkflowHandle<typeof verifyContactChange>>;
}

export async function startVerificationSandbox(): Promise<RunningSandbox> {
  return startSandbox();
}

export interface VerificationWorkerOptions {
  /** where the worker counts codes sent; default: its own memory, with the default windows */
  sendBudget?: SendBudget;
  /** the callers' webhook endpoints; default none */
  webhooks?: WebhookSettings;
}

export async function createVerificationWorker(
  env: TestWorkflowEnvironment,
  sandboxUrl: string,
  taskQueue: string,
  options: VerificationWorkerOptions = {},
) {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(verificationWorkflows),
    activities: createActivities(
      {
        dws: sandboxDwsConfig(sandboxUrl),
        wonder: sandboxWonderConfig(sandboxUrl),
        ...(options.webhooks ? { webhooks: options.webhooks } : {}),
      },
      options.sendBudget,
    ),
  });
}

/** Runs fn with a worker polling a fresh task queue; the sandbox is shared by the test file. */
export async function withVerificationWorker<T>(
  env: TestWorkflowEnvironment,
  sandbox: RunningSandbox,
  fn: (rig: VerificationRig) => Promise<T>,
  options: VerificationWorkerOptions = {},
): Promise<T> {
  const taskQueue = uniqueName('verify');
  const worker = await createVerificationWorker(env, sandbox.url, taskQueue, options);
  const rig: VerificationRig = {
    env,
    sandbox,
    control: new SandboxControlClient(sandbox.url),
    taskQueue,
    start: (input) =>
      env.client.workflow.start(verifyContactChange, {
        args: [input],
        taskQueue,
        workflowId: verificationWorkflowId(input.customerId),
      }),
  };
  const result = await worker.runUntil(fn(rig));
  await replayAsRun(env, taskQueue);
  return result;
}

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

type Marker = NonNullable<NonNullable<History['events']>[number]['markerRecordedEventAttributes']>;

/** What sdk-core writes into a patch marker: the id, and whether deprecatePatch() wrote it. */
function patchOf(marker: Marker): { id?: string; deprecated?: boolean } {
  const data = marker.details?.['patch-data']?.payloads?.[0]?.data;
  return data
    ? (JSON.parse(Buffer.from(data).toString('utf8')) as { id?: string; deprecated?: boolean })
    : {};
}

/**
 * Every flow the test ran on its task queue, replayed from its history with the bundle its worker ran: a
 * replay that takes another path than its run (a nondeterminism error) fails the test that made the
 * history, where in production it would hold the flow after a worker restart or a cache eviction. And no
 * patch may be asked after a local activity (workflows/patch-asks.ts): its replay depends on where a
 * query or a heartbeat happened to end the workflow task, so the rule is checked on every history, not
 * left to that timing. Flows the server's visibility does not list yet are left out, never failed.
 */
async function replayAsRun(env: TestWorkflowEnvironment, taskQueue: string): Promise<void> {
  // The time-skipping test server keeps no visibility to list a task queue's flows by.
  if (env.supportsTimeSkipping) return;
  const histories: HistoryAndWorkflowId[] = [];
  for await (const one of env.client.workflow.list({ query: `TaskQueue = "${taskQueue}"` }).intoHistories())
    histories.push(one);
  const failed = histories.flatMap(({ workflowId, history }) => {
    const markers = ((history as History).events ?? []).flatMap((e) => e.markerRecordedEventAttributes ?? []);
    const firstLocal = markers.findIndex((m) => m.markerName === 'core_local_activity');
    if (firstLocal < 0) return [];
    // A deprecated patch's marker is skipped by a replay that does not ask for it: only the others count.
    return markers
      .slice(firstLocal + 1)
      .filter((m) => m.markerName === 'core_patch')
      .map(patchOf)
      .filter((patch) => !patch.deprecated)
      .map((patch) => `${workflowId}: ${patch.id} asked after a local activity`);
  });
  const replays = Worker.runReplayHistories(
    { workflowBundle: await workflowBundle(verificationWorkflows) },
    histories,
  );
  for await (const { workflowId, error } of replays) {
    if (error) failed.push(`${workflowId}: ${error.message}`);
  }
  if (failed.length > 0) throw new Error(`replayed otherwise than it ran:\n${failed.join('\n')}`);
}

/** Polls the state query until the flow reaches the step (bounded; these are real servers). */
export async function waitForStep(
  handle: WorkflowHandle,
  step: VerificationStep,
  predicate: (state: VerificationState) => boolean = () => true,
): Promise<VerificationState> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const state = await handle.query(stateQuery);
    if (state.step === step && predicate(state)) return state;
    if (state.step === 'DONE' && step !== 'DONE') {
      throw new Error(
        `flow finished (${state.outcome}) while waiting for ${step}: ${JSON.stringify(state.timeline)}`,
      );
    }
    if (Date.now() > deadline) throw new Error(`flow never reached ${step}; it is at ${state.step}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Mocha hooks for a test file (or describe block): the run's shared Temporal server and a sandbox of its
 * own, closed after the block. Read `stack.env` and `stack.sandbox` inside the tests.
 */
export function verificationStack(server: () => Promise<TestWorkflowEnvironment> = devServer) {
  const stack = {} as { env: TestWorkflowEnvironment; sandbox: RunningSandbox };
  before(async function () {
    stack.env = await server();
    stack.sandbox = await startVerificationSandbox();
  });
  after(async () => stack.sandbox?.close());
  return stack;
}
