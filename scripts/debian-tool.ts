/**
 * A program the tests need from Debian (Chromium, redis-server): the one way to find it or install it.
 * Order: the variable naming a binary, then the command on PATH, then Debian's path; when none exists and
 * we run as root, `apt-get install` (after one `apt-get update`); otherwise one sentence saying what to
 * install. Machines here reach package registries only, so Debian's package is the one source.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface DebianTool {
  /** what the messages call it: "Chromium" */
  label: string;
  /** the variable that names another binary: CHROMIUM_PATH */
  pathVariable: string;
  /** the command looked up on PATH: redis-server (none: only Debian's path) */
  command?: string;
  /** where Debian's package puts it */
  debianPath: string;
  aptPackage: string;
}

export class ToolMissingError extends Error {
  override name = 'ToolMissingError';
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  return (env.PATH ?? '')
    .split(delimiter)
    .filter((folder) => folder !== '')
    .map((folder) => join(folder, command))
    .find(executable);
}

export function debianToolPath(
  tool: DebianTool,
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = (line) => console.error(line),
): string {
  const configured = env[tool.pathVariable];
  if (configured) {
    if (!executable(configured)) {
      throw new ToolMissingError(`${tool.pathVariable} is set to ${configured}, which is not executable.`);
    }
    return configured;
  }
  const found =
    (tool.command ? onPath(tool.command, env) : undefined) ??
    (executable(tool.debianPath) ? tool.debianPath : undefined);
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new ToolMissingError(
      `${tool.label} is not installed at ${tool.debianPath}: run \`sudo apt-get install -y ${tool.aptPackage}\` (Debian/Ubuntu) or set ${tool.pathVariable} to a ${tool.label} binary.`,
    );
  }
  log(`Installing ${tool.label} with apt-get (once) ...`);
  const apt = (args: string[]) =>
    execFileSync('apt-get', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  try {
    apt(['update']);
    apt(['install', '-y', '--no-install-recommends', tool.aptPackage]);
  } catch (err) {
    const reason = String((err as { stderr?: Buffer }).stderr ?? '')
      .trim()
      .split('\n')
      .pop();
    throw new ToolMissingError(
      `apt-get could not install ${tool.aptPackage} (${reason || 'apt-get failed'}); install it yourself or set ${tool.pathVariable}.`,
    );
  }
  if (!executable(tool.debianPath)) {
    throw new ToolMissingError(`apt-get installed ${tool.aptPackage} but ${tool.debianPath} is missing.`);
  }
  return tool.debianPath;
}
