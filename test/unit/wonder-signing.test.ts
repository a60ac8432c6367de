import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  formatCredential,
  formatRequestTime,
  generateNonce,
  NONCE_PATTERN,
  parseCredential,
  parseRequestTime,
  preSignString,
  signatureMessage,
  signContent,
  signRequest,
  verifyContent,
  verifyRequest,
} from '../../activities/wonder/signing.js';
import { createWonderClient } from '../../activities/wonder/client.js';
import { sandboxWonderConfig } from '../../activities/wonder/config.js';
import { wonderPaths } from '../../activities/wonder/types.js';
import { wonderAuthCodes } from '../../sandbox/wonder/auth.js';
import { wonderSimulator } from '../../sandbox/wonder/plugin.js';
import { WonderSimulator } from '../../sandbox/wonder/simulator.js';
import { startGatewayProxy } from '../helpers/gateway-proxy.js';

const keyPath = (name: string) => new URL(`../../sandbox/keys/${name}`, import.meta.url);
const merchantPrivate = createPrivateKey(readFileSync(keyPath('wonder-merchant.private.pem'), 'utf8'));
const merchantPublic = createPublicKey(readFileSync(keyPath('wonder-merchant.public.pem'), 'utf8'));
// Any other RSA key stands in for a merchant who signs with the wrong one.
const otherPrivate = createPrivateKey(readFileSync(keyPath('dws-merchant.private.pem'), 'utf8'));

/*
 * Test vectors. The expected values were computed with openssl alone (OpenSSL 3.0), not with this code:
 *   k1=$(printf '%s' 20240501120123 | openssl dgst -sha256 -mac HMAC -macopt key:Ab3dE5gH7jK9mN1p -binary | xxd -p -c 256)
 *   k2=$(printf '%s' Wonder-RSA-SHA256 | openssl dgst -sha256 -mac HMAC -macopt hexkey:$k1 -binary | xxd -p -c 256)
 *   msg=$(printf 'PUT\n<uri>\n<body>' | openssl dgst -sha256 -mac HMAC -macopt hexkey:$k2 -binary | xxd -p -c 256)
 *   printf '%s' "$msg" | openssl dgst -sha256 -sign sandbox/keys/wonder-merchant.private.pem | base64 -w0
 * PKCS#1 v1.5 signatures are deterministic, so the base64 value is fixed for the key and the message.
 */
const vector = {
  nonce: 'Ab3dE5gH7jK9mN1p',
  requestTime: '20240501120123',
  put: {
    method: 'PUT',
    uri: '/svc/payment/api/v1/openapi/customers/5f0c1e7a-3b8e-4d51-9a6c-0c2f7d1e8a01',
    body: '{"name":"Chan Tai Man","default_payment_method":""}',
    msg: '1848c2e8d407b64068a764b07145ad8ac3e330072b7ffb4a3e2349009c509c38',
    signature:
      'Y40PTbHBvdwz7PuGAwFqJQ498CP+ZfLYIF0AT1x2Cnx00bBSVt73Vc/jXn6MnFa0ipi436SenyGKhSt5dhssCbW545jrK6z1FpwBSnmZ3zWhhrh+' +
      't07bB5iUiqsPZHyMe8feyzH8ZWedtGZL+/tyEHi9Gx4DeTyd0ke7RffXJ0Zy4BpNbnfK39JMkc0/jvUxjtjy6bfokwoBUvF9WtMMM4KNIUCBYF' +
      'n4S7GgngqHMpyk1HJFygZcVAI56O7BIr2RZC5gQ6udbwlm510cbddxW+83+3cIvJ1kG7ViA+ljFhdATvpflNHGEKO+rwFOw/kotFb8jfeiw3AP' +
      'gBYBO0Tbig==',
  },
  // no body: the pre-sign string has no third line
  get: {
    method: 'GET',
    uri: '/svc/payment/api/v1/openapi/customers/ref/CUST-0001?lang=en',
    msg: '636ed3b4fe6afb9cb2019901e39e83ce6bb6d3615964a1a6ccb1a6076d0d6676',
    signature:
      'Jz9jWfyE7YChO6919uw6ADT/aw/oqiiAINwhJMY3q18Dq5yGLwafS2IA5oEJDEvAg0miX40xPWKCZ5XFQ+XMY18uGeooyTkKchBr9vzVtMGMWnN' +
      'h8U1hqOKRU7+a2ldzrpQ2GY1HGPbrqcnxBWvh+t0wB0f+TjCVHhaI+7ZJodwcW+uDBw+B+M97/WP/RK+nCg+ZrZgTOQOmNiUe/BKzjndVAjSBfH' +
      'XVzeEKLrkvA6eGkftfa35AQEQ/pJghI+2An+MxDGYSx1ym6+I33Y8/9QZzBuwjkX2iZak3QPBJVrZ0zUPy+uPDNPoin5nStbpOv0g5eEupTd1i0u' +
      'rrfD3K/w==',
  },
};

