/**
 * Everything restarts under live traffic, and no user loses a verification: users go through the whole
 * HTTP journey through HAProxy and three HTTP replicas while every Temporal host of a multi-host cluster
 * is restarted in turn, a history host is SIGKILLed and left down, the workers are rolled from build A to
 * build B with Worker Deployments, and each HTTP replica is restarted (bench/live-traffic.ts). Each phase:
 * every journey ends MODIFIED, the provider's ledger shows each change exactly once, every answer came
 * within the service's bound, and the restarts really happened under traffic.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  formatLiveTable,
  livePhases,
  runLiveTraffic,
  type LiveTrafficResult,
} from '../../bench/live-traffic.js';

// LIVE_JOURNEYS sizes the run; 50 per phase is what the 2-core machine carries in a few minutes.
const journeysPerPhase = Number(process.env.LIVE_JOURNEYS ?? 50);

describe('live traffic while everything restarts (multi-host cluster, worker rollout, HTTP replicas)', function () {
  const workDir = mkdtempSync(join(tmpdir(), 'dws-live-test-'));
  let result: LiveTrafficResult | undefined;
  let passed = false;

  before(async function () {
    result = await runLiveTraffic({
      workDir,
      journeysPerPhase,
      users: 6,
      replicas: 3,
      log: (line) => console.log(`    ${line}`),
    });
    console.log(`\n${formatLiveTable(result)}\n`);
    for (const phase of result.phases) {
      for (const [what, count] of Object.entries(phase.unavailable)) {
        console.log(`    ${phase.phase}: ${count} × ${what}`);
      }
    }
  });

  after(function () {
    if (passed && !process.env.LIVE_KEEP) rmSync(workDir, { recursive: true, force: true });
    else console.error(`live-traffic run kept for inspection in ${workDir} (logs/, cluster/logs/)`);
  });

  for (const phase of livePhases) {
    it(`${phase}: every journey completes, none lost, none applied twice, every answer within the bound`, function () {
      const figures = result!.phases.find((p) => p.phase === phase);
      assert.ok(figures, `the run has no phase ${phase}`);
      assert.ok(
        figures.journeys >= journeysPerPhase,
        `${figures.journeys} journeys ran, fewer than ${journeysPerPhase}`,
      );
      assert.deepEqual(figures.errors, [], 'no user met an answer the app does not retry');
      assert.equal(figures.lost, 0, 'journeys lost');
      assert.equal(figures.appliedTwice, 0, 'changes applied twice by the provider');
      assert.equal(figures.outsideBound, 0, 'answers past the bound');
      assert.equal(figures.completed, figures.journeys);
      if (phase !== 'quiet') assert.ok(figures.actionSeconds > 0, 'the restarts ran during the phase');
    });
  }

  it('ran the cluster as separate hosts: frontend, history ×2, matching ×2, the internal worker', function () {
    assert.deepEqual([...result!.hosts].sort(), [
      'frontend-1',
      'history-1',
      'history-2',
      'matching-1',
      'matching-2',
      'worker-1',
    ]);
    assert.ok(!result!.hostsRunning.includes('history-2'), 'the killed history host stayed down');
    assert.equal(result!.hostsRunning.length, 5);
    passed = true;
  });
});
