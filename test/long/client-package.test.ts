/**
 * The client package as a backend in another repository gets it: `npm pack -w client`, installed into a
 * project created outside this repository, type-checked with strict TypeScript against its declarations
 * only (no path back into the repository's sources), and run: a verification from start to MODIFIED
 * against a real stack, by a process that knows nothing but the package.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../scripts/processes.js';
import { withVerificationWorker, verificationStack } from '../helpers/verification-env.js';

const run = promisify(execFile);
const tsc = join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');

/**
 * What only the worker or the HTTP service needs, native builds included (a name, or a scope ending in
 * "/"): none of it may reach a backend's install.
 */
const workerOnly = [
  '@temporalio/worker',
  '@temporalio/core-bridge',
  'fastify',
  'pino',
  'got',
  'webpack',
  '@swc/',
  'esbuild',
  '@esbuild/',
  'node-gyp',
];

/** The docs' connect-and-start snippet, as written there: it must compile in a backend as shown. */
function docsSnippet(): string {
  const docs = readFileSync(join(projectRoot, 'docs', 'backend-client.md'), 'utf8');
  const snippet = /<!-- compiled by test\/long\/client-package\.test\.ts -->\s*```ts\n([\s\S]*?)```/.exec(
    docs,
  )?.[1];
  assert.ok(snippet, 'docs/backend-client.md marks its install snippet for this test');
  return snippet;
}

/** The backend's journey: start, the code from the sandbox outbox, the verdict, the outcome. */
const journey = `import {
  VerificationAlreadyRunningError,
  VerificationClient,
  temporalTargetFromEnv,
  wireContractVersion,
  type VerificationOutcome,
} from '@dws-verify/client';

const customerId = process.env.CUSTOMER_ID ?? '';
// The test's worker runs without the codec, so this backend sends plain payloads: {} is the SDK's default.
const verifications = await VerificationClient.connect(temporalTargetFromEnv(), {}, process.env.TASK_QUEUE);
const started = await verifications.start({ customerId, change: { email: 'packaged@example.com' } });
let refused = false;
try {
  await verifications.start({ customerId, change: { email: 'packaged@example.com' } });
} catch (err) {
  refused = err instanceof VerificationAlreadyRunningError;
}
const outbox = (await (
  await fetch(\`\${process.env.SANDBOX_URL}/sandbox/outbox?customerId=\${customerId}\`)
).json()) as { code: string }[];
const verdict = await verifications.verifyOtp(customerId, outbox[0]?.code ?? '');
const outcome: VerificationOutcome = await verifications.result(customerId);
console.log(JSON.stringify({ wireContractVersion, started, refused, verdict, outcome }));
await verifications.client.connection.close();
`;

/** Every package name installed under node_modules, nested ones included. */
function installedPackages(nodeModules: string, found = new Set<string>()): Set<string> {
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const names = entry.name.startsWith('@')
      ? readdirSync(join(nodeModules, entry.name)).map((scoped) => `${entry.name}/${scoped}`)
      : [entry.name];
    for (const name of names) {
      found.add(name);
      const nested = join(nodeModules, name, 'node_modules');
      if (statSync(nested, { throwIfNoEntry: false })?.isDirectory()) installedPackages(nested, found);
    }
  }
  return found;
}

function sizeOf(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, entry) => sum + sizeOf(join(path, entry)), 0);
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

describe('the client package, installed by a backend in another repository', function () {
  this.timeout(180_000);
  const stack = verificationStack();
  const consumer = mkdtempSync(join(tmpdir(), 'dws-verify-backend-'));
  after(() => rmSync(consumer, { recursive: true, force: true }));

  before(async function () {
    // prepack builds the package's dist/ (JavaScript and declarations) first.
    const packed = await run('npm', ['pack', '-w', 'client', '--pack-destination', consumer, '--json'], {
      cwd: projectRoot,
    });
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    const tarball = join(consumer, filename);
    writeFileSync(
      join(consumer, 'package.json'),
      JSON.stringify({ name: 'some-backend', private: true, type: 'module' }),
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          // The Temporal SDK's own declarations are not ours to check (envconfig's name the worker's types).
          skipLibCheck: true,
          types: ['node'],
          outDir: 'dist',
        },
        include: ['*.ts'],
      }),
    );
    writeFileSync(join(consumer, 'journey.ts'), journey);
    writeFileSync(join(consumer, 'connect.ts'), docsSnippet());
    // The repository's npm ci filled the cache: offline where it can be, the registry for the rest.
    await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, '@types/node@20.19.43'],
      { cwd: consumer },
    );
    console.log(
      `      packed ${filename}: ${kib(statSync(tarball).size)}; installed tree ${kib(sizeOf(join(consumer, 'node_modules')))} (with @types/node)`,
    );
  });

  it('installs without anything of the worker or the HTTP service', function () {
    const installed = installedPackages(join(consumer, 'node_modules'));
    assert.ok(installed.has('@dws-verify/client'));
    assert.deepEqual(
      [...installed].filter((name) =>
        workerOnly.some((banned) => (banned.endsWith('/') ? name.startsWith(banned) : name === banned)),
      ),
      [],
    );
    const files = readdirSync(join(consumer, 'node_modules', '@dws-verify', 'client', 'dist'), {
      recursive: true,
    }).map(String);
    assert.ok(files.includes(join('client', 'index.d.ts')), 'declarations are shipped');
    assert.ok(!files.some((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')), 'no sources');
  });

  it('type-checks a strict backend, docs snippet included, and runs a journey to MODIFIED', async function () {
    await run(process.execPath, [tsc, '-p', consumer], { cwd: consumer });
    await withVerificationWorker(stack.env, stack.sandbox, async ({ control, taskQueue }) => {
      const customer = await control.addCustomer();
      const backend = await run(process.execPath, [join(consumer, 'dist', 'journey.js')], {
        cwd: consumer,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH,
          TEMPORAL_ADDRESS: stack.env.address,
          TEMPORAL_NAMESPACE: 'default',
          TASK_QUEUE: taskQueue,
          CUSTOMER_ID: customer.customerId,
          SANDBOX_URL: stack.sandbox.url,
        },
      });
      const answer = JSON.parse(backend.stdout) as {
        wireContractVersion: string;
        started: { attached: boolean };
        refused: boolean;
        verdict: { verdict: string };
        outcome: { status: string };
      };
      assert.match(answer.wireContractVersion, /^\d+\.\d+$/);
      assert.equal(answer.started.attached, false);
      assert.ok(answer.refused, 'a second start throws the typed VerificationAlreadyRunningError');
      assert.deepEqual(answer.verdict, { verdict: 'ACCEPTED' });
      assert.equal(answer.outcome.status, 'MODIFIED');
    });
  });
});
