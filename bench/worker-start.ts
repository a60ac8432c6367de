/**
 * Worker start-up, under tsx (bundling the workflows with webpack and SWC at every start) against the
 * compiled build (`npm run build`: dist/ with the prebuilt bundle), in the same run on the same dev
 * server, alternating so that neither gets a warmer machine:
 *
 *   npm run build && npx tsx bench/worker-start.ts [--rounds 5]
 *
 * Start time is from spawn to the worker's "worker started" line (connected, bundle loaded, about to
 * poll). Memory is the process's resident set once started and its peak (VmHWM) up to then.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { sandboxDwsEnv } from '../activities/dws/config.js';
import { formatKeyEntry } from '../codec/keyring.js';
import { startSandbox } from '../sandbox/server.js';
import { startDevServer } from '../scripts/dev-server.js';
import {
  freePort,
  projectRoot,
  spawnNode,
  stopProcess,
  waitForLine,
  workerStartedLine,
} from '../scripts/processes.js';
import { verificationSearchAttributes } from '../workflows/search-attributes.js';

const variants = { tsx: 'worker/main.ts', compiled: 'dist/worker/main.js' } as const;
type Variant = keyof typeof variants;

interface Sample {
  startMs: number;
  rssMb: number;
  peakRssMb: number;
}

function memoryMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
  const rounds = Number(values.rounds);
  if (!existsSync(join(projectRoot, variants.compiled))) {
    throw new Error(`${variants.compiled} is missing; run npm run build first`);
  }
  const workDir = mkdtempSync(join(tmpdir(), 'dws-worker-start-'));
  const server = await startDevServer({
    port: await freePort(),
    uiPort: await freePort(),
    dbFile: join(workDir, 'temporal.sqlite'),
    searchAttributes: verificationSearchAttributes,
    extraArgs: ['--headless'],
  });
  const sandbox = await startSandbox();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_CODEC_KEYS: formatKeyEntry('bench-1', randomBytes(32)),
    ...sandboxDwsEnv(sandbox.url, sandbox.clientId),
  };
  const samples: Record<Variant, Sample[]> = { tsx: [], compiled: [] };
  try {
    for (let round = 1; round <= rounds; round += 1) {
      // Alternating order per round, so a machine that slows down or warms up hurts both alike.
      const order: Variant[] = round % 2 ? ['tsx', 'compiled'] : ['compiled', 'tsx'];
      for (const variant of order) {
        const started = performance.now();
        const child: ChildProcess = spawnNode(variants[variant], { env });
        try {
          await waitForLine(child, workerStartedLine, { name: `the ${variant} worker`, timeoutMs: 120_000 });
          const sample = {
            startMs: performance.now() - started,
            rssMb: memoryMb(child.pid!, 'VmRSS'),
            peakRssMb: memoryMb(child.pid!, 'VmHWM'),
          };
          samples[variant].push(sample);
          console.log(
            `round ${round} ${variant.padEnd(8)} start ${sample.startMs.toFixed(0)} ms, RSS ${sample.rssMb.toFixed(0)} MB, peak ${sample.peakRssMb.toFixed(0)} MB`,
          );
        } finally {
          await stopProcess(child, { graceMs: 20_000 });
        }
      }
    }
  } finally {
    await sandbox.close();
    await server.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  const summary = (variant: Variant, key: keyof Sample) => median(samples[variant].map((s) => s[key]));
  console.log(`\nmedians of ${rounds} rounds          tsx     compiled   compiled / tsx`);
  for (const [key, label, unit] of [
    ['startMs', 'start to "worker started"', 'ms'],
    ['rssMb', 'RSS once started', 'MB'],
    ['peakRssMb', 'peak RSS up to then', 'MB'],
  ] as const) {
    const tsx = summary('tsx', key);
    const compiled = summary('compiled', key);
    console.log(
      `${label.padEnd(27)} ${`${tsx.toFixed(0)} ${unit}`.padStart(9)} ${`${compiled.toFixed(0)} ${unit}`.padStart(10)}   ${(compiled / tsx).toFixed(2)}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
