/**
 * Secrets for the embedded default live in git-ignored files under `.temporal/`, made on first use.
 * The worker, the client and the HTTP service may start together, so the file is written aside and
 * linked into place: exactly one writer wins and everybody reads the winner's content.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectRootOf } from '../config/project-files.js';

/** `.temporal/<name>` in the project root, from the source tree and from dist/ alike. */
export function devSecretPath(name: string): string {
  return join(projectRootOf(import.meta.url), '.temporal', name);
}

export function readOrCreateSecretFile(path: string, makeContent: () => string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const draft = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(draft, makeContent(), { mode: 0o600 });
  try {
    linkSync(draft, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(draft, { force: true });
  }
  return readFileSync(path, 'utf8');
}
