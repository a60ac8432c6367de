import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import { verificationWorkflows } from '../helpers/verification-env.js';
import { workflowBundle } from '../helpers/temporal.js';

// Histories recorded from earlier versions of the workflow (scripts/record-history.ts): the current code
// must replay each one command for command, or running flows would break on deploy.
const folder = new URL('../fixtures/histories/', import.meta.url);
const histories = readdirSync(folder).filter((file) => file.endsWith('.json'));

describe('workflow determinism', function () {
  it('has recorded histories to replay', function () {
    assert.ok(histories.length > 0);
  });

  for (const file of histories) {
    it(`replays ${file} with the current code`, async function () {
      const history = JSON.parse(readFileSync(new URL(file, folder), 'utf8'));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle(verificationWorkflows) }, history);
    });
  }

  it('notices a history the code would not produce', async function () {
    const history = JSON.parse(readFileSync(new URL(histories[0] ?? '', folder), 'utf8'));
    const scheduled = history.events.find(
      (e: { activityTaskScheduledEventAttributes?: unknown }) => e.activityTaskScheduledEventAttributes,
    );
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'somethingElse';
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle: await workflowBundle(verificationWorkflows) }, history),
      /[Nn]ondetermin/,
    );
  });
});
