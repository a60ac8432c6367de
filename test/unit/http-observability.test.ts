/**
 * The HTTP service's metrics without a server: codec calls by operation and status, and unknown paths
 * under one label (a scanner's random paths must not make a series each).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { VerificationClient } from '@dws-verify/client';
import { AesGcmPayloadCodec } from '../../codec/aes-gcm-codec.js';
import { DEFAULT_UI_ORIGIN } from '../../codec/codec-server.js';
import { KeyRing } from '../../codec/keyring.js';
import { buildHttpApp } from '../../http/app.js';
import { HttpMetrics } from '../../http/metrics.js';

describe('HTTP service metrics, in process', function () {
  it('count codec calls by operation and status, and unknown paths as one route', async function () {
    const token = randomBytes(24).toString('base64url');
    const codec = new AesGcmPayloadCodec(new KeyRing([{ id: 'k1', key: randomBytes(32) }]));
    const metrics = new HttpMetrics();
    const app = await buildHttpApp({
      verifications: new VerificationClient(new Client()),
      authTokens: ['t'.repeat(32)],
      codec: { codec, authTokens: [token], uiOrigin: DEFAULT_UI_ORIGIN },
      metrics,
    });
    try {
      const [payload] = await codec.encode([defaultPayloadConverter.toPayload({ ok: true })]);
      const body = JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(payload!.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
            ),
            data: Buffer.from(payload!.data ?? new Uint8Array()).toString('base64'),
          },
        ],
      });
      const decode = (authorization: string) =>
        app.inject({
          method: 'POST',
          url: '/codec/decode',
          headers: { 'content-type': 'application/json', 'x-namespace': 'default', authorization },
          payload: body,
        });
      assert.equal((await decode(`Bearer ${token}`)).statusCode, 200);
      assert.equal((await decode('Bearer wrong-token-wrong-token-wrong')).statusCode, 401);
      for (const path of ['/wp-admin', '/.env'])
        assert.equal((await app.inject({ url: path })).statusCode, 404);

      const text = await metrics.text();
      assert.match(text, /^dws_http_codec_requests_total\{operation="decode",status="200"\} 1$/m);
      assert.match(text, /^dws_http_codec_requests_total\{operation="decode",status="401"\} 1$/m);
      assert.match(text, /^dws_http_requests_total\{route="unmatched",method="GET",status="404"\} 2$/m);
      assert.ok(!text.includes('wp-admin'), 'no path in a label');
    } finally {
      await app.close();
    }
  });
});
