/**
 * Tracing on, with an in-memory exporter in place of OTLP: one HTTP journey (start, a wrong code, the
 * right code, outcome) on the dev server, through a traced worker and a traced HTTP service. Every span
 * exported is scanned for the code, the PIN-free contact data and the token; each request is one trace
 * from the server span down to the provider's HTTP exchange. Tracing off registers nothing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ProxyTracerProvider, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import got from 'got';
import { VerificationClient } from '@dws-verify/client';
import { sandboxDwsConfig } from '../activities/dws/config.js';
import { loadHttpConfig } from '../http/config.js';
import { startHttpService } from '../http/server.js';
import { tracingClientInterceptors, workerTracing } from '../observability/temporal.js';
import { readTracingSettings, startTracing, type Tracing } from '../observability/tracing.js';
import { SandboxControlClient } from '../sandbox/control-client.js';
import { createActivities } from '../worker/run.js';
import { uniqueName, workflowBundle } from './helpers/temporal.js';
import { verificationStack, verificationWorkflows } from './helpers/verification-env.js';

const token = `trace-${randomBytes(12).toString('hex')}`;

/** The span and its ancestors, nearest first, within the exported set. */
function ancestry(span: ReadableSpan, all: ReadableSpan[]): ReadableSpan[] {
  const byId = new Map(all.map((s) => [s.spanContext().spanId, s]));
  const chain = [span];
  for (let parent = byId.get(span.parentSpanId ?? ''); parent; parent = byId.get(parent.parentSpanId ?? '')) {
    chain.push(parent);
  }
  return chain;
}

function describeTree(spans: ReadableSpan[]): string {
  return spans
    .map(
      (s) =>
        `${s.spanContext().traceId.slice(0, 8)} ${s.spanContext().spanId} <- ${s.parentSpanId ?? '-'} ${s.name}`,
    )
    .join('\n');
}

