import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from '../codec/aes-gcm-codec.js';
import { buildCodecServer, payloadFromJson, payloadToJson } from '../codec/codec-server.js';
import { createDataConverter } from '../codec/data-converter.js';
import { devKeyRing, formatKeyEntry, KeyRing, parseKeyRing } from '../codec/keyring.js';
import { decideLocalUiAccess, type LocalUiAccessInput } from '../codec/local-ui-access.js';
import { startHttpService } from '../http/server.js';
import { VerificationClient } from '@dws-verify/client';
import { devServer } from './helpers/temporal.js';

const uiOrigin = 'http://localhost:8233';
const token = randomBytes(24).toString('base64url');
const secret = { email: 'new.address@example.com' };

describe('the local UI decodes without a sign-in only on the embedded default', function () {
  let folder: string;
  let devKeysPath: string;
  let dev: KeyRing;
  const realKey = () => new KeyRing([{ id: 'k1', key: randomBytes(32) }]);

  before(function () {
    folder = mkdtempSync(join(tmpdir(), 'local-ui-'));
    devKeysPath = join(folder, 'codec-keys');
    dev = devKeyRing(devKeysPath);
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  const decide = (overrides: Partial<LocalUiAccessInput>) =>
    decideLocalUiAccess({
      keyRing: dev,
      listenHost: '127.0.0.1',
      uiOrigin,
      trustProxy: false,
      devKeysPath,
      ...overrides,
    });

  it('is on for the dev key, a loopback listener and a loopback UI', function () {
    assert.deepEqual(decide({}), { allowed: true });
    assert.deepEqual(decide({ listenHost: '::1', uiOrigin: 'http://127.0.0.1:8233' }), { allowed: true });
  });

  it('is off whenever a real key is in the ring, even labelled like the dev key or beside it', function () {
    const devEntry = parseKeyRing(formatKeyEntry(dev.primary.id, randomBytes(32)), 'test');
    const mixed = new KeyRing([
      { id: 'k2', key: randomBytes(32) },
      { id: dev.primary.id, key: dev.primary.key.export() },
    ]);
    for (const keyRing of [realKey(), devEntry, mixed]) {
      const decision = decide({ keyRing });
      assert.equal(decision.allowed, false);
      assert.match(decision.allowed ? '' : decision.reason, /configured key/);
    }
    assert.equal(decide({ devKeysPath: join(folder, 'absent') }).allowed, false);
  });

  it('is off on a non-loopback listener, a UI elsewhere, or behind a proxy', function () {
    for (const listenHost of ['0.0.0.0', '::', '192.168.1.20', 'ops.example']) {
      assert.equal(decide({ listenHost }).allowed, false, listenHost);
    }
    for (const origin of ['https://temporal.example', 'http://10.0.0.7:8233']) {
      assert.equal(decide({ uiOrigin: origin }).allowed, false, origin);
    }
    assert.equal(decide({ trustProxy: true }).allowed, false);
  });

  describe('the codec endpoint with it on', function () {
    let app: FastifyInstance;
    let closed: FastifyInstance;
    const codec = new AesGcmPayloadCodec(realKey());

    before(async function () {
      app = await buildCodecServer({ codec, authTokens: [token], uiOrigin, localUiAccess: true });
      closed = await buildCodecServer({ codec, authTokens: [token], uiOrigin });
    });
    after(async () => {
      await app.close();
      await closed.close();
    });

    const decode = async (
      server: FastifyInstance,
      headers: Record<string, string>,
      remoteAddress = '127.0.0.1',
    ) => {
      const encoded = await codec.encode([defaultPayloadConverter.toPayload(secret)]);
      return server.inject({
        method: 'POST',
        url: '/decode?preserveStorageRefs=true',
        remoteAddress,
        // What the UI of our CLI version sends: no Authorization, no cookie.
        headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
        payload: { payloads: encoded.map(payloadToJson) },
      });
    };

    it("decodes the local UI's call, which carries no credential", async function () {
      const res = await decode(app, { origin: uiOrigin, host: 'localhost:8080' });
      assert.equal(res.statusCode, 200);
      const [payload] = res.json<{ payloads: Parameters<typeof payloadFromJson>[0][] }>().payloads;
      assert.deepEqual(defaultPayloadConverter.fromPayload(payloadFromJson(payload!)), secret);
    });

    it('still wants the token from the CLI, a remote peer, a relayed call or another host name', async function () {
      const attempts: Array<[Record<string, string>, string?]> = [
        [{ host: 'localhost:8080' }],
        [{ origin: uiOrigin, host: 'localhost:8080' }, '10.1.2.3'],
        [{ origin: uiOrigin, host: 'localhost:8080', 'x-forwarded-for': '203.0.113.9' }],
        [{ origin: uiOrigin, host: 'localhost:8080', forwarded: 'for=203.0.113.9' }],
        [{ origin: uiOrigin, host: 'rebound.example:8080' }],
      ];
      for (const [headers, remote] of attempts) {
        const res = await decode(app, headers, remote);
        assert.equal(res.statusCode, 401, JSON.stringify({ headers, remote }));
        assert.ok(!res.body.includes(secret.email));
      }
      const foreign = await decode(app, { origin: 'https://evil.example', host: 'localhost:8080' });
      assert.equal(foreign.statusCode, 403);
    });

    it('is off unless asked for: the same call is refused by a codec server without it', async function () {
      const res = await decode(closed, { origin: uiOrigin, host: 'localhost:8080' });
      assert.equal(res.statusCode, 401);
    });

    it('refuses to start with it on for a UI that is not on loopback', async function () {
      await assert.rejects(
        buildCodecServer({
          codec,
          authTokens: [token],
          uiOrigin: 'https://temporal.example',
          localUiAccess: true,
        }),
        /loopback/,
      );
    });
  });

  describe('the HTTP service asked for it', function () {
    it("keeps today's guards when a real key is configured or it listens beyond loopback", async function () {
      const env = await devServer();
      const key = formatKeyEntry('k1', randomBytes(32));
      const keyRing = parseKeyRing(key, 'TEMPORAL_CODEC_KEYS');
      const verifications = new VerificationClient(
        new Client({
          connection: env.connection,
          dataConverter: createDataConverter(keyRing),
        }),
      );
      const cases = [
        { TEMPORAL_CODEC_KEYS: key, HTTP_HOST: '127.0.0.1' },
        { TEMPORAL_CODEC_KEYS: key, HTTP_HOST: '0.0.0.0' },
      ];
      for (const settings of cases) {
        const service = await startHttpService({
          env: { ...settings, HTTP_PORT: '0', HTTP_AUTH_TOKENS: token, CODEC_AUTH_TOKEN: token },
          verifications,
          codecKeyRing: keyRing,
          allowLocalUiAccess: true,
          logger: false,
        });
        try {
          assert.equal(service.codecLocalUiAccess?.allowed, false);
          const port = new URL(service.url.replace('0.0.0.0', '127.0.0.1')).port;
          const encoded = await new AesGcmPayloadCodec(keyRing).encode([
            defaultPayloadConverter.toPayload(secret),
          ]);
          const res = await fetch(`http://localhost:${port}/codec/decode`, {
            method: 'POST',
            headers: { origin: uiOrigin, 'content-type': 'application/json', 'x-namespace': 'default' },
            body: JSON.stringify({ payloads: encoded.map(payloadToJson) }),
          });
          assert.equal(res.status, 401, JSON.stringify(settings));
          assert.ok(!(await res.text()).includes(secret.email));
        } finally {
          await service.close();
        }
      }
    });
  });
});
