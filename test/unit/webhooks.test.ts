import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { signWebhook, verifyWebhook, WebhookVerificationError } from '@dws-verify/client';
import { parseWebhookEndpoints, readWebhookSettings } from '../../activities/webhooks/config.js';
import { webhookEvents } from '../../activities/webhooks/events.js';
import { ConfigError } from '../../config/errors.js';
import { buildHttpApp } from '../../http/app.js';
import type { VerificationClient } from '../../client/index.js';
import { defaultPolicy } from '../../workflows/types.js';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';

// Standard Webhooks' own test vector (its README and every library's tests).
const vector = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

describe('webhook signatures (Standard Webhooks)', function () {
  it('signs the standard’s test vector as the standard does', function () {
    assert.equal(signWebhook([vector.secret], vector.id, vector.timestamp, vector.body), vector.signature);
  });

  it('signs with every secret, each verifiable by the standardwebhooks package alone', function () {
    const other = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signWebhook([secret, other], 'evt_1', timestamp, '{}');
    const headers = {
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
    };
    for (const key of [secret, other]) assert.deepEqual(new Webhook(key).verify('{}', headers), {});
  });

  it('the client’s verifier refuses a stale timestamp, a missing header and a body that is another event', function () {
    const now = vector.timestamp * 1000;
    const headers = {
      'webhook-id': vector.id,
      'webhook-timestamp': String(vector.timestamp),
      'webhook-signature': vector.signature,
    };
    assert.throws(
      () => verifyWebhook(vector.body, headers, vector.secret, { now: now + 301_000 }),
      /outside the tolerance/,
    );
    assert.throws(
      () => verifyWebhook(vector.body, { ...headers, 'webhook-signature': '' }, vector.secret, { now }),
      WebhookVerificationError,
    );
    // The vector's body has no id: what was signed is not one of our events.
    assert.throws(() => verifyWebhook(vector.body, headers, vector.secret, { now }), /another event/);
  });
});

describe('webhook endpoint settings', function () {
  it('reads <caller>/<id> <url> <secret>... per line, a query in the URL kept', function () {
    const endpoints = parseWebhookEndpoints(
      `orders/main https://orders.example/hooks?k=1 ${secret} ${secret}\n# a comment\nbilling/b1 http://127.0.0.1:9/h ${secret}`,
      'WEBHOOK_ENDPOINTS',
    );
    assert.deepEqual(
      endpoints.map((e) => [e.caller, e.id, e.url, e.secrets.length]),
      [
        ['orders', 'main', 'https://orders.example/hooks?k=1', 2],
        ['billing', 'b1', 'http://127.0.0.1:9/h', 1],
      ],
    );
    assert.deepEqual(readWebhookSettings({}), {
      endpoints: [],
      retryHours: 72,
      timeoutSeconds: 10,
      firstRetrySeconds: 10,
    });
  });

  it('a wrong entry names the variable, the entry and what is wrong, never the secret', function () {
    const cases: Array<[string, RegExp]> = [
      ['orders https://x.example/h whsec_x', /entry 1.*<caller>\/<endpoint id>/],
      ['orders/main ftp://x.example/h ' + secret, /entry 1.*http\(s\) URL/],
      ['orders/main https://x.example/h', /entry 1.*no whsec_ secret/],
      [
        'orders/main https://x.example/h whsec_c2hvcnQ=',
        /secret 1 must be whsec_ followed by base64 of 24 to 64/,
      ],
      [`orders/main https://x.example/h ${secret}\norders/main https://y.example/h ${secret}`, /twice/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => parseWebhookEndpoints(text, 'WEBHOOK_ENDPOINTS'),
        (err: unknown) =>
          err instanceof ConfigError &&
          message.test(err.message) &&
          err.message.includes('WEBHOOK_ENDPOINTS') &&
          !err.message.includes(secret) &&
          !err.message.includes('c2hvcnQ'),
      );
    }
    assert.throws(() => readWebhookSettings({ WEBHOOK_RETRY_HOURS: '0' }), /WEBHOOK_RETRY_HOURS/);
  });
});

describe('webhook events', function () {
  const base = {
    caller: 'orders',
    verificationId: 'contact-change-1',
    runId: '0193-abcd',
    customerId: '1',
    finishedAt: '2026-12-02T10:00:00.000Z',
  };

  it('ids come from the run, so the same run always names the same events', function () {
    const events = webhookEvents({ ...base, outcome: 'MODIFIED', change: { email: 'someone@example.com' } });
    assert.deepEqual(
      events.map((e) => e.id),
      ['evt_0193abcd_verification_completed', 'evt_0193abcd_contact_changed'],
    );
  });

  it('only a MODIFIED change announces contact.changed; a malformed change is left out, not thrown on', function () {
    for (const outcome of ['EXPIRED', 'CANCELLED', 'ATTEMPTS_EXCEEDED', 'REJECTED'] as const) {
      const events = webhookEvents({ ...base, outcome, change: { email: 'someone@example.com' } });
      assert.deepEqual(
        events.map((e) => e.type),
        ['verification.completed'],
      );
    }
    const malformed = webhookEvents({
      ...base,
      outcome: 'REJECTED',
      change: { email: 42, mobileNoInfo: 'x' } as never,
    });
    assert.deepEqual(malformed[0]?.type === 'verification.completed' && malformed[0].data.change, {});
  });
});

describe('webhook events in the OpenAPI document', function () {
  it('publishes each payload’s schema and the request a receiver gets; real events are valid against them', async function () {
    const app = await buildHttpApp({
      verifications: { policy: defaultPolicy } as VerificationClient,
      authTokens: ['webhooks-doc-token-0123456789abcdef'],
    });
    try {
      const doc = (await app.inject({ url: '/openapi.json' })).json<{
        components: { schemas: Record<string, object> };
        'x-webhooks': Record<
          string,
          { post: { requestBody: { content: Record<string, { schema: { $ref: string } }> } } }
        >;
      }>();
      assert.deepEqual(Object.keys(doc['x-webhooks']), ['verification.completed', 'contact.changed']);
      const ajv = new Ajv({ strict: false });
      addFormats.default(ajv);
      const events = webhookEvents({
        caller: 'orders',
        verificationId: 'contact-change-1',
        runId: 'r1',
        customerId: '1',
        requestKey: 'order-1',
        finishedAt: '2026-12-02T10:00:00.000Z',
        outcome: 'MODIFIED',
        resultCode: 'SUCCESS',
        change: { mobileNoInfo: { countryCode: '65', phoneNo: '87654321' } },
        numberOnFile: '+65******5551',
      });
      for (const event of events) {
        const ref = doc['x-webhooks'][event.type]!.post.requestBody.content['application/json']!.schema.$ref;
        const schema = doc.components.schemas[ref.replace('#/components/schemas/', '')]!;
        assert.ok(ajv.validate(schema, event), `${event.type}: ${ajv.errorsText()}`);
        assert.ok(!ajv.validate(schema, { ...event, type: 'something.else' }));
      }
    } finally {
      await app.close();
    }
  });
});
