import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sandboxDwsEnv } from '../activities/dws/config.js';
import { devHttpToken } from '../http/config.js';
import { projectRoot } from '../scripts/processes.js';

/** Starts an entry point that must stop at its settings, before any connection is tried. */
function start(entry: string, env: Record<string, string>) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', entry], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: run.status, stderr: run.stderr.trim() };
}

describe('the entry points take the dev shortcuts only where local development was decided', function () {
  this.timeout(60_000);
  let folder: string;
  let profileEnv: Record<string, string>;

  before(function () {
    folder = mkdtempSync(join(tmpdir(), 'local-dev-processes-'));
    const configFile = join(folder, 'temporal.toml');
    // The developer's default profile points at a shared cluster; TEMPORAL_ADDRESS is unset.
    writeFileSync(configFile, '[profile.default]\naddress = "temporal.example.internal:7233"\n');
    profileEnv = { HOME: folder, TEMPORAL_CONFIG_FILE: configFile };
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('the worker refuses to encrypt with the dev key, naming TEMPORAL_CODEC_KEYS', function () {
    const run = start('worker/main.ts', { ...profileEnv, ...sandboxDwsEnv('http://127.0.0.1:9') });
    assert.equal(run.status, 2);
    assert.equal(run.stderr, 'TEMPORAL_CODEC_KEYS or TEMPORAL_CODEC_KEYS_FILE must be set.');
  });

  it('the HTTP service refuses the published dev token, and the dev key', function () {
    const withDevToken = start('http/main.ts', { ...profileEnv, HTTP_AUTH_TOKENS: devHttpToken });
    assert.equal(withDevToken.status, 2);
    assert.match(withDevToken.stderr, /^HTTP_AUTH_TOKENS holds the published dev token [^\n]*\.$/);

    const withOwnToken = start('http/main.ts', {
      ...profileEnv,
      HTTP_AUTH_TOKENS: 'own-token-0123456789abcdef',
    });
    assert.equal(withOwnToken.status, 2);
    assert.equal(withOwnToken.stderr, 'TEMPORAL_CODEC_KEYS or TEMPORAL_CODEC_KEYS_FILE must be set.');
  });

  it('the HTTP service on a local dev server refuses the dev token beyond loopback, naming HTTP_HOST', function () {
    const run = start('http/main.ts', { HOME: folder, HTTP_HOST: '0.0.0.0' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^HTTP_HOST is 0\.0\.0\.0, not loopback, [^\n]*\.$/);
  });
});
