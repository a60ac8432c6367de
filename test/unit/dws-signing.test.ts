import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import {
  contentToSign,
  formatSignatureHeader,
  parseSignatureHeader,
  signContent,
  signMessage,
  verifyContent,
  verifyMessage,
} from '../../activities/dws/signing.js';
import { DwsClient } from '../../activities/dws/client.js';
import { dwsConfigFromEnv, sandboxDwsConfig } from '../../activities/dws/config.js';
import { sandboxKeyPath } from '../../config/project-files.js';
import { ConfigError } from '../../config/errors.js';
import { startSandbox, type RunningSandbox } from '../../sandbox/server.js';
import { startGatewayProxy, type GatewayProxy } from '../helpers/gateway-proxy.js';

const merchantPrivate = createPrivateKey(readFileSync(sandboxKeyPath('dws-merchant.private.pem'), 'utf8'));
const merchantPublic = createPublicKey(readFileSync(sandboxKeyPath('dws-merchant.public.pem'), 'utf8'));
const providerPrivate = createPrivateKey(readFileSync(sandboxKeyPath('dws-provider.private.pem'), 'utf8'));

// The vector: fixed method, path, client id, time and body.
const method = 'POST';
const path = '/ams/api/v1/customers/modifyCustomer';
const clientId = 'MERCHANT_SANDBOX_CLIENT';
const time = '1700000000000';
const body =
  '{"requestId":"vector-0001","customer":{"customerId":"2188000000000000001"},"businessSceneCode":"MOBILE_AVAILABLE"}';

const expectedContent =
  'POST /ams/api/v1/customers/modifyCustomer\n' +
  'MERCHANT_SANDBOX_CLIENT.1700000000000.' +
  '{"requestId":"vector-0001","customer":{"customerId":"2188000000000000001"},"businessSceneCode":"MOBILE_AVAILABLE"}';

// Computed once, independently of our code, by:
//   printf '%s' "<expectedContent>" | openssl dgst -sha256 -sign sandbox/keys/dws-merchant.private.pem | base64 -w0
const expectedSignature =
  'S8drei/+g8HRdt4N3YXVdkEHV1aAw3BKRZCn99mcOKKph6dP0i/CjBGGVeZpPDx/04ToBSDlAYPzRrvygxXIkGEiGK2HksHXzikG82nWB8OL' +
  'oKQlENELKP0WM9U334NEzsDenWhxx2nw9gd6gQ5xSW08diI6sLRc7q5dnP6iDEI4q94VrRjVmm2T6EnvJ/jPRUpgN8gbvvFtFVOOdVQUG9TG' +
  't9jlYcZgyKdNd9UDDRNWqXB+v9WzJovJIrwqxhywAURpmQcs9zoAdDv9ZbVYw0BRvX81NRsx+SNyd4qlzE73gxVox8r+TuBr/6qhPGjkKR12X' +
  'DojXlw10PfsVRj9mw==';

// The same value URL-encoded by Python's urllib.parse.quote(value, safe=''): + / = become %2B %2F %3D.
const expectedEncoded =
  'S8drei%2F%2Bg8HRdt4N3YXVdkEHV1aAw3BKRZCn99mcOKKph6dP0i%2FCjBGGVeZpPDx%2F04ToBSDlAYPzRrvygxXIkGEiGK2HksHXzikG82n' +
  'WB8OLoKQlENELKP0WM9U334NEzsDenWhxx2nw9gd6gQ5xSW08diI6sLRc7q5dnP6iDEI4q94VrRjVmm2T6EnvJ%2FjPRUpgN8gbvvFtFVOOdVQ' +
  'UG9TGt9jlYcZgyKdNd9UDDRNWqXB%2Bv9WzJovJIrwqxhywAURpmQcs9zoAdDv9ZbVYw0BRvX81NRsx%2BSNyd4qlzE73gxVox8r%2BTuBr%2F' +
  '6qhPGjkKR12XDojXlw10PfsVRj9mw%3D%3D';

