/**
 * `npm run test:observability`: the embedded default (`npm start`: dev server, sandbox, worker, HTTP
 * service) with tracing on, exporting by OTLP to a real Jaeger started here (built once per machine from
 * the Go module proxy, scripts/jaeger.ts). One HTTP journey (start, a wrong code, the right code, the
 * outcome) is then found in Jaeger through its query API by the verification id: one trace per request,
 * each with its spans in the right parent/child order down to the provider calls, and no code, contact
 * or token in any span. The shipped Prometheus rules pass `promtool check rules` and their unit tests.
 */
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import got from 'got';
import { devHttpToken } from '../../http/config.js';
import { currentTracing } from '../../observability/tracing.js';
import { SandboxControlClient } from '../../sandbox/control-client.js';
import { launchChromium } from '../../scripts/browser.js';
import { debianToolPath } from '../../scripts/debian-tool.js';
import { startEmbedded, type Embedded } from '../../scripts/embedded.js';
import { startJaeger, type RunningJaeger } from '../../scripts/jaeger.js';
import {
  freePort,
  projectRoot,
  spawnNode,
  stopProcess,
  waitForLine,
  workerStartedLine,
} from '../../scripts/processes.js';
import { sandboxDwsEnv } from '../../activities/dws/config.js';
import { formatKeyEntry } from '../../codec/keyring.js';
import { startSandbox } from '../../sandbox/server.js';
import { startDevServer } from '../../scripts/dev-server.js';
import { verificationSearchAttributes } from '../../workflows/search-attributes.js';

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: Array<{ refType: string; spanID: string }>;
  tags: Array<{ key: string; value: unknown }>;
  logs: unknown[];
  processID: string;
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: unknown[] }>;
}

const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;

function parentOf(span: JaegerSpan): string | undefined {
  return span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
}

/** The span's ancestors' names, nearest first, starting with its own. */
function chain(span: JaegerSpan, trace: JaegerTrace): string[] {
  const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
  const names = [span.operationName];
  for (let at = byId.get(parentOf(span) ?? ''); at; at = byId.get(parentOf(at) ?? '')) {
    names.push(at.operationName);
  }
  return names;
}

