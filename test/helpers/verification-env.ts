/**
 * A worker running the real verification workflow and the real DWS activities against the provider
 * sandbox, on whichever real Temporal server the test picked.
 */
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import got from 'got';
import { sandboxDwsConfig } from '../../activities/dws/config.js';
import { sandboxWonderConfig } from '../../activities/wonder/config.js';
import { createActivities } from '../../worker/run.js';
import { startSandbox, type RunningSandbox } from '../../sandbox/server.js';
import { verificationWorkflowId } from '../../workflows/ids.js';
import { stateQuery } from '../../workflows/messages.js';
import type { VerificationInput, VerificationState, VerificationStep } from '../../workflows/types.js';
import { verifyContactChange } from '../../workflows/verification.js';
import { devServer, uniqueName, workflowBundle } from './temporal.js';

export const verificationWorkflows = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

export interface SandboxCustomer {
  customerId: string;
  email: string;
  mobileNoInfo: { countryCode: string; phoneNo: string };
  challengeType: 'sms' | 'PAYMENT_PASSWORD';
  pin?: string;
  riskyPhoneChange?: boolean;
}

export class SandboxControl {
  constructor(readonly url: string) {}

  async addCustomer(overrides: Partial<SandboxCustomer> = {}): Promise<SandboxCustomer> {
    const customer: SandboxCustomer = {
      customerId: `2188${String(randomInt(1e9)).padStart(9, '0')}${String(randomInt(1e6)).padStart(6, '0')}`,
      email: 'old@example.com',
      mobileNoInfo: { countryCode: '65', phoneNo: '81234567' },
      challengeType: 'sms',
      ...overrides,
    };
    await got.post(`${this.url}/sandbox/customers`, { json: customer });
    return customer;
  }

  async customer(
    customerId: string,
  ): Promise<{ email?: string; mobileNoInfo?: { countryCode: string; phoneNo: string } }> {
    return got(`${this.url}/sandbox/customers/${customerId}`).json();
  }

  /** The newest code the simulated SMS gateway delivered for this customer. */
  async latestOtp(customerId: string): Promise<string> {
    const messages = await got(`${this.url}/sandbox/outbox`, { searchParams: { customerId } }).json<
      Array<{ code: string }> | { messages: Array<{ code: string }> }
    >();
    const list = Array.isArray(messages) ? messages : messages.messages;
    const code = list[0]?.code;
    if (!code) throw new Error(`no OTP in the sandbox outbox for ${customerId}`);
    return code;
  }

  async outboxCount(customerId: string): Promise<number> {
    const messages = await got(`${this.url}/sandbox/outbox`, { searchParams: { customerId } }).json<
      Array<unknown> | { messages: Array<unknown> }
    >();
    return (Array.isArray(messages) ? messages : messages.messages).length;
  }

  async appliedCount(customerId: string): Promise<number> {
    const ledger = await got(`${this.url}/sandbox/ledger`).json<Record<string, { count: number }>>();
    return ledger[customerId]?.count ?? 0;
  }

  async faults(settings: Record<string, unknown>): Promise<void> {
    await got.post(`${this.url}/sandbox/faults`, { json: settings });
  }

  async requests(): Promise<
    Array<{ api: string; requestId?: string; resultCode?: string; resultStatus?: string; fault?: string }>
  > {
    const log = await got(`${this.url}/sandbox/requests`).json<unknown>();
    return (Array.isArray(log) ? log : (log as { requests: [] }).requests) as [];
  }
}

export interface VerificationRig {
  env: TestWorkflowEnvironment;
  sandbox: RunningSandbox;
  control: SandboxControl;
  taskQueue: string;
  start(input: VerificationInput): Promise<WorkflowHandle<typeof verifyContactChange>>;
}

export async function startVerificationSandbox(): Promise<RunningSandbox> {
  return startSandbox();
}

export async function createVerificationWorker(
  env: TestWorkflowEnvironment,
  sandboxUrl: string,
  taskQueue: string,
) {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(verificationWorkflows),
    activities: createActivities({
      dws: sandboxDwsConfig(sandboxUrl),
      wonder: sandboxWonderConfig(sandboxUrl),
    }),
  });
}

/** Runs fn with a worker polling a fresh task queue; the sandbox is shared by the test file. */
export async function withVerificationWorker<T>(
  env: TestWorkflowEnvironment,
  sandbox: RunningSandbox,
  fn: (rig: VerificationRig) => Promise<T>,
): Promise<T> {
  const taskQueue = uniqueName('verify');
  const worker = await createVerificationWorker(env, sandbox.url, taskQueue);
  const rig: VerificationRig = {
    env,
    sandbox,
    control: new SandboxControl(sandbox.url),
    taskQueue,
    start: (input) =>
      env.client.workflow.start(verifyContactChange, {
        args: [input],
        taskQueue,
        workflowId: verificationWorkflowId(input.customerId),
      }),
  };
  return worker.runUntil(fn(rig));
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
