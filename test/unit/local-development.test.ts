import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codecServerConfigFromEnv } from '../../codec/codec-server.js';
import { loadKeyRing } from '../../codec/keyring.js';
import { ConfigError } from '../../config/errors.js';
import type { Env } from '../../config/settings.js';
import { isLocalDevelopment, temporalTargetFromEnv } from '../../config/temporal.js';
import { devHttpToken, loadHttpConfig } from '../../http/config.js';

const away = 'temporal.example.internal:7233';
const ownToken = 'own-token-0123456789abcdef';

const naming = (variable: string) => (err: unknown) =>
  err instanceof ConfigError && err.message.startsWith(`${variable} `) && !err.message.includes('\n');

describe('local development is decided from what the connection resolved to', function () {
  let folder: string;
  let configFile: string;
  let devKeysPath: string;

  before(function () {
    folder = mkdtempSync(join(tmpdir(), 'local-dev-'));
    devKeysPath = join(folder, 'codec-keys');
    configFile = join(folder, 'temporal.toml');
    // What `temporal config set` writes: a default profile at a shared cluster, and others beside it.
    writeFileSync(
      configFile,
      [
        '[profile.default]',
        `address = "${away}"`,
        'namespace = "payments"',
        '[profile.laptop]',
        'address = "127.0.0.1:7233"',
        '[profile.cloud-tunnel]',
        'address = "localhost:7233"',
        'api_key = "not-a-real-key"',
        '[profile.tls-tunnel]',
        'address = "[::1]:7233"',
        '[profile.tls-tunnel.tls]',
        'server_name = "temporal.example.internal"',
      ].join('\n'),
    );
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  /** The process's settings as each entry point reads them; HOME keeps the developer's own file out. */
  const resolve = (env: Env) => temporalTargetFromEnv({ HOME: folder, ...env });
  const local = (env: Env) => isLocalDevelopment(resolve(env));

  it('is local with nothing configured, on the assumed localhost:7233', function () {
    const target = resolve({});
    assert.equal(target.address, 'localhost:7233');
    assert.equal(target.addressAssumed, true);
    assert.equal(isLocalDevelopment(target), true);
  });

  it('is local for a loopback address in clear, however written', function () {
    for (const address of ['127.0.0.1:7233', 'localhost:7233', '[::1]:7233', '127.0.0.2:17233']) {
      assert.equal(local({ TEMPORAL_ADDRESS: address }), true, address);
      assert.equal(resolve({ TEMPORAL_ADDRESS: address }).addressAssumed, undefined);
    }
  });

  it('is not local for another host, or for loopback with TLS or an API key', function () {
    for (const env of [
      { TEMPORAL_ADDRESS: away },
      { TEMPORAL_ADDRESS: '10.0.0.7:7233' },
      { TEMPORAL_ADDRESS: 'localhost.example.com:7233' },
      { TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_TLS: 'true' },
      { TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_API_KEY: 'not-a-real-key' },
    ]) {
      assert.equal(local(env), false, JSON.stringify(env));
    }
  });

  it('takes the address from the default profile of TEMPORAL_CONFIG_FILE, TEMPORAL_ADDRESS unset', function () {
    const target = resolve({ TEMPORAL_CONFIG_FILE: configFile });
    assert.equal(target.address, away);
    assert.equal(target.namespace, 'payments');
    assert.equal(target.addressAssumed, undefined, 'the embedded default starts no dev server for it');
    assert.equal(isLocalDevelopment(target), false);
  });

  it('reads the default config file (~/.config/temporalio/temporal.toml) too', function () {
    const home = join(folder, 'home');
    mkdirSync(join(home, '.config', 'temporalio'), { recursive: true });
    writeFileSync(
      join(home, '.config', 'temporalio', 'temporal.toml'),
      `[profile.default]\naddress = "${away}"\n`,
    );
    assert.equal(local({ HOME: home }), false);
  });

  it('follows TEMPORAL_PROFILE: a loopback profile stays local, one with TLS or an API key does not', function () {
    const withProfile = (profile: string) =>
      local({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: profile });
    assert.equal(withProfile('laptop'), true);
    assert.equal(withProfile('cloud-tunnel'), false);
    assert.equal(withProfile('tls-tunnel'), false);
    // TEMPORAL_ADDRESS still wins over a profile's address, as for the CLI.
    assert.equal(local({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_ADDRESS: '127.0.0.1:7233' }), true);
  });

  describe('the dev shortcuts follow the decision', function () {
    let awayEnv: Env;
    let laptopEnv: Env;
    before(function () {
      awayEnv = { HOME: folder, TEMPORAL_CONFIG_FILE: configFile };
      laptopEnv = { ...awayEnv, TEMPORAL_PROFILE: 'laptop' };
    });

    it('refuses the dev key against a profile away from loopback, naming TEMPORAL_CODEC_KEYS', function () {
      assert.throws(
        () => loadKeyRing(awayEnv, { allowDevKey: local(awayEnv), devKeysPath }),
        naming('TEMPORAL_CODEC_KEYS'),
      );
      const ring = loadKeyRing(laptopEnv, { allowDevKey: local(laptopEnv), devKeysPath });
      assert.match(ring.primary.id, /^dev-/);
    });

    it('refuses the dev HTTP and codec tokens against it, and keeps them for a loopback profile', function () {
      assert.throws(
        () => loadHttpConfig(awayEnv, { allowDevToken: local(awayEnv) }),
        naming('HTTP_AUTH_TOKENS'),
      );
      assert.throws(
        () =>
          loadHttpConfig({ ...awayEnv, HTTP_AUTH_TOKENS: devHttpToken }, { allowDevToken: local(awayEnv) }),
        (err: unknown) => naming('HTTP_AUTH_TOKENS')(err) && /published dev token/.test(String(err)),
      );
      assert.deepEqual(
        loadHttpConfig({ ...awayEnv, HTTP_AUTH_TOKENS: ownToken }, { allowDevToken: local(awayEnv) })
          .authTokens,
        [ownToken],
      );
      assert.throws(
        () => codecServerConfigFromEnv(awayEnv, { allowDevToken: local(awayEnv) }),
        naming('CODEC_AUTH_TOKEN'),
      );
      assert.deepEqual(loadHttpConfig(laptopEnv, { allowDevToken: local(laptopEnv) }).authTokens, [
        devHttpToken,
      ]);
    });

    it('refuses the dev HTTP token on a listener that is not loopback, naming HTTP_HOST', function () {
      for (const host of ['0.0.0.0', '::', '192.168.1.20', 'ops.example']) {
        for (const env of [
          { HTTP_HOST: host },
          { HTTP_HOST: host, HTTP_AUTH_TOKENS: `${ownToken},${devHttpToken}` },
        ]) {
          assert.throws(
            () => loadHttpConfig(env, { allowDevToken: true }),
            (err: unknown) => naming('HTTP_HOST')(err) && String(err).includes(host),
            JSON.stringify(env),
          );
        }
        assert.deepEqual(
          loadHttpConfig({ HTTP_HOST: host, HTTP_AUTH_TOKENS: ownToken }, { allowDevToken: true }).authTokens,
          [ownToken],
        );
      }
      assert.equal(loadHttpConfig({ HTTP_HOST: '::1' }, { allowDevToken: true }).host, '::1');
    });
  });
});
