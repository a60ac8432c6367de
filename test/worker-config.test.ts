import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ConfigError } from '../config/errors.js';
import { projectRoot } from '../scripts/processes.js';
import { loadWorkerConfig, readVersioning } from '../worker/config.js';

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

  describe('Worker Versioning', function () {
    const ciBuild = () => '0.1.0+ae1eb36d75f2';
    const sentenceNaming = (name: string) => (err: unknown) =>
      err instanceof ConfigError && err.message.startsWith(`${name} `) && !err.message.includes('\n');

    it('is off unless WORKER_DEPLOYMENT_NAME is set: a plain task queue, as before', function () {
      assert.equal(readVersioning({}, ciBuild), undefined);
      assert.equal(loadWorkerConfig({}, { sandboxUrl }).versioning, undefined);
    });

    it("takes the build's own id (package version + git revision) unless WORKER_BUILD_ID says otherwise", function () {
      assert.deepEqual(readVersioning({ WORKER_DEPLOYMENT_NAME: 'dws-verify' }, ciBuild), {
        deploymentName: 'dws-verify',
        buildId: '0.1.0+ae1eb36d75f2',
      });
      assert.deepEqual(
        readVersioning({ WORKER_DEPLOYMENT_NAME: 'dws-verify', WORKER_BUILD_ID: '2026.12.01-7' }, ciBuild),
        { deploymentName: 'dws-verify', buildId: '2026.12.01-7' },
      );
    });

    it('refuses a build id without a deployment name, naming WORKER_DEPLOYMENT_NAME', function () {
      assert.throws(
        () => readVersioning({ WORKER_BUILD_ID: 'b-2' }, ciBuild),
        sentenceNaming('WORKER_DEPLOYMENT_NAME'),
      );
    });

    it('refuses a deployment name when no build id can be found, naming WORKER_BUILD_ID', function () {
      assert.throws(
        () => readVersioning({ WORKER_DEPLOYMENT_NAME: 'dws-verify' }, () => undefined),
        sentenceNaming('WORKER_BUILD_ID'),
      );
    });

    for (const [name, value] of [
      ['WORKER_DEPLOYMENT_NAME', 'dws.verify'],
      ['WORKER_BUILD_ID', 'build 7'],
    ] as const) {
      it(`refuses ${name}="${value}", which the server would read back wrong`, function () {
        const env = { WORKER_DEPLOYMENT_NAME: 'dws-verify', [name]: value };
        assert.throws(() => readVersioning(env, ciBuild), sentenceNaming(name));
      });
    }

    it('stops the worker process half-configured, in that one sentence', function () {
      this.timeout(60_000);
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
        cwd: projectRoot,
        env: { PATH: process.env.PATH, WORKER_BUILD_ID: 'b-2' },
        encoding: 'utf8',
      });
      assert.equal(run.status, 2);
      assert.match(
        run.stderr.trim(),
        /^WORKER_DEPLOYMENT_NAME must be set when WORKER_BUILD_ID is [^\n]*\.$/,
      );
    });
  });
});