describe('Wonder signing', function () {
  describe('algorithm', function () {
    it('derives the known hex message and the openssl signature for a request with a body', function () {
      const content = { ...vector.put, nonce: vector.nonce, requestTime: vector.requestTime };
      assert.equal(signatureMessage(content), vector.put.msg);
      assert.equal(signContent(content, merchantPrivate), vector.put.signature);
      assert.equal(verifyContent(content, vector.put.signature, merchantPublic), true);
    });

    it('leaves the body line out when there is no body (method case-insensitive)', function () {
      assert.equal(preSignString('get', vector.get.uri, ''), `GET\n${vector.get.uri}`);
      assert.equal(preSignString('PUT', '/x', '{}'), 'PUT\n/x\n{}');
      for (const body of [undefined, '']) {
        const content = {
          method: 'get',
          uri: vector.get.uri,
          body,
          nonce: vector.nonce,
          requestTime: vector.requestTime,
        };
        assert.equal(signatureMessage(content), vector.get.msg);
        assert.equal(signContent(content, merchantPrivate), vector.get.signature);
      }
    });

    it('changes the signature when the nonce, time, uri or body changes', function () {
      const base = { ...vector.put, nonce: vector.nonce, requestTime: vector.requestTime };
      const variants = [
        { ...base, nonce: 'Ab3dE5gH7jK9mN1q' },
        { ...base, requestTime: '20240501120124' },
        { ...base, uri: `${base.uri}?x=1` },
        { ...base, body: base.body.replace('Chan', 'Chen') },
      ];
      for (const variant of variants) {
        assert.notEqual(signatureMessage(variant), vector.put.msg);
        assert.equal(verifyContent(variant, vector.put.signature, merchantPublic), false);
      }
    });

    it('formats the request time in UTC and the Credential as <app id>/<time>/Wonder-RSA-SHA256', function () {
      const at = new Date('2024-05-01T12:01:23.999Z');
      assert.equal(formatRequestTime(at), '20240501120123');
      assert.equal(formatCredential('app-1', '20240501120123'), 'app-1/20240501120123/Wonder-RSA-SHA256');
      assert.deepEqual(parseCredential('app-1/20240501120123/Wonder-RSA-SHA256'), {
        appId: 'app-1',
        requestTime: '20240501120123',
        at: new Date('2024-05-01T12:01:23Z'),
      });
      for (const bad of [
        'app-1/20240501120123/Wonder-RSA-SHA1',
        'app-1/2024050112012/Wonder-RSA-SHA256',
        'app-1/20240231120123/Wonder-RSA-SHA256',
        '/20240501120123/Wonder-RSA-SHA256',
        'a/b/20240501120123/Wonder-RSA-SHA256',
      ]) {
        assert.equal(parseCredential(bad), undefined, bad);
      }
      assert.equal(parseRequestTime('20241301000000'), undefined);
    });

    it('makes 16-character alphanumeric nonces that differ', function () {
      const nonces = new Set(Array.from({ length: 200 }, generateNonce));
      assert.equal(nonces.size, 200);
      for (const nonce of nonces) assert.match(nonce, NONCE_PATTERN);
    });

    it('signRequest produces headers that verifyRequest accepts, and only for the same content', function () {
      const now = new Date('2024-05-01T12:01:23Z');
      const headers = signRequest({
        ...vector.put,
        appId: 'app-1',
        privateKey: merchantPrivate,
        now,
        nonce: vector.nonce,
      });
      assert.deepEqual(headers, {
        Credential: 'app-1/20240501120123/Wonder-RSA-SHA256',
        Nonce: vector.nonce,
        Signature: vector.put.signature,
      });
      const check = (body: string, publicKey = merchantPublic) =>
        verifyRequest({
          method: 'PUT',
          uri: vector.put.uri,
          body,
          credential: headers.Credential,
          nonce: headers.Nonce,
          signature: headers.Signature,
          publicKey,
        });
      assert.deepEqual(check(vector.put.body), { ok: true, appId: 'app-1', at: now, nonce: vector.nonce });
      assert.deepEqual(check(`${vector.put.body} `), { ok: false, reason: 'signature' });
      assert.deepEqual(check(vector.put.body, createPublicKey(otherPrivate)), {
        ok: false,
        reason: 'signature',
      });
    });
  });

  describe('sandbox authentication', function () {
    let clock = Date.parse('2024-05-01T12:00:00Z');
    let simulator: WonderSimulator;
    let app: FastifyInstance;

    beforeEach(async function () {
      clock = Date.parse('2024-05-01T12:00:00Z');
      simulator = new WonderSimulator({ now: () => clock });
      app = Fastify();
      await app.register(wonderSimulator, { simulator });
      await app.ready();
    });

    afterEach(async function () {
      await app.close();
    });

    function signed(args: {
      method?: 'POST' | 'PUT' | 'GET';
      url?: string;
      body?: string;
      signedBody?: string;
      key?: typeof merchantPrivate;
      appId?: string;
      at?: Date;
      nonce?: string;
    }) {
      const method = args.method ?? 'POST';
      const url = args.url ?? wonderPaths.echo;
      const body = args.body ?? (method === 'GET' ? '' : '{"message":"Hello,Wonder!"}');
      const auth = signRequest({
        method,
        uri: url,
        body: args.signedBody ?? body,
        appId: args.appId ?? 'sandbox-app-id',
        privateKey: args.key ?? merchantPrivate,
        now: args.at ?? new Date(clock),
        ...(args.nonce ? { nonce: args.nonce } : {}),
      });
      return app.inject({
        method,
        url,
        headers: { ...auth, 'content-type': 'application/json', 'x-request-id': generateNonce() },
        ...(method === 'GET' ? {} : { payload: body }),
      });
    }

    it('accepts a correctly signed request (positive control)', async function () {
      const res = await signed({});
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { code: 0, message: 'success', data: { message: 'Hello,Wonder!' } });
      const get = await signed({
        method: 'GET',
        url: `${wonderPaths.customerByRef('MERCHANT-CUST-0001')}?lang=en`,
      });
      assert.equal(get.statusCode, 200);
      assert.equal(get.json().data.customer.uuid, 'c2a4e0f1-7b3d-4c8e-9f10-2a3b4c5d6e01');
    });

    it('refuses a tampered body', async function () {
      const res = await signed({
        body: '{"message":"Hello,Wonder?"}',
        signedBody: '{"message":"Hello,Wonder!"}',
      });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().code, wonderAuthCodes.invalidSignature);
    });

    it('refuses a signature made with the wrong key', async function () {
      const res = await signed({ key: otherPrivate });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().code, wonderAuthCodes.invalidSignature);
    });

    it('refuses a replayed nonce, also 30 minutes later, and forgets it after the retention window', async function () {
      const nonce = 'ReplayNonce00001';
      assert.equal((await signed({ nonce })).statusCode, 200);
      const replay = await signed({ nonce });
      assert.equal(replay.statusCode, 401);
      assert.equal(replay.json().code, wonderAuthCodes.replayedNonce);

      clock += 30 * 60_000;
      const later = await signed({ nonce });
      assert.equal(later.statusCode, 401);
      assert.equal(later.json().code, wonderAuthCodes.replayedNonce);

      clock += 32 * 60_000;
      assert.equal((await signed({ nonce })).statusCode, 200);
    });

    it('refuses a Credential time more than 30 minutes from its clock, either way', async function () {
      for (const offset of [-31 * 60_000, 31 * 60_000]) {
        const res = await signed({ at: new Date(clock + offset) });
        assert.equal(res.statusCode, 401);
        assert.equal(res.json().code, wonderAuthCodes.staleCredential);
      }
      assert.equal((await signed({ at: new Date(clock - 29 * 60_000) })).statusCode, 200);
    });

    it('refuses an unknown app id, a malformed Credential and a malformed Nonce', async function () {
      const unknown = await signed({ appId: 'someone-else' });
      assert.equal(unknown.json().code, wonderAuthCodes.unknownApp);

      const body = '{"message":"x"}';
      const auth = signRequest({
        method: 'POST',
        uri: wonderPaths.echo,
        body,
        appId: 'sandbox-app-id',
        privateKey: merchantPrivate,
        now: new Date(clock),
      });
      const send = (headers: Record<string, string>) =>
        app.inject({
          method: 'POST',
          url: wonderPaths.echo,
          headers: { 'content-type': 'application/json', ...headers },
          payload: body,
        });
      const noCredential = await send({ Nonce: auth.Nonce, Signature: auth.Signature });
      assert.equal(noCredential.statusCode, 401);
      assert.equal(noCredential.json().code, wonderAuthCodes.invalidCredential);
      const shortNonce = await send({ ...auth, Nonce: 'abc' });
      assert.equal(shortNonce.statusCode, 401);
      assert.equal(shortNonce.json().code, wonderAuthCodes.invalidNonce);
      assert.equal(simulator.requests().filter((r) => r.statusCode === 401).length, 3);
    });

    it('answers 400 for a signed body that is not JSON, and 401 first when it is not signed', async function () {
      const signedGarbage = await signed({ body: '{"message":' });
      assert.equal(signedGarbage.statusCode, 400);
      const unsignedGarbage = await app.inject({
        method: 'POST',
        url: wonderPaths.echo,
        headers: { 'content-type': 'application/json' },
        payload: '{"message":',
      });
      assert.equal(unsignedGarbage.statusCode, 401);
    });
  });

  describe('client against the sandbox over HTTP', function () {
    let app: FastifyInstance;
    let baseUrl: string;

    let simulator: WonderSimulator;

    before(async function () {
      simulator = new WonderSimulator();
      app = Fastify();
      await app.register(wonderSimulator, { simulator });
      baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    });

    after(async function () {
      await app.close();
    });

    it('signs what it sends: echo succeeds, twice, with fresh nonces', async function () {
      const client = createWonderClient(sandboxWonderConfig(baseUrl));
      try {
        assert.deepEqual(await client.echo('Hello,Wonder!'), { message: 'Hello,Wonder!' });
        assert.deepEqual(await client.echo('again', { requestId: 'echo-2', lang: 'zh-HK' }), {
          message: 'again',
        });
        const seen = simulator.requests();
        assert.deepEqual(
          seen.map((r) => [r.api, r.statusCode]),
          [
            ['echo', 200],
            ['echo', 200],
          ],
        );
        assert.equal(seen[1]?.requestId, 'echo-2');
        assert.equal(seen[1]?.lang, 'zh-HK');
        assert.match(seen[0]?.requestId ?? '', /^[0-9a-f-]{36}$/, 'a request id is made when none is given');
      } finally {
        client.close();
      }
    });

    it('signs the API path whatever prefix the base URL has: through a prefix-stripping gateway', async function () {
      const proxy = await startGatewayProxy({ target: baseUrl, prefix: '/wonder/gw' });
      const client = createWonderClient(sandboxWonderConfig(proxy.url));
      try {
        assert.deepEqual(await client.echo('through the gateway'), { message: 'through the gateway' });
        const customer = await client.putCustomer(
          'c2a4e0f1-7b3d-4c8e-9f10-2a3b4c5d6e01',
          { name: 'Chan Siu Ming' },
          { requestId: 'prefixed-put-1' },
        );
        assert.equal(customer.name, 'Chan Siu Ming');
        assert.deepEqual(proxy.forwarded, [
          '/svc/payment/api/v1/openapi/echo',
          '/svc/payment/api/v1/openapi/customers/c2a4e0f1-7b3d-4c8e-9f10-2a3b4c5d6e01',
        ]);
      } finally {
        client.close();
        await proxy.close();
      }
    });
  });
});
