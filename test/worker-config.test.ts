import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ConfigError } from '../config/errors.js';
import { projectRoot } from '../scripts/processes.js';
import { loadWorkerConfig } from '../worker/config.js';

const sandboxUrl = 'http://127.0.0.1:9';

describe('worker configuration', function () {
  it('has safe defaults with the sandbox as the provider', function () {
    const config = loadWorkerConfig({}, { sandboxUrl });
    assert.equal(config.taskQueue, 'contact-change-verification');
    assert.equal(config.temporal.address, 'localhost:7233');
    assert.equal(config.dws.baseUrl, sandboxUrl);
    assert.equal(config.metricsAddress, undefined);
    assert.ok(config.tuning.maxCachedWorkflows > 0);
  });

  for (const [name, value] of [
    ['WORKER_MAX_CACHED_WORKFLOWS', 'lots'],
    ['WORKER_WORKFLOW_TASK_POLLERS', '1'],
    ['WORKER_METRICS_ADDRESS', 'not an address'],
    ['DWS_BASE_URL', 'ftp://example.com'],
  ] as const) {
    it(`refuses ${name}=${value} in one sentence naming it`, function () {
      assert.throws(
        () => loadWorkerConfig({ [name]: value }, { sandboxUrl }),
        (err: unknown) =>
          err instanceof ConfigError && err.message.includes(name) && !err.message.includes('\n'),
      );
    });
  }

  it('stops the worker process with that sentence and exit code 2, no stack trace', function () {
    this.timeout(60_000);
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, WORKER_MAX_CONCURRENT_ACTIVITIES: 'many' },
      encoding: 'utf8',
    });
    assert.equal(run.status, 2);
    assert.match(
      run.stderr.trim(),
      /^WORKER_MAX_CONCURRENT_ACTIVITIES must be a whole number from 1 to \d+, got "many"\.$/,
    );
  });

  it('refuses a real provider URL without its keys, naming the missing variable', function () {
    assert.throws(
      () => loadWorkerConfig({ DWS_BASE_URL: 'https://open-sea.alipay.com' }, { sandboxUrl }),
      (err: unknown) => err instanceof Error && /DWS_CLIENT_ID|DWS_PRIVATE_KEY/.test(err.message),
    );
  });
});
