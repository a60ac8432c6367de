import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING } from '../../codec/aes-gcm-codec.js';
import { SESSION_COOKIE, codecAuthTokensFromEnv } from '../../codec/codec-auth.js';
import {
  buildCodecServer,
  codecServerConfigFromEnv,
  codecServerPlugin,
  DEFAULT_UI_ORIGIN,
} from '../../codec/codec-server.js';
import { KeyRing } from '../../codec/keyring.js';
import { Client } from '@temporalio/client';
import { buildHttpApp } from '../../http/app.js';
import { VerificationClient } from '@dws-verify/client';

const token = randomBytes(24).toString('base64url');
const uiOrigin = DEFAULT_UI_ORIGIN;
const codec = new AesGcmPayloadCodec(new KeyRing([{ id: 'k1', key: randomBytes(32) }]));
const secret = { otp: '482913', phone: '+85291234567' };

interface JsonPayload {
  metadata: Record<string, string>;
  data: string;
}

async function encryptedBody(): Promise<{ payloads: JsonPayload[] }> {
  const encoded = await codec.encode([defaultPayloadConverter.toPayload(secret)]);
  return {
    payloads: encoded.map(({ metadata, data }) => ({
      metadata: Object.fromEntries(
        Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
      data: Buffer.from(data ?? []).toString('base64'),
    })),
  };
}

function decodedValue(payload: JsonPayload): unknown {
  return defaultPayloadConverter.fromPayload({
    metadata: Object.fromEntries(
      Object.entries(payload.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
    ),
    data: Buffer.from(payload.data, 'base64'),
  });
}

describe('codec server', function () {
  let app: FastifyInstance;

  before(async function () {
    app = await buildCodecServer({ codec, authTokens: [token], uiOrigin });
  });

  after(async function () {
    await app.close();
  });

  const decode = async (headers: Record<string, string>): Promise<LightMyRequestResponse> =>
    app.inject({
      method: 'POST',
      url: '/decode?preserveStorageRefs=true',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      payload: await encryptedBody(),
    });

  it('decodes for the UI origin with the right token, with CORS headers for that origin', async function () {
    const res = await decode({ origin: uiOrigin, authorization: `Bearer ${token}` });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['access-control-allow-origin'], uiOrigin);
    const body = res.json<{ payloads: JsonPayload[] }>();
    assert.equal(body.payloads.length, 1);
    assert.deepEqual(decodedValue(body.payloads[0]!), secret);
  });

  it('encodes what the UI sends, and the result decodes back', async function () {
    const plain = defaultPayloadConverter.toPayload('from the UI');
    const res = await app.inject({
      method: 'POST',
      url: '/encode',
      headers: { origin: uiOrigin, authorization: `Bearer ${token}`, 'x-namespace': 'default' },
      payload: {
        payloads: [
          {
            metadata: { encoding: Buffer.from(plain.metadata!.encoding!).toString('base64') },
            data: Buffer.from(plain.data!).toString('base64'),
          },
        ],
      },
    });
    assert.equal(res.statusCode, 200);
    const [encrypted] = res.json<{ payloads: JsonPayload[] }>().payloads;
    assert.ok(encrypted);
    assert.equal(Buffer.from(encrypted.metadata.encoding!, 'base64').toString(), ENCRYPTED_ENCODING);
    const [back] = await codec.decode([
      {
        metadata: Object.fromEntries(
          Object.entries(encrypted.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
        ),
        data: Buffer.from(encrypted.data, 'base64'),
      },
    ]);
    assert.equal(defaultPayloadConverter.fromPayload(back!), 'from the UI');
  });

  it('answers 401 without a token, with a wrong token, or with another scheme', async function () {
    const wrong = randomBytes(24).toString('base64url');
    const attempts: Array<Record<string, string>> = [
      { origin: uiOrigin },
      { origin: uiOrigin, authorization: `Bearer ${wrong}` },
      { origin: uiOrigin, authorization: `Bearer ${token.slice(0, -1)}` },
      { origin: uiOrigin, authorization: `Basic ${token}` },
      {},
    ];
    for (const headers of attempts) {
      const res = await decode(headers);
      assert.equal(res.statusCode, 401, JSON.stringify(Object.keys(headers)));
      assert.ok(!res.body.includes(secret.phone));
    }
  });

  it('refuses a foreign origin with 403 and no CORS allowance, even with the right token', async function () {
    for (const origin of ['https://evil.example', 'http://localhost:8234', 'null']) {
      const res = await decode({ origin, authorization: `Bearer ${token}` });
      assert.equal(res.statusCode, 403);
      assert.equal(res.headers['access-control-allow-origin'], undefined);
      assert.ok(!res.body.includes(secret.phone));
    }
  });

  it('allows the preflight from the UI origin and refuses it from another', async function () {
    const preflight = (origin: string) =>
      app.inject({
        method: 'OPTIONS',
        url: '/decode',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace,authorization',
        },
      });
    const ok = await preflight(uiOrigin);
    assert.ok(ok.statusCode >= 200 && ok.statusCode < 300, `status ${ok.statusCode}`);
    assert.equal(ok.headers['access-control-allow-origin'], uiOrigin);
    assert.equal(ok.headers['access-control-allow-credentials'], 'true');
    const allowed = String(ok.headers['access-control-allow-headers']).toLowerCase();
    for (const header of ['content-type', 'x-namespace', 'authorization'])
      assert.ok(allowed.includes(header));

    const refused = await preflight('https://evil.example');
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.headers['access-control-allow-origin'], undefined);
  });

  it('answers 422 naming the key id, not the content, when a payload cannot be decrypted', async function () {
    const other = await buildCodecServer({
      codec: new AesGcmPayloadCodec(new KeyRing([{ id: 'k2', key: randomBytes(32) }])),
      authTokens: [token],
    });
    try {
      const res = await other.inject({
        method: 'POST',
        url: '/decode',
        headers: { origin: uiOrigin, authorization: `Bearer ${token}` },
        payload: await encryptedBody(),
      });
      assert.equal(res.statusCode, 422);
      assert.match(res.json<{ message: string }>().message, /key id k1, which is not in the key ring/);
    } finally {
      await other.close();
    }
  });

  it('lets a browser sign in on /session and then decode with the session cookie alone', async function () {
    const page = await app.inject({ method: 'GET', url: '/session' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);

    const rejected = await app.inject({
      method: 'POST',
      url: '/session',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      payload: `token=${encodeURIComponent(token)}`,
    });
    assert.equal(rejected.statusCode, 403, 'a form posted from another origin is refused');

    const wrong = await app.inject({
      method: 'POST',
      url: '/session',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'token=not-the-token-at-all',
    });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.headers['set-cookie'], undefined);

    const signedIn = await app.inject({
      method: 'POST',
      url: '/session',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'http://127.0.0.1:9199',
        host: '127.0.0.1:9199',
      },
      payload: `token=${encodeURIComponent(token)}`,
    });
    assert.equal(signedIn.statusCode, 200);
    const cookie = String(signedIn.headers['set-cookie']);
    assert.match(
      cookie,
      new RegExp(`^${SESSION_COOKIE}=[^;]+; Path=/; Max-Age=\\d+; HttpOnly; SameSite=Strict$`),
    );
    assert.ok(!cookie.includes(token), 'the cookie does not carry the token itself');

    const session = cookie.split(';')[0]!;
    const res = await decode({ origin: uiOrigin, cookie: session });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(decodedValue(res.json<{ payloads: JsonPayload[] }>().payloads[0]!), secret);

    const forged = await decode({ origin: uiOrigin, cookie: `${SESSION_COOKIE}=${token}` });
    assert.equal(forged.statusCode, 401);
  });

  it('answers 400 for a body that is not a list of payloads in base64', async function () {
    const bodies = [
      '[]',
      'null',
      '"payloads"',
      '{"payloads":{}}',
      '{"payloads":[null]}',
      '{"payloads":[{"data":"not base64!"}]}',
      '{"payloads":[{"metadata":{"encoding":"%%%"}}]}',
      '{"payloads":[',
      '',
    ];
    for (const payload of bodies) {
      const res = await app.inject({
        method: 'POST',
        url: '/decode',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload,
      });
      assert.equal(res.statusCode, 400, payload);
    }
  });

  it('serves only the configured namespaces when told to', async function () {
    const limited = await buildCodecServer({ codec, authTokens: [token], namespaces: ['payments'] });
    try {
      const ask = (namespace: string) =>
        limited.inject({
          method: 'POST',
          url: '/decode',
          headers: { origin: uiOrigin, authorization: `Bearer ${token}`, 'x-namespace': namespace },
          payload: { payloads: [] },
        });
      assert.equal((await ask('payments')).statusCode, 200);
      assert.equal((await ask('default')).statusCode, 403);
    } finally {
      await limited.close();
    }
  });

  it('reads its configuration from the environment and names a bad variable', function () {
    assert.deepEqual(codecAuthTokensFromEnv({ CODEC_AUTH_TOKEN: `${token}, ${token}x` }), [
      token,
      `${token}x`,
    ]);
    assert.throws(
      () => codecAuthTokensFromEnv({ CODEC_AUTH_TOKEN: 'short' }),
      /CODEC_AUTH_TOKEN holds a token shorter/,
    );
    assert.throws(
      () =>
        codecServerConfigFromEnv(
          { CODEC_AUTH_TOKEN: token, CODEC_UI_ORIGIN: 'http://ui/path' },
          { allowDevToken: false },
        ),
      /^ConfigError: CODEC_UI_ORIGIN must be an origin/,
    );
    assert.throws(
      () => codecServerConfigFromEnv({}, { allowDevToken: false }),
      /CODEC_AUTH_TOKEN or CODEC_AUTH_TOKEN_FILE must be set/,
    );
    assert.deepEqual(
      codecServerConfigFromEnv(
        { CODEC_AUTH_TOKEN: token, CODEC_UI_ORIGIN: 'https://temporal.example.com/' },
        {
          allowDevToken: false,
        },
      ),
      { uiOrigin: 'https://temporal.example.com', authTokens: [token] },
    );
  });
});

