import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { ConfigError } from '../config/errors.js';
import { SandboxControlClient } from '../sandbox/control-client.js';
import { defaultWorkflowStackFrames, loadWorkerConfig } from '../worker/config.js';
import { createWorker, withWorkflowStackFrames } from '../worker/run.js';
import { verificationWorkflowId } from '../workflows/ids.js';
import { verifyContactChange } from '../workflows/verification.js';
import { uniqueName, workflowBundle } from './helpers/temporal.js';
import { verificationStack, verificationWorkflows, waitForStep } from './helpers/verification-env.js';

interface EnhancedStackTrace {
  stacks: { locations: { file_path?: string; function_name?: string }[] }[];
}

interface StackTraces {
  /** what the UI's Stack Trace tab shows */
  plain: string;
  enhanced: EnhancedStackTrace;
}

// The setting is the sandbox's Error.stackTraceLimit, which the reusable V8 context freezes once the bundle
// has run: these run the project's own worker (createWorker) on a real server and read the stacks back
// through the SDK's queries, so a limit set too late, or frozen out, would show as V8's default of 10.
describe('WORKER_WORKFLOW_STACK_FRAMES: the stacks the UI shows of a waiting flow', function () {
  const stack = verificationStack();
  this.timeout(60_000);

  async function stacksOfWaitingFlow(frames: string | undefined): Promise<StackTraces> {
    const taskQueue = uniqueName('stack-frames');
    const env = {
      TEMPORAL_TASK_QUEUE: taskQueue,
      ...(frames === undefined ? {} : { WORKER_WORKFLOW_STACK_FRAMES: frames }),
    };
    const worker = await createWorker(loadWorkerConfig(env, { sandboxUrl: stack.sandbox.url }), {
      connection: stack.env.nativeConnection,
      workflowBundle: await workflowBundle(verificationWorkflows),
      dataConverter: {},
    });
    const control = new SandboxControlClient(stack.sandbox.url);
    return worker.runUntil(async () => {
      const customer = await control.addCustomer();
      const handle = await stack.env.client.workflow.start(verifyContactChange, {
        args: [{ customerId: customer.customerId, change: { email: 'new.address@example.com' } }],
        taskQueue,
        workflowId: verificationWorkflowId(customer.customerId),
      });
      await waitForStep(handle, 'AWAITING_INPUT');
      const traces = {
        plain: await handle.query<string>('__stack_trace'),
        enhanced: await handle.query<EnhancedStackTrace>('__enhanced_stack_trace'),
      };
      await handle.terminate('test over');
      return traces;
    });
  }

  const depths = ({ enhanced }: StackTraces) => enhanced.stacks.map((s) => s.locations.length);
  const waitsInTheFlow = ({ enhanced }: StackTraces) =>
    enhanced.stacks.some((s) => s.locations.some((l) => l.file_path?.endsWith('workflows/verification.ts')));

  it(`by default (${defaultWorkflowStackFrames}): where the flow waits, and no deeper than the setting`, async function () {
    const traces = await stacksOfWaitingFlow(undefined);
    assert.ok(waitsInTheFlow(traces), traces.plain);
    // The capture's first frame is the SDK's promise hook, cut before the stack is shown.
    assert.ok(Math.max(...depths(traces)) <= defaultWorkflowStackFrames - 1, traces.plain);
    // Mapped back through the bundle's source map: the prelude left its lines where they were.
    assert.match(traces.plain, /at \S+ \(.*workflows\/verification\.ts:\d+:\d+\)/);
  });

  it('at 10 (V8 default): the callers above too', async function () {
    const traces = await stacksOfWaitingFlow('10');
    assert.ok(waitsInTheFlow(traces), traces.plain);
    assert.ok(Math.max(...depths(traces)) > defaultWorkflowStackFrames - 1, traces.plain);
  });

  it('at 0: no frames at all', async function () {
    const traces = await stacksOfWaitingFlow('0');
    assert.deepEqual([...new Set(depths(traces))], [0]);
    assert.doesNotMatch(traces.plain, /\bat\b/);
  });
});

describe('WORKER_WORKFLOW_STACK_FRAMES: the setting', function () {
  const sandboxUrl = 'http://127.0.0.1:9';

  it('applies to a bundle file too (what a compiled worker loads), which still replays', async function () {
    this.timeout(60_000);
    const folder = mkdtempSync(join(tmpdir(), 'stack-frames-'));
    try {
      const codePath = join(folder, 'workflow-bundle.js');
      const { code } = await workflowBundle(verificationWorkflows);
      writeFileSync(codePath, code);
      const prefixed = await withWorkflowStackFrames({ codePath }, 0);
      assert.ok('code' in prefixed && prefixed.code === `Error.stackTraceLimit = 0;${code}`);
      const history = JSON.parse(
        readFileSync(
          new URL('fixtures/histories/wonder-sync.verifyContactChange.marker.json', import.meta.url),
          'utf8',
        ),
      );
      await Worker.runReplayHistory({ workflowBundle: prefixed }, history);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('takes a whole number from 0 to 100', function () {
    for (const frames of [0, 10, 100]) {
      const config = loadWorkerConfig({ WORKER_WORKFLOW_STACK_FRAMES: `${frames}` }, { sandboxUrl });
      assert.equal(config.tuning.workflowStackFrames, frames);
    }
  });

  for (const value of ['-1', '2.5', 'off', '101']) {
    it(`refuses "${value}" in one sentence naming it`, function () {
      assert.throws(
        () => loadWorkerConfig({ WORKER_WORKFLOW_STACK_FRAMES: value }, { sandboxUrl }),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.message.startsWith('WORKER_WORKFLOW_STACK_FRAMES must be a whole number from 0 to 100') &&
          !err.message.includes('\n'),
      );
    });
  }
});
