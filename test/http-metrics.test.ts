/**
 * The HTTP service's Prometheus endpoint (HTTP_METRICS_ADDRESS) after one journey, a 429 and a 503: each
 * shows up as its series, labelled by route template, status, limit scope and 503 reason.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import got from 'got';
import { VerificationClient } from '@dws-verify/client';
import { loadHttpConfig } from '../http/config.js';
import { startHttpService } from '../http/server.js';
import { MemoryLimitsStore } from '../limits/memory-store.js';
import { LimitsStoreUnavailableError, type LimitWindow, type HitOptions } from '../limits/store.js';
import { withVerificationWorker, verificationStack } from './helpers/verification-env.js';

const token = `metrics-${randomBytes(12).toString('hex')}`;

/** The in-memory store, until the test says it is down. */
class SwitchableStore extends MemoryLimitsStore {
  down = false;
  override hit(key: string, windows: readonly LimitWindow[], options?: HitOptions) {
    if (this.down) return Promise.reject(new LimitsStoreUnavailableError('the test took the store away'));
    return super.hit(key, windows, options);
  }
}

/** The sample's value for a metric with exactly these labels (in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key!, value!]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

describe('HTTP service metrics', function () {
  const stack = verificationStack();

  it('are off unless HTTP_METRICS_ADDRESS is set, and refuse an address that is not host:port', function () {
    assert.equal(loadHttpConfig({ HTTP_AUTH_TOKENS: token }).metricsAddress, undefined);
    assert.equal(
      loadHttpConfig({ HTTP_AUTH_TOKENS: token, HTTP_METRICS_ADDRESS: '127.0.0.1:9465' }).metricsAddress,
      '127.0.0.1:9465',
    );
    assert.throws(
      () => loadHttpConfig({ HTTP_AUTH_TOKENS: token, HTTP_METRICS_ADDRESS: 'http://x:1' }),
      /HTTP_METRICS_ADDRESS/,
    );
  });

  it('count a journey, a 429 by its scope and a 503 by its reason', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, async ({ taskQueue, control }) => {
      const store = new SwitchableStore();
      const service = await startHttpService({
        config: loadHttpConfig({
          HTTP_PORT: '0',
          HTTP_AUTH_TOKENS: token,
          HTTP_METRICS_ADDRESS: '127.0.0.1:0',
          HTTP_LIMIT_OTP_PER_VERIFICATION: '2/600',
        }),
        verifications: new VerificationClient(stack.env.client, taskQueue),
        limitsStore: store,
        logger: false,
      });
      try {
        assert.match(service.metricsUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
        const http = got.extend({
          prefixUrl: service.url,
          headers: { authorization: `Bearer ${token}` },
          retry: { limit: 0 },
          throwHttpErrors: false,
        });
        const customer = await control.addCustomer();
        const started = await http.post('verifications', {
          json: { customerId: customer.customerId, change: { email: 'metrics.new@example.com' } },
        });
        assert.equal(started.statusCode, 201, started.body);
        const { verificationId } = JSON.parse(started.body) as { verificationId: string };
        const code = await control.latestOtp(customer.customerId);
        const otp = (sent: string) =>
          http.post(`verifications/${verificationId}/otp`, {
            json: { customerId: customer.customerId, code: sent },
          });
        assert.match((await otp(code)).body, /ACCEPTED/);
        const outcome = await http.get(`verifications/${verificationId}/outcome`);
        assert.equal(outcome.statusCode, 200, outcome.body);
        // The second code is within the limit of 2; the third is refused for this verification.
        await otp(code);
        const refused = await otp(code);
        assert.equal(refused.statusCode, 429, refused.body);
        store.down = true;
        const unavailable = await otp(code);
        assert.equal(unavailable.statusCode, 503, unavailable.body);

        const scraped = await got(service.metricsUrl!);
        assert.match(scraped.headers['content-type'] ?? '', /^text\/plain/);
        const text = scraped.body;
        const requests = (route: string, method: string, status: string) =>
          sample(text, 'dws_http_requests_total', { route, method, status });
        assert.equal(requests('/verifications', 'POST', '201'), 1);
        assert.ok((requests('/verifications/:id/otp', 'POST', '200') ?? 0) >= 1);
        assert.equal(requests('/verifications/:id/outcome', 'GET', '200'), 1);
        assert.equal(requests('/verifications/:id/otp', 'POST', '429'), 1);
        assert.equal(requests('/verifications/:id/otp', 'POST', '503'), 1);
        assert.equal(
          sample(text, 'dws_http_limit_refusals_total', { action: 'otp', scope: 'verification' }),
          1,
        );
        assert.equal(sample(text, 'dws_http_unavailable_total', { reason: 'LIMITS_UNAVAILABLE' }), 1);
        assert.equal(
          sample(text, 'dws_http_request_duration_seconds_count', {
            route: '/verifications',
            method: 'POST',
          }),
          1,
        );
        assert.match(text, /^dws_http_request_duration_seconds_bucket\{le="0.5",route="\/verifications"/m);
        assert.match(text, /^process_cpu_seconds_total /m);
        assert.ok(!text.includes(verificationId), 'no verification id in a label: one series per route');
        assert.equal(
          (await got(service.metricsUrl!.replace('/metrics', '/x'), { throwHttpErrors: false })).statusCode,
          404,
        );
      } finally {
        await service.close();
      }
    });
  });
});