describe('tracing', function () {
  describe('off', function () {
    it('registers no provider, processor or exporter when no OTEL_* variable asks for it', function () {
      assert.equal(readTracingSettings({}, 'x'), undefined);
      assert.equal(readTracingSettings({ OTEL_SERVICE_NAME: 'x' }, 'x'), undefined);
      assert.equal(
        readTracingSettings(
          { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' },
          'x',
        ),
        undefined,
      );
      assert.equal(
        readTracingSettings(
          { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' },
          'x',
        ),
        undefined,
      );
      const tracing = startTracing({ OTEL_SERVICE_NAME: 'x' }, { serviceName: 'x' });
      assert.equal(tracing.enabled, false);
      assert.equal(workerTracing(tracing), undefined, 'no worker interceptors, sinks or bundle modules');
      assert.equal(tracingClientInterceptors(tracing), undefined, 'no client interceptors');
      // The API's global provider still delegates to its no-op: nothing was registered.
      const global = trace.getTracerProvider() as ProxyTracerProvider;
      assert.ok(global instanceof ProxyTracerProvider);
      assert.equal(global.getDelegate().constructor.name, 'NoopTracerProvider');
      assert.equal(trace.getTracer('x').startSpan('x').isRecording(), false);
    });

    it('reads the standard variables, and names the one it cannot use', function () {
      const on = readTracingSettings(
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/',
          OTEL_TRACES_SAMPLER: 'traceidratio',
          OTEL_TRACES_SAMPLER_ARG: '0.25',
        },
        'dws-verify-http',
      );
      assert.equal(on?.tracesUrl, 'http://127.0.0.1:4318/v1/traces');
      assert.equal(on?.serviceName, 'dws-verify-http');
      assert.equal(on?.samplerName, 'traceidratio');
      assert.equal(
        readTracingSettings(
          { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://h:1/x', OTEL_SERVICE_NAME: 'mine' },
          'd',
        )?.tracesUrl,
        'http://h:1/x',
      );
      assert.throws(
        () => readTracingSettings({ OTEL_TRACES_EXPORTER: 'zipkin' }, 'x'),
        /OTEL_TRACES_EXPORTER/,
      );
      assert.throws(
        () => readTracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'x'),
        /OTEL_EXPORTER_OTLP_PROTOCOL/,
      );
      assert.throws(
        () => readTracingSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'sometimes' }, 'x'),
        /OTEL_TRACES_SAMPLER/,
      );
      assert.throws(
        () =>
          readTracingSettings(
            {
              OTEL_TRACES_EXPORTER: 'otlp',
              OTEL_TRACES_SAMPLER: 'traceidratio',
              OTEL_TRACES_SAMPLER_ARG: '2',
            },
            'x',
          ),
        /OTEL_TRACES_SAMPLER_ARG/,
      );
      assert.throws(
        () => readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://x' }, 'x'),
        /OTEL_EXPORTER_OTLP_ENDPOINT/,
      );
    });
  });

  describe('on, one HTTP journey', function () {
    const stack = verificationStack();
    const exporter = new InMemorySpanExporter();
    let tracing: Tracing;

    before(function () {
      tracing = startTracing(
        {},
        { serviceName: 'dws-verify-test', spanProcessor: new SimpleSpanProcessor(exporter) },
      );
    });
    after(async () => tracing?.shutdown());

    it('exports one trace per request, down to the provider call, with no code, contact or token in any span', async function () {
      const traced = workerTracing(tracing)!;
      const taskQueue = uniqueName('traced');
      const worker = await Worker.create({
        connection: stack.env.nativeConnection,
        taskQueue,
        workflowBundle: await workflowBundle(verificationWorkflows, traced.workflowModules),
        activities: createActivities({ dws: sandboxDwsConfig(stack.sandbox.url) }),
        interceptors: traced.interceptors,
        sinks: traced.sinks,
      });
      const client = new Client({
        connection: stack.env.connection,
        interceptors: tracingClientInterceptors(tracing)!,
      });
      const oldEmail = `old.${randomBytes(4).toString('hex')}@example.com`;
      const newEmail = `new.${randomBytes(4).toString('hex')}@example.com`;
      const oldPhone = `8${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

      const secrets = await worker.runUntil(async () => {
        const service = await startHttpService({
          config: loadHttpConfig({ HTTP_PORT: '0', HTTP_AUTH_TOKENS: token }),
          verifications: new VerificationClient(client, taskQueue),
          logger: false,
          tracing,
        });
        try {
          const http = got.extend({
            prefixUrl: service.url,
            headers: { authorization: `Bearer ${token}` },
            retry: { limit: 0 },
            throwHttpErrors: false,
          });
          const control = new SandboxControlClient(stack.sandbox.url);
          const customer = await control.addCustomer({
            email: oldEmail,
            mobileNoInfo: { countryCode: '65', phoneNo: oldPhone },
          });
          // Contact data where an id belongs is refused before validation passes: never on the span.
          const misplaced = await http.post('verifications', {
            json: { customerId: newEmail, change: { email: newEmail } },
          });
          assert.equal(misplaced.statusCode, 400, misplaced.body);
          assert.equal((await http.get(`verifications/${oldPhone}`)).statusCode, 400);
          // The app's own trace: the start continues it.
          const appTraceId = randomBytes(16).toString('hex');
          const appSpanId = randomBytes(8).toString('hex');
          const started = await http.post('verifications', {
            json: { customerId: customer.customerId, change: { email: newEmail } },
            headers: { traceparent: `00-${appTraceId}-${appSpanId}-01` },
          });
          assert.equal(started.statusCode, 201, started.body);
          const { verificationId } = JSON.parse(started.body) as { verificationId: string };
          const code = await control.latestOtp(customer.customerId);
          const wrong = code === '000000' ? '111111' : '000000';
          const incorrect = await http.post(`verifications/${verificationId}/otp`, {
            json: { customerId: customer.customerId, code: wrong },
          });
          assert.match(incorrect.body, /INCORRECT/);
          const accepted = await http.post(`verifications/${verificationId}/otp`, {
            json: { customerId: customer.customerId, code },
          });
          assert.match(accepted.body, /ACCEPTED/);
          const outcome = await http.get(`verifications/${verificationId}/outcome?waitSeconds=10`);
          assert.match(outcome.body, /MODIFIED/);
          return { verificationId, code, wrong, appTraceId, appSpanId };
        } finally {
          await service.close();
        }
      });
      if (tracing.enabled) await tracing.flush();
      const spans = exporter.getFinishedSpans();

      // The PII scan: names, attributes, events, links and resource of every span, as the exporter sends them.
      const forbidden = [secrets.code, secrets.wrong, newEmail, oldEmail, oldPhone, token];
      for (const span of spans) {
        const text = JSON.stringify({
          name: span.name,
          attributes: span.attributes,
          events: span.events,
          links: span.links,
          resource: span.resource.attributes,
          status: span.status,
        });
        for (const value of forbidden) {
          assert.ok(!text.includes(value), `span "${span.name}" holds a secret or contact value: ${text}`);
        }
      }

      const servers = spans.filter(
        (s) =>
          s.attributes['http.route'] !== undefined &&
          s.attributes['verification.id'] === secrets.verificationId,
      );
      const steps = servers.map((s) => s.attributes['verification.step']).sort();
      assert.deepEqual(
        steps,
        ['getVerificationOutcome', 'startVerification', 'submitCode', 'submitCode'],
        describeTree(spans),
      );
      // One trace per request; the start continues the app's traceparent.
      assert.equal(new Set(servers.map((s) => s.spanContext().traceId)).size, servers.length);
      const start = servers.find((s) => s.attributes['verification.step'] === 'startVerification')!;
      assert.equal(start.spanContext().traceId, secrets.appTraceId);
      assert.equal(start.parentSpanId, secrets.appSpanId);

      // Each code's trace reaches DWS verifyAndResume through the client call, the workflow and the activity.
      for (const submit of servers.filter((s) => s.attributes['verification.step'] === 'submitCode')) {
        const inTrace = spans.filter((s) => s.spanContext().traceId === submit.spanContext().traceId);
        const provider = inTrace.find(
          (s) => s.name.includes('verifyAndResume') && s.attributes['provider.name'] === 'DWS',
        );
        assert.ok(provider, `no provider span in the code trace:\n${describeTree(inTrace)}`);
        const chain = ancestry(provider, inTrace).map((s) => s.name);
        assert.equal(
          chain.at(-1),
          submit.name,
          `the provider span descends from the request:\n${chain.join(' <- ')}`,
        );
        const at = (prefix: string) => chain.findIndex((name) => name.startsWith(prefix));
        // nearest first: provider call, activity run, workflow's activity start, workflow update, client call, request
        assert.ok(at('RunActivity:') > 0, chain.join(' <- '));
        assert.ok(at('StartActivity:') > at('RunActivity:'), chain.join(' <- '));
        assert.ok(
          at('HandleUpdate:') > at('StartActivity:') || at('RunWorkflow:') > at('StartActivity:'),
          chain.join(' <- '),
        );
        assert.ok(at('StartWorkflowUpdate:') > at('StartActivity:'), chain.join(' <- '));
        const activity = ancestry(provider, inTrace)[1]!;
        assert.equal(activity.attributes['verification.id'], secrets.verificationId);
        assert.equal(activity.attributes['provider.name'], 'DWS');
        assert.ok(activity.attributes['provider.result_status'], 'the activity span has the result status');
        assert.equal(
          activity.attributes['temporal.activity.local'],
          true,
          'verifyAndResume runs as a local activity',
        );
      }
      // The traced worker's history replays on a worker without tracing: the interceptors add no command.
      const history = await stack.env.client.workflow.getHandle(secrets.verificationId).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle(verificationWorkflows) }, history);

      const startTrace = spans.filter((s) => s.spanContext().traceId === secrets.appTraceId);
      const runs = (name: string) => startTrace.find((s) => s.name === `RunActivity:${name}`);
      assert.equal(runs('triggerChallenge')?.attributes['temporal.activity.local'], true, 'a local activity');
      // The consult too, in its first seconds (patches.localConsult); the modify is an activity.
      assert.equal(
        runs('consultModification')?.attributes['temporal.activity.local'],
        true,
        'a local consult',
      );
      assert.equal(runs('modifyCustomer')?.attributes['temporal.activity.local'], false, 'an activity');
      for (const api of ['modifyCustomer', 'triggerChallenge']) {
        assert.ok(
          startTrace.some((s) => s.attributes['provider.name'] === 'DWS' && s.name.includes(api)),
          `the start's trace has the ${api} call:\n${describeTree(startTrace)}`,
        );
      }
    });
  });
});
