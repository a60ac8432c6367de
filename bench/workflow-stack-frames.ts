/**
 * `npx tsx bench/workflow-stack-frames.ts`: what WORKER_WORKFLOW_STACK_FRAMES saves the workflow sandbox.
 * No server: a recorded history (test/fixtures/histories) is replayed `--histories` times per block with
 * Worker.runReplayHistories, which runs the same reusable V8 context, promise hook and source map look-ups
 * as a live worker, in this thread. Each setting gets a block in turn, `--rounds` times, so drift on a
 * shared machine falls on every setting alike.
 *
 *   npx tsx bench/workflow-stack-frames.ts -- [--histories 150] [--rounds 3] [--frames 10,3,0]
 *   [--history wonder-sync.verifyContactChange.marker.json]
 *
 * Prints, per setting, the median over rounds of this thread's busy time, the process's CPU, and the time
 * spent inside the SDK's promise hook (sampled by V8's profiler, on in every block alike), per replayed
 * history, and their ratio to the first setting (the baseline: 10 is V8's own default, the SDK's capture
 * as it was before the setting; 3 is the setting's default). Replay loads the workflow modules afresh
 * for each history, which a live worker does once per cached flow, so the hook's share here is smaller
 * than on a live worker; the hook's own time is the figure that carries over.
 */
import { readFileSync } from 'node:fs';
import { Session, type Profiler } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from '@temporalio/worker';
import { buildWorkflowBundle, withWorkflowStackFrames } from '../worker/run.js';
import { installRuntime } from '../worker/runtime.js';
import { percentile } from './stats.js';

const { values } = parseArgs({
  options: {
    histories: { type: 'string', default: '150' },
    rounds: { type: 'string', default: '3' },
    frames: { type: 'string', default: '10,3,0' },
    history: { type: 'string', default: 'wonder-sync.verifyContactChange.marker.json' },
  },
});
const histories = Number(values.histories);
const rounds = Number(values.rounds);
const settings = values.frames.split(',').map(Number);

// A history whose commands do not name its workflow id (no webhook child), so any id replays it.
const recorded = JSON.parse(
  readFileSync(new URL(`../test/fixtures/histories/${values.history}`, import.meta.url), 'utf8'),
);
installRuntime({ logLevel: 'WARN' });
const bundle = await buildWorkflowBundle();
const bundles = new Map(
  await Promise.all(
    settings.map(async (frames) => [frames, await withWorkflowStackFrames(bundle, frames)] as const),
  ),
);

interface Block {
  busyMs: number;
  cpuMs: number;
  hookMs: number;
}

const profiler = new Session();
profiler.connect();
await profiler.post('Profiler.enable');
await profiler.post('Profiler.setSamplingInterval', { interval: 200 });

/** Microseconds sampled inside the SDK's promise hook `init` (vm-shared.js), its callees included. */
function hookMicros(profile: Profiler.Profile): number {
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const isHook = (id: number) => {
    const { functionName, url } = nodes.get(id)!.callFrame;
    return functionName === 'init' && url.endsWith('/worker/lib/workflow/vm-shared.js');
  };
  const inHook = new Map<number, boolean>();
  const within = (id: number): boolean => {
    let known = inHook.get(id);
    if (known === undefined) {
      const parent = parents.get(id);
      known = isHook(id) || (parent !== undefined && within(parent));
      inHook.set(id, known);
    }
    return known;
  };
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  return samples.reduce((sum, id, i) => sum + (within(id) ? (deltas[i] ?? 0) : 0), 0);
}

async function replayBlock(frames: number): Promise<Block> {
  const batch = Array.from({ length: histories }, (_, i) => ({
    workflowId: `stack-frames-${i}`,
    history: recorded,
  }));
  await profiler.post('Profiler.start');
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundles.get(frames)! }, batch)) {
    if (result.error) throw result.error;
  }
  const used = process.cpuUsage(cpu);
  const busy = performance.eventLoopUtilization(elu).active;
  const { profile } = await profiler.post('Profiler.stop');
  return {
    busyMs: busy / histories,
    cpuMs: (used.user + used.system) / 1000 / histories,
    hookMs: hookMicros(profile) / 1000 / histories,
  };
}

// The first block of a process pays for JIT warm-up and module loading: measured, not counted.
await replayBlock(settings[0]!);
const blocks = new Map(settings.map((frames) => [frames, [] as Block[]]));
for (let round = 0; round < rounds; round++) {
  for (const frames of settings) blocks.get(frames)!.push(await replayBlock(frames));
}

const median = (samples: number[]) =>
  percentile(
    [...samples].sort((a, b) => a - b),
    50,
  );
const summary = settings.map((frames) => {
  const measured = blocks.get(frames)!;
  return {
    frames,
    busyMs: median(measured.map((b) => b.busyMs)),
    cpuMs: median(measured.map((b) => b.cpuMs)),
    hookMs: median(measured.map((b) => b.hookMs)),
  };
});
const baseline = summary[0]!;
console.log(
  `${histories} replays of ${values.history} (${recorded.events.length} events) per block, ${rounds} rounds, medians`,
);
const columns = [
  ['thread busy', 'busyMs'],
  ['process CPU', 'cpuMs'],
  ['promise hook', 'hookMs'],
] as const;
console.log(['frames', ...columns.map(([title]) => `${title} ms/history  ratio`)].join('  '));
for (const row of summary) {
  const cells = columns.map(([title, key]) => {
    const ms = row[key].toFixed(2).padStart(`${title} ms/history`.length);
    return `${ms}  ${(row[key] / baseline[key]).toFixed(2).padStart(5)}`;
  });
  console.log([String(row.frames).padStart(6), ...cells].join('  '));
}
profiler.disconnect();
