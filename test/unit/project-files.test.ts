import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../../config/errors.js';
import { projectRootOf, sandboxKeyPath } from '../../config/project-files.js';

describe('project files', function () {
  let root: string;

  before(function () {
    // A project as `npm run build` leaves it: the sources, the keys, and dist/ beside them without any.
    root = mkdtempSync(join(tmpdir(), 'project-files-'));
    writeFileSync(join(root, 'package.json'), '{}');
    mkdirSync(join(root, 'sandbox', 'keys'), { recursive: true });
    writeFileSync(join(root, 'sandbox', 'keys', 'wonder-merchant.private.pem'), 'key');
    mkdirSync(join(root, 'dist', 'activities', 'wonder'), { recursive: true });
  });

  after(function () {
    rmSync(root, { recursive: true, force: true });
  });

  it('finds a sandbox key from the source layout and from a compiled build in dist/', function () {
    const expected = join(root, 'sandbox', 'keys', 'wonder-merchant.private.pem');
    const source = pathToFileURL(join(root, 'activities', 'wonder', 'config.ts'));
    const compiled = pathToFileURL(join(root, 'dist', 'activities', 'wonder', 'config.js'));
    assert.equal(sandboxKeyPath('wonder-merchant.private.pem', source), expected);
    assert.equal(sandboxKeyPath('wonder-merchant.private.pem', compiled), expected);
    assert.equal(projectRootOf(compiled), root);
  });

  it('names the missing key', function () {
    assert.throws(
      () => sandboxKeyPath('dws-merchant.private.pem', join(root, 'dist', 'config', 'project-files.js')),
      (err: unknown) =>
        err instanceof ConfigError && err.variable === 'sandbox/keys/dws-merchant.private.pem',
    );
  });

  it("finds this project's keys by default", function () {
    assert.match(sandboxKeyPath('dws-provider.public.pem'), /sandbox\/keys\/dws-provider\.public\.pem$/);
  });
});
