import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { workflowTracingModule } from '../../observability/temporal.js';
import { Worker } from '@temporalio/worker';
import {
  patches,
  patchPhaseDays,
  patchLives,
  type PatchId,
  type PatchLife,
  type WorkflowTypeName,
} from '../../workflows/patches.js';
import { verificationWorkflows } from '../helpers/verification-env.js';
import { workflowBundle } from '../helpers/temporal.js';

// Histories recorded from earlier versions of the workflows (scripts/record-history.ts), one or more per
// patch id and workflow type (docs/patches.md): the current code must replay each one command for
// command, or running flows would break on deploy.
const folder = new URL('../fixtures/histories/', import.meta.url);

type FixtureKind = 'before' | 'marker';

interface Fixture {
  file: string;
  patchId: string;
  workflowType: string;
  kind: string;
}

interface HistoryEvent {
  workflowExecutionStartedEventAttributes?: { workflowType: { name: string } };
  startChildWorkflowExecutionInitiatedEventAttributes?: { workflowId: string };
  markerRecordedEventAttributes?: {
    markerName: string;
    details?: Record<string, { payloads: { data: string }[] }>;
  };
}

/** `<patch id>.<workflow type>.<before|marker>[.<variant>].json` */
const fixtures: Fixture[] = readdirSync(folder)
  .filter((file) => file.endsWith('.json'))
  .map((file) => {
    const [patchId = '', workflowType = '', kind = ''] = file.split('.');
    return { file, patchId, workflowType, kind };
  });

/** The fixture a patch's phase needs: the code before it while both branches run, the marker after. */
const kindFor = (life: PatchLife): FixtureKind => (life.phase === 'active' ? 'before' : 'marker');

const history = (file: string) => JSON.parse(readFileSync(new URL(file, folder), 'utf8'));

function patchMarkers(events: HistoryEvent[]): string[] {
  return events.flatMap(({ markerRecordedEventAttributes: marker }) => {
    if (marker?.markerName !== 'core_patch') return [];
    const data = marker.details?.['patch-data']?.payloads[0]?.data ?? '';
    return [JSON.parse(Buffer.from(data, 'base64').toString('utf8')).id as string];
  });
}

const daysAfter = (day: string, days: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

describe('patch lifecycle', function () {
  for (const id of Object.values(patches)) {
    const life = patchLives[id];
    const workflowTypes = Object.keys(life.since) as WorkflowTypeName[];

    it(`${id} (${life.phase}) has a history for each workflow type that asks for it`, function () {
      assert.ok(workflowTypes.length > 0, `${id}: no workflow type asks for it`);
      for (const workflowType of workflowTypes) {
        const recorded = fixtures.filter((f) => f.patchId === id && f.workflowType === workflowType);
        assert.ok(
          recorded.some((f) => f.kind === kindFor(life)),
          `${id}: no ${kindFor(life)} history for ${workflowType} (scripts/record-history.ts, docs/patches.md)`,
        );
      }
    });

    it(`${id}: its phases last the longest flow life and the retention`, function () {
      const lastSince = Object.values(life.since).sort().at(-1) ?? '';
      assert.ok(
        life.deprecateFrom >= daysAfter(lastSince, patchPhaseDays + 1),
        `${id}: deprecated too early`,
      );
      if (life.phase === 'deprecated') {
        assert.ok(life.deprecated, `${id}: deprecated without a date`);
        assert.ok(life.deprecated.on >= life.deprecateFrom, `${id}: deprecated before ${life.deprecateFrom}`);
        assert.ok(
          life.deprecated.removeFrom >= daysAfter(life.deprecated.on, patchPhaseDays + 1),
          `${id}: removable too early`,
        );
      }
    });
  }

  for (const fixture of fixtures) {
    it(`${fixture.file} is what its name says`, function () {
      const life = patchLives[fixture.patchId as PatchId];
      assert.ok(life, `${fixture.file}: names no patch id in workflows/patches.ts`);
      assert.ok(
        fixture.workflowType in life.since,
        `${fixture.file}: ${fixture.workflowType} does not ask for ${fixture.patchId}`,
      );
      // A marker history may be recorded ahead of the deprecation; a history without the marker stops
      // replaying once the old branch is gone.
      assert.ok(
        fixture.kind === kindFor(life) || fixture.kind === 'marker',
        `${fixture.file}: ${fixture.patchId} is ${life.phase}, so its histories are ${kindFor(life)} or marker`,
      );
      const { events } = history(fixture.file) as { events: HistoryEvent[] };
      const started = events[0]?.workflowExecutionStartedEventAttributes;
      assert.equal(started?.workflowType.name, fixture.workflowType);
      assert.equal(
        patchMarkers(events).includes(fixture.patchId),
        fixture.kind === 'marker',
        `${fixture.file}: a ${fixture.kind} history ${fixture.kind === 'marker' ? 'lacks' : 'has'} the marker`,
      );
    });
  }
});

/**
 * The workflow id a history ran under, where its commands name it: a verification derives its webhook
 * delivery's id from its own (webhookDeliveryWorkflowId). Histories carry no id of their own, and a
 * replay without one runs as "fake".
 */
function recordedWorkflowId(events: HistoryEvent[]): string | undefined {
  for (const event of events) {
    const child = event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? '';
    const delivery = /^webhooks-(.+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.exec(
      child,
    );
    if (delivery) return delivery[1];
  }
  return undefined;
}

describe('workflow determinism', function () {
  for (const { file } of fixtures) {
    it(`replays ${file} with the current code`, async function () {
      const recorded = history(file);
      await Worker.runReplayHistory(
        { workflowBundle: await workflowBundle(verificationWorkflows) },
        recorded,
        recordedWorkflowId(recorded.events),
      );
    });
  }

  it('replays every history with the traced bundle too (the OpenTelemetry workflow interceptors)', async function () {
    // A worker with tracing on runs the same workflows with the interceptors bundled in: it must take
    // over any history a worker without them wrote, and emit the same commands.
    const bundle = await workflowBundle(verificationWorkflows, [workflowTracingModule]);
    const sinks = { exporter: { export: { fn: () => undefined } } };
    for (const { file } of fixtures) {
      const recorded = history(file);
      await Worker.runReplayHistory(
        { workflowBundle: bundle, sinks },
        recorded,
        recordedWorkflowId(recorded.events),
      ).catch((err: Error) => {
        throw new Error(`${file}: ${err.message}`);
      });
    }
  });

  it('notices a history the code would not produce', async function () {
    const changed = history(fixtures[0]?.file ?? '');
    const scheduled = changed.events.find(
      (e: { activityTaskScheduledEventAttributes?: unknown }) => e.activityTaskScheduledEventAttributes,
    );
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'somethingElse';
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle: await workflowBundle(verificationWorkflows) }, changed),
      /[Nn]ondetermin/,
    );
  });
});