describe('traces in Jaeger, end to end', function () {
  let jaeger: RunningJaeger;
  let embedded: Embedded;
  let folder: string;
  /** the journey's verification id and the trace of its accepted code, for the browser test */
  let journey: { verificationId: string; codeTrace: string } | undefined;

  before(async function () {
    // A first run on a machine builds Jaeger (about 8 minutes); later runs find it cached.
    this.timeout(20 * 60_000);
    const [ui, otlpHttp, queryGrpc] = [await freePort(), await freePort(), await freePort()];
    jaeger = await startJaeger({
      ports: { ui, otlpHttp, queryGrpc },
      log: (line) => console.log(`  ${line}`),
    });
    folder = mkdtempSync(join(tmpdir(), 'dws-observability-'));
    embedded = await startEmbedded({
      env: {
        PATH: process.env.PATH,
        OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
        OTEL_SERVICE_NAME: 'dws-verify',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
      temporalPort: 0,
      uiPort: 0,
      sandboxPort: 0,
      httpPort: 0,
      dbFile: join(folder, 'dev-server.sqlite'),
      httpLogs: false,
      workerLogLevel: 'WARN',
      log: () => undefined,
    });
  });

  after(async function () {
    this.timeout(60_000);
    await embedded?.stop();
    await jaeger?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('finds one journey by its verification id: one trace per request, down to the provider calls, no secrets', async function () {
    const tracing = currentTracing();
    assert.ok(tracing.enabled, 'the embedded default started tracing from OTEL_EXPORTER_OTLP_ENDPOINT');
    const http = got.extend({
      prefixUrl: embedded.httpUrl,
      headers: { authorization: `Bearer ${devHttpToken}` },
      retry: { limit: 0 },
      throwHttpErrors: false,
    });
    const control = new SandboxControlClient(embedded.sandboxUrl!);
    const oldEmail = `old.${randomBytes(4).toString('hex')}@example.com`;
    const newEmail = `new.${randomBytes(4).toString('hex')}@example.com`;
    const customer = await control.addCustomer({ email: oldEmail });
    const started = await http.post('verifications', {
      json: { customerId: customer.customerId, change: { email: newEmail } },
    });
    assert.equal(started.statusCode, 201, started.body);
    const { verificationId } = JSON.parse(started.body) as { verificationId: string };
    const code = await control.latestOtp(customer.customerId);
    const wrong = String((Number(code) + 1 + Math.floor(Math.random() * 999_998)) % 1_000_000).padStart(
      6,
      '0',
    );
    const otp = (sent: string) =>
      http.post(`verifications/${verificationId}/otp`, {
        json: { customerId: customer.customerId, code: sent },
      });
    assert.match((await otp(wrong)).body, /INCORRECT/);
    assert.match((await otp(code)).body, /ACCEPTED/);
    assert.match((await http.get(`verifications/${verificationId}/outcome`)).body, /MODIFIED/);
    await tracing.flush();

    const query = got.extend({ prefixUrl: `${jaeger.uiUrl}/api`, retry: { limit: 0 } });
    const tags = JSON.stringify({ 'verification.id': verificationId });
    // Jaeger's batch stores within a moment of receiving: ask until the four requests are there.
    let traces: JaegerTrace[] = [];
    for (let tries = 0; tries < 150; tries++) {
      traces = (
        await query
          .get('traces', {
            searchParams: { service: 'dws-verify', tags, lookback: '1h', limit: 100 },
          })
          .json<{ data: JaegerTrace[] }>()
      ).data;
      const complete = traces.filter((t) => t.spans.some((s) => s.operationName.includes('DWS')));
      if (traces.length >= 4 && complete.length >= 3) break;
      await new Promise((r) => setTimeout(r, 200));
    }

    // The PII scan over what Jaeger stored: every span's name, tags and logs, and the process tags (ids
    // and times are numbers and hex, where a 6-digit code could appear by chance).
    const forbidden = [code, wrong, newEmail, oldEmail, devHttpToken, embedded.httpToken].filter(Boolean);
    const said = traces.flatMap((trace) => [
      ...trace.spans.map((s) => JSON.stringify([s.operationName, s.tags, s.logs])),
      JSON.stringify(trace.processes),
    ]);
    for (const text of said) {
      for (const value of forbidden)
        assert.ok(!text.includes(`${value}`), `a span holds "${value}": ${text}`);
    }

    const roots = traces.map((trace) => {
      const ids = new Set(trace.spans.map((s) => s.spanID));
      const tops = trace.spans.filter((s) => !ids.has(parentOf(s) ?? ''));
      assert.equal(tops.length, 1, `one root per trace: ${tops.map((s) => s.operationName).join(', ')}`);
      return { trace, root: tops[0]! };
    });
    const byStep = (step: string) => roots.filter(({ root }) => tag(root, 'verification.step') === step);
    const found = roots.map(
      ({ root, trace }) =>
        `${root.operationName} [${String(tag(root, 'verification.step'))}] ${trace.spans.length} spans`,
    );
    assert.equal(byStep('startVerification').length, 1, found.join('\n'));
    assert.equal(byStep('submitCode').length, 2);
    assert.equal(byStep('getVerificationOutcome').length, 1);

    const start = byStep('startVerification')[0]!;
    assert.equal(start.root.operationName, 'POST /verifications');
    for (const api of ['modifyCustomer', 'triggerChallenge']) {
      const call = start.trace.spans.find(
        (s) => s.operationName.startsWith('DWS POST') && s.operationName.endsWith(api),
      );
      assert.ok(call, `the start's trace has DWS ${api}`);
      const names = chain(call, start.trace);
      assert.deepEqual(
        names.map((name) => name.split(':')[0]),
        [
          call.operationName,
          'RunActivity',
          'StartActivity',
          'RunWorkflow',
          'UpdateWithStartWorkflow',
          'POST /verifications',
        ],
        names.join(' <- '),
      );
    }
    journey = { verificationId, codeTrace: byStep('submitCode')[0]!.trace.traceID };
    for (const submit of byStep('submitCode')) {
      const call = submit.trace.spans.find(
        (s) => s.operationName.endsWith('verifyAndResume') && s.operationName.startsWith('DWS'),
      );
      assert.ok(
        call,
        `the code's trace has DWS verifyAndResume: ${submit.trace.spans.map((s) => s.operationName).join(', ')}`,
      );
      assert.deepEqual(chain(call, submit.trace), [
        'DWS POST /ams/api/v1/security/verifyAndResume',
        'RunActivity:verifyAndResume',
        'StartActivity:verifyAndResume',
        'HandleUpdate:verifyOtp',
        'StartWorkflowUpdate:verifyOtp',
        'POST /verifications/:id/otp',
      ]);
      const activity = submit.trace.spans.find((s) => s.operationName === 'RunActivity:verifyAndResume')!;
      assert.equal(tag(activity, 'verification.id'), verificationId);
      assert.equal(tag(activity, 'provider.name'), 'DWS');
      assert.ok(tag(activity, 'provider.result_status'), 'the result status is on the activity span');
    }
  });

  it("shows the journey in a real browser, from Jaeger's own query service", async function () {
    assert.ok(journey, 'the journey above ran');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const url = `${jaeger.uiUrl}/?q=${encodeURIComponent(journey.verificationId)}&trace=${journey.codeTrace}`;
      await page.goto(url);
      await page.getByText('DWS POST /ams/api/v1/security/verifyAndResume').waitFor();
      assert.match(await page.locator('#status').innerText(), /^4 requests of contact-change-/);
      // The activity's attributes, opened as an operator would.
      await page.getByText('RunActivity:verifyAndResume').click();
      const attributes = await page.locator('.span.open + .tags').innerText();
      assert.match(attributes, new RegExp(`verification.id = ${journey.verificationId}`));
      assert.match(attributes, /provider\.result_status = [SFU]\n/);
      const shot = process.env.OBSERVABILITY_SCREENSHOT;
      if (shot) await page.screenshot({ path: resolve(shot), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it('carries one trace from the HTTP service process through Temporal to the worker process', async function () {
    this.timeout(180_000);
    // Production's shape: `npm run http` and `npm run worker` as processes of their own, each exporting
    // under its own service name; the start's trace holds spans of both.
    const server = await startDevServer({
      port: await freePort(),
      uiPort: await freePort(),
      dbFile: join(folder, 'processes.sqlite'),
      searchAttributes: verificationSearchAttributes,
    });
    const sandbox = await startSandbox({ port: 0 });
    const [httpPort, httpMetricsPort, workerMetricsPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    // One failed attempt of an activity and of a local activity, so their failure counters exist. The
    // consult is the first modifyCustomer call and runs locally: it is only slowed, so the 500 is the
    // modify's, which is an activity.
    sandbox.faults.update({
      slowMs: 1,
      failNext: [
        { api: 'modifyCustomer', kind: 'slow', count: 1 },
        { api: 'modifyCustomer', kind: 'serverError', count: 1, status: 500 },
        { api: 'triggerChallenge', kind: 'serverError', count: 1, status: 500 },
      ],
    });
    const common = {
      PATH: process.env.PATH,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_CODEC_KEYS: formatKeyEntry('observability-1', randomBytes(32)),
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
      OTEL_BSP_SCHEDULE_DELAY: '200',
    };
    const children: ChildProcess[] = [];
    try {
      const worker = spawnNode('worker/main.ts', {
        env: {
          ...common,
          ...sandboxDwsEnv(sandbox.url),
          WORKER_METRICS_ADDRESS: `127.0.0.1:${workerMetricsPort}`,
        },
      });
      children.push(worker);
      await waitForLine(worker, workerStartedLine, { name: 'worker', timeoutMs: 120_000 });
      const service = spawnNode('http/main.ts', {
        env: {
          ...common,
          HTTP_PORT: String(httpPort),
          HTTP_CODEC_ENDPOINT: 'false',
          HTTP_METRICS_ADDRESS: `127.0.0.1:${httpMetricsPort}`,
        },
      });
      children.push(service);
      const started = await waitForLine(service, /HTTP service listening/, {
        name: 'HTTP service',
        timeoutMs: 60_000,
      });
      assert.match(started, /"tracing":"dws-verify-http to http:\/\/127\.0\.0\.1:\d+\/v1\/traces/);

      const control = new SandboxControlClient(sandbox.url);
      const { customerId } = await control.addCustomer();
      const api = got.extend({
        prefixUrl: `http://127.0.0.1:${httpPort}`,
        headers: { authorization: `Bearer ${devHttpToken}` },
      });
      const answer = await api
        .post('verifications', { json: { customerId, change: { email: 'processes.new@example.com' } } })
        .json<{ verificationId: string }>();
      // The workflow's own span ends with the run: finish the journey, so the whole chain is exported.
      const code = await control.latestOtp(customerId);
      await api.post(`verifications/${answer.verificationId}/otp`, { json: { customerId, code } }).json();
      await api.get(`verifications/${answer.verificationId}/outcome`).json();

      const tags = JSON.stringify({ 'verification.id': answer.verificationId });
      const reachesRequest = (candidate: JaegerTrace) => {
        const call = candidate.spans.find(
          (span) => span.operationName.startsWith('DWS') && span.operationName.endsWith('triggerChallenge'),
        );
        return !!call && chain(call, candidate).at(-1) === 'POST /verifications';
      };
      let trace: JaegerTrace | undefined;
      for (let tries = 0; tries < 150 && !trace; tries++) {
        const found = (
          await got(`${jaeger.uiUrl}/api/traces`, {
            searchParams: { service: 'dws-verify-http', tags, lookback: '1h' },
          }).json<{ data: JaegerTrace[] }>()
        ).data.find(reachesRequest);
        if (found) trace = found;
        else await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(trace, "the start's trace, with the worker's spans, reached Jaeger");
      const services = (span: JaegerSpan) => trace!.processes[span.processID]!.serviceName;
      const call = trace.spans.find(
        (span) => span.operationName.startsWith('DWS') && span.operationName.endsWith('triggerChallenge'),
      )!;
      const byId = new Map(trace.spans.map((span) => [span.spanID, span]));
      const path: string[] = [];
      for (let at: JaegerSpan | undefined = call; at; at = byId.get(parentOf(at) ?? '')) {
        path.push(`${services(at)}: ${at.operationName.split(':')[0]}`);
      }
      assert.deepEqual(path, [
        'dws-verify-worker: DWS POST /ams/api/v1/security/triggerChallenge',
        'dws-verify-worker: RunActivity',
        'dws-verify-worker: StartActivity',
        'dws-verify-worker: RunWorkflow',
        'dws-verify-http: UpdateWithStartWorkflow',
        'dws-verify-http: POST /verifications',
      ]);

      // Every series the shipped rules read exists, under that name, in what the two processes export.
      const scraped = (
        await Promise.all(
          [httpMetricsPort, workerMetricsPort].map((port) => got(`http://127.0.0.1:${port}/metrics`).text()),
        )
      ).join('\n');
      const rules = readFileSync(join(projectRoot, 'observability', 'rules.yml'), 'utf8');
      const referenced = new Set(rules.match(/\b(?:dws_http|temporal)_[a-z_]+/g));
      assert.ok(referenced.size >= 8, [...referenced].join(', '));
      for (const name of referenced) {
        // A labelled series that never counted (no 429 here) shows as its TYPE line only.
        const family = name.replace(/_(bucket|count|sum)$/, '');
        assert.match(
          scraped,
          new RegExp(`^(${name}[{ ]|# TYPE ${family} )`, 'm'),
          `${name}, which the rules read, is exported`,
        );
      }
      for (const counted of [
        'temporal_activity_execution_failed',
        'temporal_local_activity_execution_failed',
      ]) {
        assert.match(
          scraped,
          new RegExp(`^${counted}\\{[^}]*\\} [1-9]`, 'm'),
          `${counted} counted the failed attempt`,
        );
      }
    } finally {
      await Promise.allSettled(children.map((child) => stopProcess(child, { graceMs: 10_000 })));
      await sandbox.close();
      await server.stop();
    }
  });

  it('ships Prometheus rules that promtool checks and whose unit tests pass', function () {
    const promtool = debianToolPath({
      label: 'promtool',
      pathVariable: 'PROMTOOL_PATH',
      command: 'promtool',
      debianPath: '/usr/bin/promtool',
      aptPackage: 'prometheus',
    });
    const cwd = join(projectRoot, 'observability');
    assert.match(
      execFileSync(promtool, ['check', 'rules', 'rules.yml'], { cwd, encoding: 'utf8' }),
      /SUCCESS: \d+ rules found/,
    );
    assert.match(
      execFileSync(promtool, ['test', 'rules', 'rules.test.yml'], { cwd, encoding: 'utf8' }),
      /SUCCESS/,
    );
  });
});
