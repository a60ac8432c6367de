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
    assert.deepEqual(config.trustedProxies, []);
    assert.deepEqual(config.callers, [{ name: 'default', tokens: [tokenA], operator: false }]);
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

  it('reads named callers with several tokens each, beside HTTP_AUTH_TOKENS as the caller "default"', function () {
    const tokenC = 'token-c-0123456789abcdef';
    const config = loadHttpConfig({
      HTTP_CALLERS: `app-backend:${tokenA}|${tokenB}\nsupport-tool:${tokenC}`,
      HTTP_OPERATOR_CALLERS: 'support-tool',
    });
    assert.deepEqual(config.callers, [
      { name: 'app-backend', tokens: [tokenA, tokenB], operator: false },
      { name: 'support-tool', tokens: [tokenC], operator: true },
    ]);
    assert.deepEqual(config.authTokens, [tokenA, tokenB, tokenC]);
    const file = join(folder, 'callers');
    writeFileSync(file, `# rotation: B joins and A leaves later\napp-backend:${tokenA}|${tokenB}\n`);
    const both = loadHttpConfig({ HTTP_CALLERS_FILE: file, HTTP_AUTH_TOKENS: tokenC });
    assert.deepEqual(
      both.callers.map((caller) => caller.name),
      ['app-backend', 'default'],
    );
  });

  it('names HTTP_CALLERS when an entry is malformed, a token is shared or short, or an operator unknown, without echoing tokens', function () {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ HTTP_CALLERS: tokenA }, /^HTTP_CALLERS must hold <name>:<token>\|<token> entries/],
      [{ HTTP_CALLERS: `bad name:${tokenA}` }, /^HTTP_CALLERS must hold/],
      [{ HTTP_CALLERS: `${'x'.repeat(65)}:${tokenA}` }, /^HTTP_CALLERS must hold/],
      [{ HTTP_CALLERS: 'app:short-secret' }, /^HTTP_CALLERS holds a token shorter than 16/],
      [{ HTTP_CALLERS: `a:${tokenA},b:${tokenA}` }, /^HTTP_CALLERS gives one token to both "a" and "b"/],
      [{ HTTP_CALLERS: `a:${tokenA},a:${tokenB}` }, /^HTTP_CALLERS names the caller "a" twice/],
      [{ HTTP_CALLERS: `default:${tokenA}`, HTTP_AUTH_TOKENS: tokenB }, /names the caller "default" twice/],
      [{ HTTP_CALLERS: `a:${tokenA}`, HTTP_OPERATOR_CALLERS: 'b' }, /^HTTP_OPERATOR_CALLERS names "b"/],
    ];
    for (const [env, pattern] of cases) {
      assert.throws(() => loadHttpConfig(env), configError(pattern, tokenA), JSON.stringify(env));
    }
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
    assert.deepEqual(
      loadHttpConfig({ HTTP_AUTH_TOKENS: tokenA, HTTP_LIMIT_START_PER_CUSTOMER: '2/60' }).rateLimits
        .startPerCustomer,
      { max: 2, windowSeconds: 60 },
    );
    for (const bad of ['10', '0/60', '10/0', 'ten/60', '10/60s']) {
      assert.throws(
        () => loadHttpConfig({ HTTP_AUTH_TOKENS: tokenA, HTTP_LIMIT_OTP_PER_CALLER: bad }),
        configError(/^HTTP_LIMIT_OTP_PER_CALLER must be <max>\/<window seconds>/),
        bad,
      );
    }
  });

  it('names HTTP_PORT, HTTP_BODY_LIMIT_BYTES, HTTP_TRUSTED_PROXIES and HTTP_ANSWER_WITHIN_SECONDS when malformed', function () {
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
    // true trusted every hop: refused, naming what replaces it, rather than quietly reinterpreted.
    assert.throws(
      () => loadHttpConfig({ ...base, HTTP_TRUST_PROXY: 'true' }),
      configError(/^HTTP_TRUST_PROXY is replaced by HTTP_TRUSTED_PROXIES/),
    );
    assert.deepEqual(loadHttpConfig({ ...base, HTTP_TRUST_PROXY: 'false' }).trustedProxies, []);
    assert.deepEqual(
      loadHttpConfig({ ...base, HTTP_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8,fd00::/8,loopback' })
        .trustedProxies,
      ['127.0.0.1', '10.0.0.0/8', 'fd00::/8', 'loopback'],
    );
    for (const bad of ['true', '10.0.0.0/33', '10.0.0.0/8/1', 'proxy.internal', '::1/129']) {
      assert.throws(
        () => loadHttpConfig({ ...base, HTTP_TRUSTED_PROXIES: bad }),
        configError(/^HTTP_TRUSTED_PROXIES must list addresses or CIDRs/),
        bad,
      );
    }
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
