/**
 * `npm run build`: the production artefact in dist/. Only what production runs is compiled (workflows,
 * activities, worker, client library and HTTP service, config); the workflow bundle is made here once,
 * from the compiled workflows, so a worker started from dist/ needs neither tsx nor webpack nor SWC; and
 * the build id (package version plus git revision) is written beside it for Worker Versioning.
 *
 * `node dist/worker/main.js` and `node dist/http/main.js` then run after `npm ci --omit=dev` (the HTTP
 * service also needs client/, the workspace package it imports, with its dist/).
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { projectRoot } from './processes.js';
import type * as BuildInfoModule from '../worker/build-info.js';
import { sourceBuildId } from '../worker/build-info.js';
import type * as RunModule from '../worker/run.js';
import type * as TracingModule from '../observability/temporal.js';

export const distFolder = join(projectRoot, 'dist');
const clientPackage = join(projectRoot, 'client');

export async function build(
  log: (line: string) => void = (line) => console.log(line),
): Promise<string | undefined> {
  // A stale file from an earlier, wider compile (tests, bench) must not ship.
  rmSync(distFolder, { recursive: true, force: true });
  rmSync(join(clientPackage, 'dist'), { recursive: true, force: true });
  const tsc = join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  // The HTTP service imports the client package by its name, which Node resolves to the package's own
  // build (client/dist/), as it would for a backend that installed it.
  for (const project of [join(projectRoot, 'tsconfig.build.json'), join(clientPackage, 'tsconfig.json')]) {
    execFileSync(process.execPath, [tsc, '-p', project], { cwd: projectRoot, stdio: 'inherit' });
  }
  // The compiled module, so the bundle holds the compiled workflows and failure converter (dist/ paths).
  const compiled = (await import(
    pathToFileURL(join(distFolder, 'worker', 'run.js')).href
  )) as typeof RunModule;
  const buildInfo = (await import(
    pathToFileURL(join(distFolder, 'worker', 'build-info.js')).href
  )) as typeof BuildInfoModule;
  const bundle = await compiled.buildWorkflowBundle();
  writeFileSync(buildInfo.prebuiltBundlePath, bundle.code);
  // A worker with tracing on loads this one: the same workflows with the OpenTelemetry interceptors.
  const tracing = (await import(
    pathToFileURL(join(distFolder, 'observability', 'temporal.js')).href
  )) as typeof TracingModule;
  const traced = await compiled.buildWorkflowBundle(undefined, undefined, [tracing.workflowTracingModule]);
  writeFileSync(buildInfo.prebuiltTracedBundlePath, traced.code);
  // Without git (a source tarball) the build has no id of its own, and WORKER_BUILD_ID becomes required:
  // two builds must never share an id.
  const buildId = sourceBuildId(projectRoot);
  writeFileSync(buildInfo.buildInfoPath, `${JSON.stringify(buildId ? { buildId } : {}, null, 2)}\n`);
  log(
    `dist/ built: build id ${buildId ?? 'unknown (no git revision): set WORKER_BUILD_ID'}, workflow bundle ${(bundle.code.length / 1024).toFixed(0)} KiB`,
  );
  return buildId;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Not a top-level await: the deploy test imports build() from here.
  build().catch((err: unknown) => {
    console.error((err as Error).message);
    process.exit(1);
  });
}
