/**
 * The Python tools the API tests run on /openapi.json, tools nobody on this project wrote: Schemathesis
 * (the property-based API tester) and openapi-python-client (a client generator). Each is a pinned set
 * from PyPI, installed on first use into `.tools/pypi/<tool>` (git-ignored, kept between runs) with
 * scripts/pypi.ts, so a fresh machine needs only Python 3 with pip and the registry.
 */
import { spawn } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { projectRoot } from '../../scripts/processes.js';
import { installedIn, pipInstall, pythonCommand, type PypiPackage } from '../../scripts/pypi.js';

export interface PythonTool {
  /** the folder under .tools/pypi, one per tool: pip --target --upgrade replaces a shared folder wholesale */
  folder: string;
  /** `python -m <module>` runs it */
  module: string;
  packages: readonly PypiPackage[];
}

export const schemathesis: PythonTool = {
  folder: 'schemathesis',
  module: 'schemathesis.cli',
  packages: [{ name: 'schemathesis', version: '4.32.5' }],
};

export const openapiPythonClient: PythonTool = {
  folder: 'openapi-python-client',
  module: 'openapi_python_client',
  packages: [
    { name: 'openapi-python-client', version: '0.29.1' },
    // What a generated client imports beyond the generator's own dependencies (httpx, attrs).
    { name: 'python-dateutil', version: '2.9.0.post0' },
  ],
};

export const pythonToolsRoot = join(projectRoot, '.tools', 'pypi');

/** The tool's folder, for PYTHONPATH; installs the pinned set there first if it is not. */
export function installPythonTool(tool: PythonTool, log = (line: string) => console.error(line)): string {
  const target = join(pythonToolsRoot, tool.folder);
  if (!tool.packages.every((pkg) => installedIn(pkg, target))) {
    log(
      `      installing ${tool.packages.map((p) => `${p.name}==${p.version}`).join(' ')} into ${target} ...`,
    );
    pipInstall(tool.packages, target, { deps: true });
  }
  return target;
}

export interface PythonRun {
  code: number | null;
  /** stdout and stderr as they came */
  output: string;
}

export interface RunPythonOptions {
  /** folders put first on PYTHONPATH: installed tools, generated code */
  pythonPath: string[];
  cwd?: string;
  timeoutMs: number;
}

/**
 * Runs python with `args`, without blocking the event loop: the worker and the HTTP service the tool
 * talks to run in this process. Killed (and answered with its output so far) after `timeoutMs`.
 */
export function runPython(args: string[], options: RunPythonOptions): Promise<PythonRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(pythonCommand(), args, {
      cwd: options.cwd ?? projectRoot,
      // The pinned folders come first; the user's own site-packages are left out so they cannot shadow them.
      // Their bin/ folders go on PATH for the tools a tool runs (the client generator runs ruff).
      env: {
        ...process.env,
        PATH: [...options.pythonPath.map((folder) => join(folder, 'bin')), process.env.PATH].join(delimiter),
        PYTHONPATH: options.pythonPath.join(delimiter),
        PYTHONNOUSERSITE: '1',
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      output += `\n[killed after ${options.timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
