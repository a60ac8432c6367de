import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING } from '../../codec/aes-gcm-codec.js';
import { SESSION_COOKIE, codecAuthTokensFromEnv } from '../../codec/codec-auth.js';
import { buildCodecServer, codecServerConfigFromEnv, DEFAULT_UI_ORIGIN } from '../../codec/codec-server.js';
import { KeyRing } from '../../codec/keyring.js';

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
      {},
      { payloads: [{ data: 'not base64!' }] },
      { payloads: [{ metadata: { encoding: '%%%' } }] },
    ];
    for (const payload of bodies) {
      const res = await app.inject({
        method: 'POST',
        url: '/decode',
        headers: { origin: uiOrigin, authorization: `Bearer ${token}` },
        payload,
      });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
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
