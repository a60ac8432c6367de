/**
 * `npm run bench:tracing`: what tracing costs the journey the user feels. One Temporal dev server, one
 * Jaeger; the embedded default (sandbox, worker, HTTP service in one process) is started with tracing off,
 * then on (OTLP to Jaeger, every span sampled), alternately, `--rounds` times each, so drift on a shared
 * machine falls on both sides alike. Each block runs `--journeys` HTTP journeys one after another: start
 * (answered once the code is on its way), the right code (answered with the verdict), the outcome.
 *
 *   npm run bench:tracing -- [--journeys 40] [--rounds 2]
 *
 * Prints medians and 95th percentiles per step and the on/off ratios, for BENCHMARKS.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import got from 'got';
import { devHttpToken } from '../http/config.js';
import { SandboxControlClient } from '../sandbox/control-client.js';
import { startDevServer } from '../scripts/dev-server.js';
import { startEmbedded } from '../scripts/embedded.js';
import { startJaeger } from '../scripts/jaeger.js';
import { freePort } from '../scripts/processes.js';
import { verificationSearchAttributes } from '../workflows/search-attributes.js';
import { percentile } from './stats.js';

const { values } = parseArgs({
  options: { journeys: { type: 'string', default: '40' }, rounds: { type: 'string', default: '2' } },
});
const journeys = Number(values.journeys);
const rounds = Number(values.rounds);

type Step = 'start' | 'code' | 'outcome' | 'journey';
const steps: Step[] = ['start', 'code', 'outcome', 'journey'];
const samples: Record<'off' | 'on', Record<Step, number[]>> = {
  off: { start: [], code: [], outcome: [], journey: [] },
  on: { start: [], code: [], outcome: [], journey: [] },
};

const folder = mkdtempSync(join(tmpdir(), 'dws-bench-tracing-'));
const devServer = await startDevServer({
  port: await freePort(),
  uiPort: await freePort(),
  dbFile: join(folder, 'dev.sqlite'),
  searchAttributes: verificationSearchAttributes,
});
const jaeger = await startJaeger({
  ports: { ui: await freePort(), otlpHttp: await freePort(), queryGrpc: await freePort() },
});

async function block(mode: 'off' | 'on', measure: boolean): Promise<void> {
  const embedded = await startEmbedded({
    env: {
      PATH: process.env.PATH,
      TEMPORAL_ADDRESS: devServer.address,
      ...(mode === 'on'
        ? { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint, OTEL_SERVICE_NAME: 'dws-verify-bench' }
        : {}),
    },
    sandboxPort: 0,
    httpPort: 0,
    httpLogs: false,
    workerLogLevel: 'WARN',
    log: () => undefined,
  });
  try {
    const http = got.extend({
      prefixUrl: embedded.httpUrl,
      headers: { authorization: `Bearer ${devHttpToken}` },
      retry: { limit: 0 },
    });
    const control = new SandboxControlClient(embedded.sandboxUrl!);
    // A first journey warms the connection, the worker's cache and the JIT: not measured.
    for (let i = 0; i < (measure ? journeys : 0) + 1; i++) {
      const { customerId } = await control.addCustomer();
      const t0 = performance.now();
      const { verificationId } = await http
        .post('verifications', { json: { customerId, change: { email: `bench.${i}@example.com` } } })
        .json<{ verificationId: string }>();
      const t1 = performance.now();
      const code = await control.latestOtp(customerId);
      const t2 = performance.now();
      await http.post(`verifications/${verificationId}/otp`, { json: { customerId, code } }).json();
      const t3 = performance.now();
      await http.get(`verifications/${verificationId}/outcome`).json();
      const t4 = performance.now();
      if (i === 0) continue;
      const s = samples[mode];
      s.start.push(t1 - t0);
      s.code.push(t3 - t2);
      s.outcome.push(t4 - t3);
      s.journey.push(t1 - t0 + (t4 - t2));
    }
  } finally {
    await embedded.stop();
  }
}

try {
  for (let round = 0; round < rounds; round++) {
    for (const mode of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      console.log(`round ${round + 1}: tracing ${mode}, ${journeys} journeys ...`);
      await block(mode, true);
    }
  }
} finally {
  await jaeger.stop();
  await devServer.stop();
  rmSync(folder, { recursive: true, force: true });
}

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
console.log(`\n${journeys * rounds} journeys each way (${rounds} alternating blocks of ${journeys})`);
console.log('| Step | off p50 | on p50 | on/off p50 | off p95 | on p95 | on/off p95 |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const step of steps) {
  const off = samples.off[step];
  const on = samples.on[step];
  const sort = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const [o50, n50, o95, n95] = [
    percentile(sort(off), 50),
    percentile(sort(on), 50),
    percentile(sort(off), 95),
    percentile(sort(on), 95),
  ];
  console.log(
    `| ${step} | ${fmt(o50)} | ${fmt(n50)} | ${(n50 / o50).toFixed(2)} | ${fmt(o95)} | ${fmt(n95)} | ${(n95 / o95).toFixed(2)} |`,
  );
}
