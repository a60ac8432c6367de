/**
 * The client package's manifest against the repository's: one version of each shared dependency (two
 * copies of the Temporal SDK would make a `Client` from one fail the other's checks), and a CHANGELOG entry
 * for the package version and the wire contract version it ships. The install itself is
 * test/long/client-package.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wireContractVersion } from '@dws-verify/client';
import { projectRoot } from '../../scripts/processes.js';

interface Manifest {
  version: string;
  engines: { node: string };
  dependencies: Record<string, string>;
}

const manifest = (path: string) => JSON.parse(readFileSync(join(projectRoot, path), 'utf8')) as Manifest;

describe('the client package manifest', function () {
  const root = manifest('package.json');
  const client = manifest('client/package.json');

  it('pins every dependency at the version the repository itself uses, and the same Node', function () {
    for (const [name, version] of Object.entries(client.dependencies)) {
      assert.equal(version, root.dependencies[name], `${name} in client/package.json`);
    }
    assert.equal(root.dependencies['@dws-verify/client'], client.version);
    assert.equal(client.engines.node, root.engines.node);
  });

  it('has a CHANGELOG entry naming its version and the wire contract version', function () {
    const changelog = readFileSync(join(projectRoot, 'client', 'CHANGELOG.md'), 'utf8');
    assert.ok(
      changelog.includes(`## ${client.version} (wire contract ${wireContractVersion})`),
      `client/CHANGELOG.md has no "## ${client.version} (wire contract ${wireContractVersion})"`,
    );
  });
});
