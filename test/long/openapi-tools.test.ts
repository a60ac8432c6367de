/**
 * /openapi.json as tools nobody on this project wrote read it, against a real stack (dev server, worker,
 * provider sandbox, the HTTP service on a loopback port): Schemathesis generates requests from the
 * document, in every phase including the stateful one, and finds nothing; a Python client generated
 * from the document by openapi-python-client, unchanged, completes a verification. The tools come from
 * PyPI on first use (test/helpers/python-tools.ts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VerificationClient } from '../../client/index.js';
import { loadHttpConfig } from '../../http/config.js';
import { startHttpService, type RunningHttpService } from '../../http/server.js';
import { SandboxControlClient } from '../../sandbox/control-client.js';
import { projectRoot } from '../../scripts/processes.js';
import { installPythonTool, openapiPythonClient, runPython, schemathesis } from '../helpers/python-tools.js';
import { verificationStack, withVerificationWorker } from '../helpers/verification-env.js';

const token = `openapi-${randomBytes(12).toString('hex')}`;

/**
 * Room for Schemathesis's hundreds of requests on a few ids: a limit would otherwise answer most of them
 * 429, and the tester would stop reaching the routes. The limits' own behaviour is http-limits.test.ts's;
 * every 429 a route can give stays declared, and the tester checks it where one comes.
 */
const roomyLimits = Object.fromEntries(
  [
    'OTP_PER_VERIFICATION',
    'OTP_PER_USER',
    'OTP_PER_CALLER',
    'RESEND_PER_VERIFICATION',
    'RESEND_PER_USER',
    'RESEND_PER_CALLER',
    'START_PER_CUSTOMER',
    'START_PER_USER',
    'START_PER_CALLER',
    'CANCEL_PER_CUSTOMER',
    'CANCEL_PER_USER',
    'CANCEL_PER_CALLER',
  ].map((limit) => [`HTTP_LIMIT_${limit}`, '100000/60']),
);

/**
 * Bounded so the run takes about half a minute on two cores: cases per operation in the coverage and
 * fuzzing phases, and scenarios in the stateful one. A fixed seed, so a failure here is one anyone can
 * replay (`st run --seed`).
 */
const maxExamples = '40';
const seed = '25';

/**
 * The one parameter fixed rather than generated: the outcome route waits up to waitSeconds (at most 10,
 * as documented) for a running verification, so a generated wait made each such call last up to 10 s,
 * longer than the tester's own 10 s request timeout and most of the run's time. Its range and its 202
 * are tested in http-routes.test.ts.
 */
const schemathesisConfig = `
[[operations]]
include-name = "GET /verifications/{id}/outcome"
parameters = { "query.waitSeconds" = "0" }
`;

describe('the OpenAPI document, read by tools nobody here wrote', function () {
  this.timeout(180_000);
  const stack = verificationStack();
  let schemathesisFolder: string;
  let clientGeneratorFolder: string;

  before(function () {
    // A first run installs both from PyPI (a minute or two cold); later runs find them in .tools/pypi.
    this.timeout(600_000);
    schemathesisFolder = installPythonTool(schemathesis);
    clientGeneratorFolder = installPythonTool(openapiPythonClient);
  });

  /** A worker on its own task queue and the HTTP service in front of it, with the roomy limits. */
  function withService<T>(fn: (service: RunningHttpService, sandboxUrl: string) => Promise<T>) {
    return withVerificationWorker(stack.env, stack.sandbox, async ({ taskQueue, sandbox }) => {
      const service = await startHttpService({
        config: loadHttpConfig({ HTTP_PORT: '0', HTTP_AUTH_TOKENS: token, ...roomyLimits }),
        verifications: new VerificationClient(stack.env.client, taskQueue),
        logger: false,
      });
      try {
        return await fn(service, sandbox.url);
      } finally {
        await service.close();
      }
    });
  }

  it('Schemathesis, every phase including the stateful one and every check, finds nothing', async function () {
    // One more run, not more: 2 of the last 4 runs met one answer 503 NO_ANSWER_IN_TIME to
    // GET /verifications/:id/outcome?waitSeconds=0 in the stateful phase (a 1 s long poll of the history
    // that outlived the 10 s bound), on a quiet machine too. Not yet explained; docs/development.md ("Python tools of the API tests") and the closing
    // note of issues 23/24/26 carry it. A second failure fails the suite.
    this.retries(1);
    await withService(async (service) => {
      const folder = mkdtempSync(join(tmpdir(), 'schemathesis-'));
      writeFileSync(join(folder, 'schemathesis.toml'), schemathesisConfig);
      const run = await runPython(
        [
          '-m',
          schemathesis.module,
          '--config-file',
          join(folder, 'schemathesis.toml'),
          'run',
          `${service.url}/openapi.json`,
          '--header',
          `Authorization: Bearer ${token}`,
          '--checks',
          'all',
          '--phases',
          'examples,coverage,fuzzing,stateful',
          '--max-examples',
          maxExamples,
          '--seed',
          seed,
          // Not the tool's folder of past failures: each run starts from the seed alone.
          '--generation-database',
          'none',
          '--no-color',
        ],
        { pythonPath: [schemathesisFolder], cwd: folder, timeoutMs: 150_000 },
      ).finally(() => rmSync(folder, { recursive: true, force: true }));
      assert.equal(run.code, 0, run.output);
      // The summary's line per phase: a phase with nothing to run would say ⏭ and still exit 0.
      for (const phase of ['Examples', 'Coverage', 'Fuzzing', 'Stateful']) {
        assert.match(run.output, new RegExp(`✅ ${phase}\n`), `${phase} ran and passed`);
      }
    });
  });

  it('a client generated by openapi-python-client, unchanged, completes a verification', async function () {
    await withService(async (service, sandboxUrl) => {
      const folder = mkdtempSync(join(tmpdir(), 'generated-client-'));
      try {
        const pythonPath = [folder, clientGeneratorFolder];
        const generated = await runPython(
          [
            '-m',
            openapiPythonClient.module,
            'generate',
            '--url',
            `${service.url}/openapi.json`,
            '--meta',
            'none',
            '--output-path',
            join(folder, 'verifications_client'),
          ],
          { pythonPath, cwd: folder, timeoutMs: 60_000 },
        );
        assert.equal(generated.code, 0, generated.output);
        // A warning means an answer the generator could not read was left out of the client.
        assert.doesNotMatch(generated.output, /warning/i, generated.output);

        const control = new SandboxControlClient(sandboxUrl);
        const customer = await control.addCustomer();
        const journey = await runPython(
          [
            join(projectRoot, 'test', 'fixtures', 'generated-client-journey.py'),
            service.url,
            token,
            sandboxUrl,
            customer.customerId,
          ],
          { pythonPath, cwd: folder, timeoutMs: 60_000 },
        );
        assert.equal(journey.code, 0, journey.output);
        const result = JSON.parse(journey.output.trim().split('\n').pop()!) as { status: string };
        assert.equal(result.status, 'MODIFIED', journey.output);
        assert.equal((await control.customer(customer.customerId)).email, 'python.client@example.com');
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    });
  });
});
