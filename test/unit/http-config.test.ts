import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultRateLimits, devHttpToken, loadHttpConfig } from '../../http/config.js';
import { ConfigError } from '../../config/errors.js';

const tokenA = 'token-a-0123456789abcdef';
const tokenB = 'token-b-0123456789abcdef';

function configError(pattern: RegExp, secret?: string) {
  return (err: unknown) =>
    err instanceof ConfigError && pattern.test(err.message) && (!secret || !err.message.includes(secret));
}

describe('HTTP service configuration', function () {
  let folder: string;
  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'http-config-'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('defaults to 127.0.0.1:8080 and the documented limits', function () {
    const config = loadHttpConfig({ HTTP_AUTH_TOKENS: tokenA });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '127.0.0.1');
    assert.deepEqual(config.authTokens, [tokenA]);
    assert.deepEqual(config.rateLimits, defaultRateLimits);
    assert.equal(config.trustProxy, false);
    assert.equal(config.answerWithinSeconds, 10);
    // A backend relaying many users is one caller: its own limit is sized for a service.
    assert.ok(
      config.rateLimits.otpPerCaller.max >= 1000 * (config.rateLimits.otpPerCaller.windowSeconds / 60),
    );
  });

  it('reads several tokens, inline or from HTTP_AUTH_TOKENS_FILE', function () {
    assert.deepEqual(loadHttpConfig({ HTTP_AUTH_TOKENS: ` ${tokenA}, ${tokenB} ` }).authTokens, [
      tokenA,
      tokenB,
    ]);
    const file = join(folder, 'tokens');
    writeFileSync(file, `${tokenA}\n${tokenB}\n`);
    assert.deepEqual(loadHttpConfig({ HTTP_AUTH_TOKENS_FILE: file }).authTokens, [tokenA, tokenB]);
  });

  it('names the variable when tokens are missing, doubled, short or unreadable, without echoing them', function () {
    assert.throws(() => loadHttpConfig({}), configError(/HTTP_AUTH_TOKENS or HTTP_AUTH_TOKENS_FILE/));
    assert.deepEqual(loadHttpConfig({}, { allowDevToken: true }).authTokens, [devHttpToken]);
    assert.throws(
      () => loadHttpConfig({ HTTP_AUTH_TOKENS: tokenA, HTTP_AUTH_TOKENS_FILE: '/x' }),
      configError(/^HTTP_AUTH_TOKENS and HTTP_AUTH_TOKENS_FILE are both set/, tokenA),
    );
    assert.throws(
      () => loadHttpConfig({ HTTP_AUTH_TOKENS: `${tokenA},short-secret` }),
      configError(/HTTP_AUTH_TOKENS holds a token shorter than 16/, 'short-secret'),
    );
    assert.throws(
      () => loadHttpConfig({ HTTP_AUTH_TOKENS_FILE: join(folder, 'missing') }),
      configError(/HTTP_AUTH_TOKENS_FILE names .*missing, which cannot be read/),
    );
  });

  it('reads limits as <max>/<window seconds> and names a malformed one', function () {
    const config = loadHttpConfig({
      HTTP_AUTH_TOKENS: tokenA,
      HTTP_LIMIT_OTP_PER_VERIFICATION: '3/120',
      HTTP_LIMIT_RESEND_PER_CALLER: '7/30',
    });
    assert.deepEqual(config.rateLimits.otpPerVerification, { max: 3, windowSeconds: 120 });
    assert.deepEqual(config.rateLimits.resendPerCaller, { max: 7, windowSeconds: 30 });
    assert.deepEqual(config.rateLimits.otpPerCaller, defaultRateLimits.otpPerCaller);
    for (const bad of ['10', '0/60', '10/0', 'ten/60', '10/60s']) {
      assert.throws(
        () => loadHttpConfig({ HTTP_AUTH_TOKENS: tokenA, HTTP_LIMIT_OTP_PER_CALLER: bad }),
        configError(/^HTTP_LIMIT_OTP_PER_CALLER must be <max>\/<window seconds>/),
        bad,
      );
    }
  });

  it('names HTTP_PORT, HTTP_BODY_LIMIT_BYTES, HTTP_TRUST_PROXY and HTTP_ANSWER_WITHIN_SECONDS when malformed', function () {
    const base = { HTTP_AUTH_TOKENS: tokenA };
    assert.equal(loadHttpConfig({ ...base, HTTP_PORT: '0' }).port, 0);
    assert.throws(() => loadHttpConfig({ ...base, HTTP_PORT: '70000' }), configError(/^HTTP_PORT/));
    assert.throws(
      () => loadHttpConfig({ ...base, HTTP_BODY_LIMIT_BYTES: '10' }),
      configError(/^HTTP_BODY_LIMIT_BYTES/),
    );
    assert.throws(
      () => loadHttpConfig({ ...base, HTTP_TRUST_PROXY: 'maybe' }),
      configError(/^HTTP_TRUST_PROXY/),
    );
    assert.equal(loadHttpConfig({ ...base, HTTP_TRUST_PROXY: 'true' }).trustProxy, true);
    assert.equal(loadHttpConfig({ ...base, HTTP_ANSWER_WITHIN_SECONDS: '3' }).answerWithinSeconds, 3);
    for (const bad of ['0', '1.5', 'soon', '600']) {
      assert.throws(
        () => loadHttpConfig({ ...base, HTTP_ANSWER_WITHIN_SECONDS: bad }),
        configError(/^HTTP_ANSWER_WITHIN_SECONDS must be a whole number from 1 to 120/),
        bad,
      );
    }
  });
});