describe('DWS signing', function () {
  describe('test vector (sandbox merchant key)', function () {
    it('builds the content to sign as "<METHOD> <path>\\n<client-id>.<time>.<body>"', function () {
      assert.equal(contentToSign('post', path, clientId, time, body), expectedContent);
    });

    it('signs it to the value openssl computes', function () {
      assert.equal(signContent(expectedContent, merchantPrivate), expectedSignature);
    });

    it('URL-encodes + / = in the signature header', function () {
      assert.ok(/[+/=]/.test(expectedSignature), 'the vector exercises all three characters');
      assert.equal(
        signMessage({ method, path, clientId, time, body, privateKey: merchantPrivate }),
        `algorithm=RSA256,keyVersion=1,signature=${expectedEncoded}`,
      );
      assert.equal(
        formatSignatureHeader(expectedSignature, 3),
        `algorithm=RSA256,keyVersion=3,signature=${expectedEncoded}`,
      );
    });

    it('verifies with the merchant public key', function () {
      assert.equal(verifyContent(expectedContent, expectedSignature, merchantPublic), true);
    });
  });

  describe('parseSignatureHeader', function () {
    it('reads a URL-encoded value', function () {
      assert.deepEqual(parseSignatureHeader(`algorithm=RSA256,keyVersion=1,signature=${expectedEncoded}`), {
        algorithm: 'RSA256',
        keyVersion: '1',
        signature: expectedSignature,
      });
    });

    it('accepts spaces after commas and a raw base64 value with its = padding', function () {
      assert.deepEqual(
        parseSignatureHeader(`algorithm=RSA256, keyVersion=2, signature=${expectedSignature}`),
        {
          algorithm: 'RSA256',
          keyVersion: '2',
          signature: expectedSignature,
        },
      );
    });

    it('gives undefined for a missing header or one without a signature', function () {
      assert.equal(parseSignatureHeader(undefined), undefined);
      assert.equal(parseSignatureHeader('algorithm=RSA256,keyVersion=1'), undefined);
    });
  });

  describe('verifyMessage', function () {
    const header = `algorithm=RSA256,keyVersion=1,signature=${expectedEncoded}`;
    const args = { method, path, clientId, time, body, signatureHeader: header, publicKey: merchantPublic };

    it('accepts the vector', function () {
      assert.equal(verifyMessage(args), true);
    });

    it('rejects a tampered body', function () {
      assert.equal(verifyMessage({ ...args, body: body.replace('0001', '0002') }), false);
    });

    it('rejects a different time', function () {
      assert.equal(verifyMessage({ ...args, time: '1700000000001' }), false);
    });

    it('rejects a different path', function () {
      assert.equal(verifyMessage({ ...args, path: '/ams/sandbox/api/v1/customers/modifyCustomer' }), false);
    });

    it('rejects a wrong key', function () {
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
      assert.equal(verifyMessage({ ...args, publicKey: other }), false);
    });

    it('rejects a missing header and an algorithm other than RSA256', function () {
      assert.equal(verifyMessage({ ...args, signatureHeader: undefined }), false);
      assert.equal(verifyMessage({ ...args, signatureHeader: header.replace('RSA256', 'HS256') }), false);
    });
  });

  describe('the client signs what it sends', function () {
    let server: Server;
    let captured: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
    let baseUrl: string;

    before(async function () {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const requestBody = Buffer.concat(chunks).toString('utf8');
          captured.push({
            method: req.method ?? '',
            url: req.url ?? '',
            headers: req.headers,
            body: requestBody,
          });
          // Answer like DWS behind a gateway mounted at /gateway: signed over the path DWS received.
          const answer = JSON.stringify({
            result: { resultStatus: 'S', resultCode: 'SUCCESS', resultMessage: 'success.' },
          });
          const responseTime = String(Date.now());
          res.writeHead(200, {
            'content-type': 'application/json',
            'response-time': responseTime,
            signature: signMessage({
              method: req.method ?? 'POST',
              path: (req.url ?? '').replace(/^\/gateway\//, '/'),
              clientId: String(req.headers['client-id']),
              time: responseTime,
              body: answer,
              privateKey: providerPrivate,
            }),
          });
          res.end(answer);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    after(async function () {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    beforeEach(function () {
      captured = [];
    });

    it('sends client-id, request-time, content-type and a signature that verifies over the exact body', async function () {
      const client = new DwsClient(sandboxDwsConfig(baseUrl));
      try {
        const request = {
          requestId: 'sign-hook-1',
          customer: { customerId: '2188000000000000001' },
          businessSceneCode: 'MOBILE_AVAILABLE' as const,
        };
        const response = await client.modifyCustomer(request);
        assert.equal(response.result.resultStatus, 'S');
        assert.equal(captured.length, 1);
        const [sent] = captured;
        assert.ok(sent);
        assert.equal(sent.method, 'POST');
        assert.equal(sent.url, '/ams/api/v1/customers/modifyCustomer');
        assert.equal(sent.headers['client-id'], 'MERCHANT_SANDBOX_CLIENT');
        assert.equal(sent.headers['content-type'], 'application/json; charset=UTF-8');
        assert.match(String(sent.headers['request-time']), /^\d{13}$/);
        assert.deepEqual(JSON.parse(sent.body), request);
        assert.equal(
          verifyMessage({
            method: sent.method,
            path: sent.url,
            clientId: String(sent.headers['client-id']),
            time: String(sent.headers['request-time']),
            body: sent.body,
            signatureHeader: String(sent.headers['signature']),
            publicKey: merchantPublic,
          }),
          true,
        );
      } finally {
        client.close();
      }
    });

    it('signs the API path, not the base URL prefix: a SANDBOX_ client id behind /gateway', async function () {
      const client = new DwsClient(sandboxDwsConfig(`${baseUrl}/gateway`, { clientId: 'SANDBOX_MERCHANT' }));
      try {
        const response = await client.verifyAndResume({
          authenticationId: 'auth-1',
          requestId: 'sign-hook-2',
          challengeData: { challengeType: 'SMS_OTP', otpValue: '000000' },
        });
        assert.equal(response.result.resultStatus, 'S', 'the answer, signed over the API path, verifies');
        const [sent] = captured;
        assert.ok(sent);
        assert.equal(sent.url, '/gateway/ams/sandbox/api/v1/security/verifyAndResume');
        const verifies = (signedPath: string) =>
          verifyMessage({
            method: 'POST',
            path: signedPath,
            clientId: 'SANDBOX_MERCHANT',
            time: String(sent.headers['request-time']),
            body: sent.body,
            signatureHeader: String(sent.headers['signature']),
            publicKey: merchantPublic,
          });
        assert.equal(verifies('/ams/sandbox/api/v1/security/verifyAndResume'), true);
        assert.equal(verifies(sent.url), false);
      } finally {
        client.close();
      }
    });
  });

  describe('behind a gateway that strips a path prefix', function () {
    let sandbox: RunningSandbox;
    let proxy: GatewayProxy;

    before(async function () {
      sandbox = await startSandbox();
      proxy = await startGatewayProxy({ target: sandbox.url, prefix: '/dws-gateway/v2' });
    });

    after(async function () {
      await proxy?.close();
      await sandbox?.close();
    });

    it('consult, trigger and verify go through: the sandbox checks the API path and so does the client', async function () {
      const client = new DwsClient(sandboxDwsConfig(proxy.url));
      try {
        const consult = await client.modifyCustomer({
          requestId: `prefix-${Date.now()}`,
          customer: { customerId: '2188000000000000001' },
          businessSceneCode: 'MOBILE_AVAILABLE',
        });
        assert.equal(consult.result.resultCode, 'SUCCESS', JSON.stringify(consult.result));
        const authenticationId = String(consult.authenticationId);
        const trigger = await client.triggerChallenge({
          challengeId: authenticationId,
          triggerRequestId: `prefix-t-${Date.now()}`,
        });
        assert.equal(trigger.result.resultCode, 'SUCCESS');
        const code = sandbox.dws.outbox.latest({ authenticationId })?.code;
        assert.ok(code);
        const verified = await client.verifyAndResume({
          authenticationId,
          requestId: `prefix-v-${Date.now()}`,
          challengeData: { challengeType: 'SMS_OTP', otpValue: code },
        });
        assert.equal(verified.result.resultCode, 'SUCCESS');
        assert.deepEqual(proxy.forwarded, [
          '/ams/api/v1/customers/modifyCustomer',
          '/ams/api/v1/security/triggerChallenge',
          '/ams/api/v1/security/verifyAndResume',
        ]);
      } finally {
        client.close();
      }
    });
  });

  describe('signing keys from configuration', function () {
    const files = {
      DWS_BASE_URL: 'https://dws.example.com',
      DWS_CLIENT_ID: 'MERCHANT_1',
      DWS_PRIVATE_KEY_FILE: sandboxKeyPath('dws-merchant.private.pem'),
      DWS_PROVIDER_PUBLIC_KEY_FILE: sandboxKeyPath('dws-provider.public.pem'),
    };
    const privatePem = readFileSync(sandboxKeyPath('dws-merchant.private.pem'), 'utf8');

    function refusal(env: Record<string, string | undefined>): string {
      try {
        dwsConfigFromEnv(env);
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        assert.ok(!err.message.includes('\n'), 'one sentence, on one line');
        assert.ok(!err.message.includes('MII'), 'no key material');
        return err.message;
      }
      assert.fail('the configuration should have been refused');
    }

    it('reads PEM files, with key version 1 by default, and the keys sign and verify', function () {
      const config = dwsConfigFromEnv(files);
      assert.equal(config.baseUrl, 'https://dws.example.com');
      assert.equal(config.clientId, 'MERCHANT_1');
      assert.equal(config.keyVersion, 1);
      assert.equal(signContent(expectedContent, config.privateKey), expectedSignature);
    });

    it('reads inline PEM whose newlines arrive as \\n, and DWS_KEY_VERSION', function () {
      const config = dwsConfigFromEnv({
        ...files,
        DWS_PRIVATE_KEY_FILE: undefined,
        DWS_PRIVATE_KEY: privatePem.trim().replace(/\n/g, '\\n'),
        DWS_KEY_VERSION: '2',
      });
      assert.equal(signContent(expectedContent, config.privateKey), expectedSignature);
      assert.equal(config.keyVersion, 2);
    });

    it('reads keys as the portals hand them out: bare base64 PKCS#8 or PKCS#1 private, SPKI public', function () {
      const bare = (der: Buffer) => der.toString('base64');
      const providerPublic = createPublicKey(readFileSync(sandboxKeyPath('dws-provider.public.pem'), 'utf8'));
      const forms = {
        'PKCS#8': bare(merchantPrivate.export({ format: 'der', type: 'pkcs8' })),
        'PKCS#1': bare(merchantPrivate.export({ format: 'der', type: 'pkcs1' })),
      };
      for (const [form, value] of Object.entries(forms)) {
        const config = dwsConfigFromEnv({
          ...files,
          DWS_PRIVATE_KEY_FILE: undefined,
          DWS_PRIVATE_KEY: value,
          DWS_PROVIDER_PUBLIC_KEY_FILE: undefined,
          DWS_PROVIDER_PUBLIC_KEY: bare(providerPublic.export({ format: 'der', type: 'spki' })),
        });
        assert.equal(signContent(expectedContent, config.privateKey), expectedSignature, form);
        assert.ok(config.providerPublicKey.equals(providerPublic), form);
      }
      // Wrapped at 64 columns in a file, as the portals' downloads are.
      const dir = mkdtempSync(join(tmpdir(), 'dws-keys-'));
      const file = join(dir, 'merchant.key');
      writeFileSync(file, `${forms['PKCS#8'].replace(/(.{64})/g, '$1\n')}\n`);
      const config = dwsConfigFromEnv({ ...files, DWS_PRIVATE_KEY_FILE: file });
      assert.equal(signContent(expectedContent, config.privateKey), expectedSignature);
      rmSync(dir, { recursive: true, force: true });

      assert.equal(
        refusal({ ...files, DWS_PRIVATE_KEY_FILE: undefined, DWS_PRIVATE_KEY: 'bm90IGEga2V5' }),
        'DWS_PRIVATE_KEY does not hold an RSA private key (PEM, or bare base64 PKCS#8 or PKCS#1).',
      );
      assert.equal(
        refusal({
          ...files,
          DWS_PROVIDER_PUBLIC_KEY_FILE: undefined,
          DWS_PROVIDER_PUBLIC_KEY: 'bm90IGEga2V5',
        }),
        'DWS_PROVIDER_PUBLIC_KEY does not hold an RSA public key (PEM, or bare base64 SPKI or PKCS#1).',
      );
      assert.equal(
        refusal({
          ...files,
          DWS_PROVIDER_PUBLIC_KEY_FILE: undefined,
          DWS_PROVIDER_PUBLIC_KEY: forms['PKCS#1'],
        }),
        'DWS_PROVIDER_PUBLIC_KEY holds a private key where the public key belongs.',
      );
    });

    it('names the missing or malformed variable, never its value', function () {
      assert.equal(refusal({ ...files, DWS_BASE_URL: undefined }), 'DWS_BASE_URL must be set.');
      assert.equal(
        refusal({ ...files, DWS_BASE_URL: 'ftp://x' }),
        'DWS_BASE_URL must be an http(s) URL without a query or fragment.',
      );
      assert.equal(refusal({ ...files, DWS_CLIENT_ID: ' ' }), 'DWS_CLIENT_ID must be set.');
      assert.equal(
        refusal({ ...files, DWS_PRIVATE_KEY_FILE: undefined }),
        'DWS_PRIVATE_KEY or DWS_PRIVATE_KEY_FILE must be set.',
      );
      assert.equal(
        refusal({ ...files, DWS_PRIVATE_KEY: privatePem }),
        'DWS_PRIVATE_KEY and DWS_PRIVATE_KEY_FILE are both set; set only one of them.',
      );
      assert.equal(
        refusal({ ...files, DWS_PRIVATE_KEY_FILE: undefined, DWS_PRIVATE_KEY: privatePem.slice(0, 200) }),
        'DWS_PRIVATE_KEY does not hold an RSA private key (PEM, or bare base64 PKCS#8 or PKCS#1).',
      );
      assert.equal(
        refusal({ ...files, DWS_PRIVATE_KEY_FILE: '/nonexistent/key.pem' }),
        'DWS_PRIVATE_KEY_FILE names /nonexistent/key.pem, which cannot be read.',
      );
      assert.equal(
        refusal({ ...files, DWS_PROVIDER_PUBLIC_KEY_FILE: sandboxKeyPath('dws-provider.private.pem') }),
        'DWS_PROVIDER_PUBLIC_KEY_FILE holds a private key where the public key belongs.',
      );
      assert.equal(
        refusal({ ...files, DWS_KEY_VERSION: 'one' }),
        'DWS_KEY_VERSION must be a whole number from 1 to 999999999, got "one".',
      );
    });
  });
});
