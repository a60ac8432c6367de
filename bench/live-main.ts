/**
 * `npm run bench:live`: the live-traffic run (./live-traffic.ts) at a chosen size, its figures printed as
 * BENCHMARKS.md's table and written to .bench/live-<time>.json.
 *
 *   npm run bench:live -- [--journeys 100] [--users 8] [--replicas 3] [--keep]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../scripts/processes.js';
import { formatLiveTable, runLiveTraffic } from './live-traffic.js';

function count(value: string, flag: string, min: number): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) {
    process.stderr.write(`--${flag} must be a whole number of at least ${min}, not ${value}\n`);
    process.exit(2);
  }
  return parsed;
}

const { values } = parseArgs({
  options: {
    journeys: { type: 'string', default: '100' },
    users: { type: 'string', default: '8' },
    replicas: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
});
const workDir = mkdtempSync(join(tmpdir(), 'dws-live-'));
const started = Date.now();
const result = await runLiveTraffic({
  workDir,
  journeysPerPhase: count(values.journeys, 'journeys', 1),
  users: count(values.users, 'users', 1),
  replicas: count(values.replicas, 'replicas', 2),
});
console.log(
  `\nLive traffic: ${result.users} users through ${result.replicas} HTTP replicas behind HAProxy, Temporal hosts ${result.hosts.join(', ')}; bound ${result.boundSeconds} s; ${Math.round((Date.now() - started) / 1000)} s in all\n`,
);
console.log(formatLiveTable(result));
for (const phase of result.phases) {
  if (phase.errors.length) console.log(`  ${phase.phase} errors: ${phase.errors.join(' | ')}`);
  for (const [what, count] of Object.entries(phase.unavailable)) {
    console.log(`  ${phase.phase}: ${count} × ${what}`);
  }
}
const folder = join(projectRoot, '.bench');
mkdirSync(folder, { recursive: true });
const file = join(folder, `live-${new Date().toISOString().replaceAll(':', '-')}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`\nwritten to ${file}`);
if (values.keep) console.log(`logs and cluster state kept in ${workDir}`);
else rmSync(workDir, { recursive: true, force: true });
