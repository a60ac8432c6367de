/**
 * Files the code finds in the project rather than in a setting: the sandbox's committed keys and the
 * embedded default's local secrets. They are found from the project's root, never from a fixed number of
 * `../` above the module that asks: that number differs between the source tree (activities/wonder/) and
 * a compiled build (dist/activities/wonder/), and dist/ holds neither keys nor secrets of its own.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './errors.js';

/** The nearest folder at or above `from` (a module's URL or path) with a package.json: the project's root. */
export function projectRootOf(from: string | URL): string {
  const start = from instanceof URL || from.startsWith('file:') ? fileURLToPath(from) : from;
  let dir = dirname(start);
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/**
 * A key pair file of the local simulators (public on purpose: sandbox/keys/README.md). `from` is where
 * the search starts, this module by default.
 */
export function sandboxKeyPath(name: string, from: string | URL = import.meta.url): string {
  const path = join(projectRootOf(from), 'sandbox', 'keys', name);
  if (!existsSync(path)) throw new ConfigError(`sandbox/keys/${name}`, 'is missing');
  return path;
}
