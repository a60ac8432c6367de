/**
 * Where a compiled build keeps what `npm run build` made for it, and the build id a worker reports to
 * Temporal's Worker Deployments when WORKER_BUILD_ID is not set: the package version plus the git
 * revision, as a CI pipeline would tag the build. A compiled build has no .git folder to ask, so the
 * build writes the id beside the code; a source checkout (tsx) asks git at start.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** True when this file runs as compiled JS (dist/), false under tsx. */
export const runsCompiled = extname(fileURLToPath(import.meta.url)) === '.js';

/** The root of the source tree or of dist/: the folder above worker/. */
const buildRoot = new URL('../', import.meta.url);

/** The workflow bundle `npm run build` prebuilds, so a production worker starts without webpack or SWC. */
export const prebuiltBundlePath = fileURLToPath(new URL('workflow-bundle.js', buildRoot));

/** The same with the OpenTelemetry workflow interceptors, for a worker whose tracing is on. */
export const prebuiltTracedBundlePath = fileURLToPath(new URL('workflow-bundle.traced.js', buildRoot));

/** `{ "buildId": "..." }`, written by `npm run build`. */
export const buildInfoPath = fileURLToPath(new URL('build-info.json', buildRoot));

/** `<package version>+<git revision>`, with `.dirty` when the working tree has uncommitted changes. */
export function sourceBuildId(projectDir: string): string | undefined {
  const { version } = JSON.parse(readFileSync(`${projectDir}/package.json`, 'utf8')) as { version: string };
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: projectDir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    const revision = git('rev-parse', '--short=12', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return `${version}+${revision}${dirty ? '.dirty' : ''}`;
  } catch {
    // No git or no repository: the caller names WORKER_BUILD_ID as the setting to provide.
    return undefined;
  }
}

/** The build id of the code this process runs, or undefined when neither the build nor git can say. */
export function defaultBuildId(): string | undefined {
  // A compiled build answers for itself; asking git there could name a later checkout than the one built.
  if (runsCompiled) {
    if (!existsSync(buildInfoPath)) return undefined;
    return (JSON.parse(readFileSync(buildInfoPath, 'utf8')) as { buildId?: string }).buildId;
  }
  return sourceBuildId(fileURLToPath(buildRoot));
}
