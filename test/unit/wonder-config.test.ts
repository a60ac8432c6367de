import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  SANDBOX_WONDER_APP_ID,
  sandboxWonderConfig,
  wonderConfigFromEnv,
} from '../../activities/wonder/config.js';
import { ConfigError } from '../../config/errors.js';

const keyFile = fileURLToPath(new URL('../../sandbox/keys/wonder-merchant.private.pem', import.meta.url));
const pem = readFileSync(keyFile, 'utf8');
const base = { WONDER_BASE_URL: 'https://gateway-stg.wonder.today/', WONDER_APP_ID: 'app-1' };

function refusal(env: Record<string, string | undefined>): string {
  try {
    wonderConfigFromEnv(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('Wonder configuration', function () {
  it('reads the base URL, app id and a key file', function () {
    const config = wonderConfigFromEnv({ ...base, WONDER_PRIVATE_KEY_FILE: keyFile });
    assert.equal(config.baseUrl, 'https://gateway-stg.wonder.today');
    assert.equal(config.appId, 'app-1');
    assert.equal(config.privateKey.type, 'private');
    assert.ok(config.timeouts.request > config.timeouts.response);
  });

  it('accepts an inline PEM with literal \\n escapes, as .env files carry it', function () {
    const config = wonderConfigFromEnv({ ...base, WONDER_PRIVATE_KEY: pem.replace(/\n/g, '\\n') });
    assert.equal(config.privateKey.asymmetricKeyType, 'rsa');
  });

  it('accepts the key as bare base64, PKCS#8 or PKCS#1, as the merchant portal hands it out', function () {
    const key = createPrivateKey(pem);
    for (const type of ['pkcs8', 'pkcs1'] as const) {
      const bare = key.export({ format: 'der', type }).toString('base64');
      const config = wonderConfigFromEnv({ ...base, WONDER_PRIVATE_KEY: bare });
      assert.ok(config.privateKey.equals(key), type);
    }
    assert.match(
      refusal({ ...base, WONDER_PRIVATE_KEY: 'bm90IGEga2V5' }),
      /^WONDER_PRIVATE_KEY does not hold an RSA private key/,
    );
  });

  it('names the missing or wrong variable', function () {
    assert.match(
      refusal({ ...base, WONDER_BASE_URL: undefined, WONDER_PRIVATE_KEY: pem }),
      /WONDER_BASE_URL must be set/,
    );
    assert.match(
      refusal({ ...base, WONDER_BASE_URL: 'ftp://x', WONDER_PRIVATE_KEY: pem }),
      /WONDER_BASE_URL must be an http/,
    );
    assert.match(
      refusal({ ...base, WONDER_APP_ID: ' ', WONDER_PRIVATE_KEY: pem }),
      /WONDER_APP_ID must be set/,
    );
    assert.match(refusal(base), /WONDER_PRIVATE_KEY or WONDER_PRIVATE_KEY_FILE must be set/);
    assert.match(
      refusal({ ...base, WONDER_PRIVATE_KEY: pem, WONDER_PRIVATE_KEY_FILE: keyFile }),
      /WONDER_PRIVATE_KEY and WONDER_PRIVATE_KEY_FILE are both set; set only one/,
    );
    assert.match(
      refusal({ ...base, WONDER_PRIVATE_KEY_FILE: '/nonexistent/key.pem' }),
      /WONDER_PRIVATE_KEY_FILE names \/nonexistent\/key\.pem, which cannot be read/,
    );
  });

  it('never prints key material, even of a key it cannot use', function () {
    const broken = pem.replace('MII', 'XXMII');
    const message = refusal({ ...base, WONDER_PRIVATE_KEY: broken });
    assert.match(message, /WONDER_PRIVATE_KEY does not hold an RSA private key \(PEM, or bare base64/);
    const body = pem.split('\n')[1] ?? '';
    assert.ok(body.length > 20 && !message.includes(body.slice(0, 20)));
  });

  it('the sandbox config uses the sandbox app id and key', function () {
    const config = sandboxWonderConfig('http://127.0.0.1:4000/');
    assert.equal(config.appId, SANDBOX_WONDER_APP_ID);
    assert.equal(config.baseUrl, 'http://127.0.0.1:4000');
    assert.equal(config.privateKey.asymmetricKeyType, 'rsa');
  });
});