describe('codec server: authentication before the body', function () {
  const eightMiB = 8 * 1024 * 1024;
  let app: FastifyInstance;
  let origin: string;
  /** URLs whose body Fastify started to read (preParsing runs right before the content-type parser). */
  let bodiesRead: string[];
  /** bytes the server took off each connection's socket */
  const sockets: Socket[] = [];

  before(async function () {
    bodiesRead = [];
    // Mounted the way the HTTP service mounts it: under /codec in an app whose own limit is 16 KiB.
    app = Fastify({ bodyLimit: 16 * 1024 });
    app.addHook('preParsing', async (request, _reply, payload) => {
      bodiesRead.push(request.url);
      return payload;
    });
    await app.register(codecServerPlugin, { codec, authTokens: [token], uiOrigin, prefix: '/codec' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    app.server.on('connection', (socket: Socket) => sockets.push(socket));
    origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  after(async function () {
    await app.close();
  });

  beforeEach(() => {
    bodiesRead = [];
    sockets.length = 0;
  });

  /** Sends the head of a request announcing `length` bytes, then only `sent` of them, and waits for the answer. */
  async function announce(headers: string[], length: number, sent: number): Promise<string> {
    const port = new URL(origin).port;
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write(
      [
        'POST /codec/decode HTTP/1.1',
        `host: 127.0.0.1:${port}`,
        'content-type: application/json',
        `content-length: ${length}`,
        ...headers,
        '',
        '',
      ].join('\r\n') + '{'.padEnd(sent, ' '),
    );
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    // The server answers and closes the connection without waiting for the rest of the body.
    try {
      await Promise.race([
        once(socket, 'end'),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer: ${answer}`)), 3000)),
      ]);
    } finally {
      socket.destroy();
    }
    return answer;
  }

  it('answers 401 at once to a request announcing 8 MiB and sending a few bytes, never reading it', async function () {
    const started = Date.now();
    for (const headers of [[], [`authorization: Bearer ${randomBytes(24).toString('base64url')}`]]) {
      const answer = await announce(headers, eightMiB, 16);
      assert.match(answer, /^HTTP\/1\.1 401 /);
      assert.match(answer, /\r\nconnection: close\r\n/i);
    }
    assert.ok(Date.now() - started < 2000, 'answered without waiting for the announced body');
    assert.deepEqual(bodiesRead, []);
  });

  it('refuses a real unauthenticated 8 MiB post with the body unread', async function () {
    const body = Buffer.alloc(eightMiB, ' ');
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(`${origin}/codec/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
      });
      req.on('response', (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      });
      // The server closes the connection while the client is still sending: expected, not a failure.
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (!['EPIPE', 'ECONNRESET'].includes(err.code ?? '')) reject(err);
      });
      req.end(body);
    });
    assert.equal(res.status, 401);
    assert.deepEqual(bodiesRead, [], 'the body parser never ran');
    const taken = sockets.reduce((sum, socket) => sum + socket.bytesRead, 0);
    assert.ok(taken < eightMiB / 8, `the server took ${taken} bytes off the socket`);
  });

  it('reads a body beyond the app limit for an authorised caller', async function () {
    const { payloads } = await encryptedBody();
    const many = Array.from({ length: 200 }, () => payloads[0]!);
    assert.ok(JSON.stringify({ payloads: many }).length > 16 * 1024);
    const res = await fetch(`${origin}/codec/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ payloads: many }),
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { payloads: unknown[] }).payloads.length, 200);
    assert.deepEqual(bodiesRead, ['/codec/decode']);
  });
});

describe('codec server: failed sign-ins are limited per client address', function () {
  let app: FastifyInstance;
  const limit = { max: 3, windowSeconds: 60 };

  beforeEach(async function () {
    app = await buildCodecServer({ codec, authTokens: [token], uiOrigin, authFailureLimit: limit });
  });
  afterEach(async () => app.close());

  const signIn = (value: string, remoteAddress = '192.0.2.10') =>
    app.inject({
      method: 'POST',
      url: '/session',
      remoteAddress,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${encodeURIComponent(value)}`,
    });
  const decodeWith = async (headers: Record<string, string>, remoteAddress = '192.0.2.10') =>
    app.inject({
      method: 'POST',
      url: '/decode',
      remoteAddress,
      headers: { 'content-type': 'application/json', ...headers },
      payload: await encryptedBody(),
    });

  it('answers 429 with Retry-After after N wrong tokens on /session, the right one included', async function () {
    for (let i = 0; i < limit.max; i++)
      assert.equal((await signIn(`guess-${i}-0123456789abcdef`)).statusCode, 401);
    for (const value of ['another-guess-0123456789', token]) {
      const res = await signIn(value);
      assert.equal(res.statusCode, 429);
      const retryAfter = Number(res.headers['retry-after']);
      assert.ok(retryAfter >= 1 && retryAfter <= limit.windowSeconds, `Retry-After ${retryAfter}`);
      assert.equal(res.headers['set-cookie'], undefined);
    }
    assert.equal((await decodeWith({ authorization: `Bearer ${token}` })).statusCode, 429);
    // Another address is not affected.
    assert.equal((await signIn(token, '192.0.2.11')).statusCode, 200);
  });

  it('counts wrong bearer tokens and session cookies on /decode, not calls without a credential', async function () {
    for (let i = 0; i < 2 * limit.max; i++) assert.equal((await decodeWith({})).statusCode, 401);
    assert.equal((await decodeWith({ authorization: `Bearer ${token}` })).statusCode, 200);
    assert.equal((await decodeWith({ authorization: 'Bearer wrong-token-0123456789' })).statusCode, 401);
    assert.equal((await decodeWith({ cookie: `${SESSION_COOKIE}=forged` })).statusCode, 401);
    assert.equal((await signIn('third-guess-0123456789')).statusCode, 401);
    const res = await decodeWith({ authorization: `Bearer ${token}` });
    assert.equal(res.statusCode, 429);
    assert.ok(Number(res.headers['retry-after']) >= 1);
  });

  it('counts an IPv6 client by its /64, so rotating addresses inside it does not help', async function () {
    for (let i = 1; i <= limit.max; i++) await signIn(`guess-${i}-0123456789abcdef`, `2001:db8:1:2::${i}`);
    assert.equal((await signIn(token, '2001:db8:1:2::ffff')).statusCode, 429);
    assert.equal((await signIn(token, '2001:db8:1:3::1')).statusCode, 200);
  });
});

/**
 * What the Temporal CLI (1.9, through the Go SDK's remote codec) sends: proto3 JSON, which leaves out
 * empty lists and empty fields, `Content-Type: application/json`, `X-Namespace`, its `--codec-auth` value
 * as `Authorization`, and no `Origin`. Checked standalone and mounted in the HTTP service, whose stricter
 * schema settings differ from Fastify's defaults.
 */
describe('codec server: the remote codec contract as the Temporal CLI speaks it', function () {
  const cliHeaders = {
    'content-type': 'application/json',
    'x-namespace': 'default',
    authorization: `Bearer ${token}`,
    'user-agent': 'Go-http-client/1.1',
    'accept-encoding': 'gzip',
  };
  const b64 = (text: string, encoding: BufferEncoding = 'base64') => Buffer.from(text).toString(encoding);
  const hosts: Array<{ name: string; prefix: string; app?: FastifyInstance }> = [
    { name: 'standalone', prefix: '' },
    { name: 'mounted in the HTTP service', prefix: '/codec' },
  ];

  before(async function () {
    hosts[0]!.app = await buildCodecServer({ codec, authTokens: [token], uiOrigin });
    // No Temporal call is made: a client without a connection connects lazily, on first use.
    hosts[1]!.app = await buildHttpApp({
      verifications: new VerificationClient(new Client()),
      authTokens: ['api-token-0123456789abcdef'],
      codec: { codec, authTokens: [token], uiOrigin },
    });
  });

  after(async function () {
    for (const host of hosts) await host.app?.close();
  });

  for (const host of hosts) {
    describe(host.name, function () {
      const post = (
        direction: 'encode' | 'decode',
        payload: string,
        headers: Record<string, string> = cliHeaders,
      ) => host.app!.inject({ method: 'POST', url: `${host.prefix}/${direction}`, headers, payload });
      const payloadsOf = (res: LightMyRequestResponse) => {
        assert.equal(res.statusCode, 200, res.body);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        return res.json<{ payloads: JsonPayload[] }>().payloads;
      };

      it('answers an empty list to {}, to an empty array and to null, on both directions', async function () {
        for (const direction of ['encode', 'decode'] as const) {
          for (const body of ['{}', '{"payloads":[]}', '{"payloads":null}']) {
            assert.deepEqual(payloadsOf(await post(direction, body)), [], `${direction} ${body}`);
          }
        }
      });

      it('encodes what the CLI sends for a signal input and decodes it back to the same payload', async function () {
        const sent = { metadata: { encoding: b64('json/plain') }, data: b64('{"reason":"x"}') };
        const [encrypted] = payloadsOf(await post('encode', JSON.stringify({ payloads: [sent] })));
        assert.equal(Buffer.from(encrypted!.metadata.encoding!, 'base64').toString(), ENCRYPTED_ENCODING);
        assert.ok(!Buffer.from(encrypted!.data, 'base64').toString().includes('reason'));
        const [back] = payloadsOf(await post('decode', JSON.stringify({ payloads: [encrypted] })));
        assert.deepEqual(back, sent);
      });

      it('takes a payload without metadata, without data, or with neither', async function () {
        const payloads = [
          { data: b64('"no metadata"') },
          { metadata: { encoding: b64('binary/null') } },
          { metadata: null, data: null },
          {},
        ];
        const encrypted = payloadsOf(await post('encode', JSON.stringify({ payloads })));
        assert.equal(encrypted.length, payloads.length);
        const back = payloadsOf(await post('decode', JSON.stringify({ payloads: encrypted })));
        assert.deepEqual(back, [
          { metadata: {}, data: b64('"no metadata"') },
          { metadata: { encoding: b64('binary/null') }, data: '' },
          { metadata: {}, data: '' },
          { metadata: {}, data: '' },
        ]);
        // Not ours to decrypt (history written before encryption): passed through, absent fields empty.
        assert.deepEqual(
          payloadsOf(await post('decode', JSON.stringify({ payloads: payloads.slice(0, 2) }))),
          [
            { metadata: {}, data: b64('"no metadata"') },
            { metadata: { encoding: b64('binary/null') }, data: '' },
          ],
        );
      });

      it('reads URL-safe and unpadded base64, as proto3 JSON parsers must', async function () {
        const data = '{"k":"?>?>"}';
        const sent = {
          metadata: { encoding: b64('json/plain', 'base64url') },
          data: b64(data, 'base64url'),
        };
        assert.ok(sent.data.includes('_') && !sent.data.endsWith('='));
        const [back] = payloadsOf(await post('decode', JSON.stringify({ payloads: [sent] })));
        assert.deepEqual(back, { metadata: { encoding: b64('json/plain') }, data: b64(data) });
      });

      it('takes application/json with a charset, and refuses a body sent as something else', async function () {
        const body = '{}';
        const withCharset = { ...cliHeaders, 'content-type': 'application/json; charset=utf-8' };
        assert.deepEqual(payloadsOf(await post('decode', body, withCharset)), []);
        const asText = { ...cliHeaders, 'content-type': 'text/plain' };
        assert.equal((await post('decode', body, asText)).statusCode, 400);
      });

      it('serves an endpoint typed with a trailing slash (…//decode), guards included', async function () {
        const url = `${host.prefix}//decode`;
        const ok = await host.app!.inject({ method: 'POST', url, headers: cliHeaders, payload: '{}' });
        assert.deepEqual(payloadsOf(ok), []);
        const noToken: Record<string, string> = { ...cliHeaders };
        delete noToken.authorization;
        const refused = await host.app!.inject({ method: 'POST', url, headers: noToken, payload: '{}' });
        assert.equal(refused.statusCode, 401);
      });

      it('still needs the token for {}: the guards come before the body', async function () {
        const noToken: Record<string, string> = { ...cliHeaders };
        delete noToken.authorization;
        assert.equal((await post('decode', '{}', noToken)).statusCode, 401);
      });
    });
  }
});
