/**
 * The cluster suite's one Temporal: a production-shaped cluster on a fresh database, started before the
 * first test and stopped after the last, handed to the shared helpers so the same tests that run on the
 * dev server (the HTTP end-to-end, the chaos run) run on it unchanged. Its folder (database, configs,
 * server logs) is removed after a green run and kept for inspection after a red one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'mocha';
import { startCluster, type RunningCluster } from '../../scripts/cluster/cluster.js';
import { useRunServer } from '../helpers/temporal.js';

let cluster: RunningCluster | undefined;
let stateDir: string | undefined;
let failed = false;

export function theCluster(): RunningCluster {
  if (!cluster)
    throw new Error('the cluster suite runs with test/cluster/mocharc.json (npm run test:cluster)');
  return cluster;
}

export async function mochaGlobalSetup(): Promise<void> {
  const started = Date.now();
  stateDir = mkdtempSync(join(tmpdir(), 'dws-cluster-test-'));
  cluster = await startCluster({ stateDir, log: (line) => console.log(`  ${line}`) });
  const running = cluster;
  useRunServer({
    address: running.address,
    namespace: running.namespace,
    killAndRestart: () => running.killAndRestartServer(),
  });
  console.log(
    `  Cluster ready on ${running.address} in ${Math.round((Date.now() - started) / 1000)} s (state in ${stateDir})`,
  );
}

export async function mochaGlobalTeardown(): Promise<void> {
  await cluster?.stop();
  cluster = undefined;
  if (!stateDir) return;
  if (failed || process.env.CLUSTER_KEEP)
    console.error(`  cluster state kept for inspection in ${stateDir} (logs/)`);
  else rmSync(stateDir, { recursive: true, force: true });
}

export const mochaHooks = {
  afterEach(this: Context) {
    if (this.currentTest?.state === 'failed') failed = true;
  },
};
