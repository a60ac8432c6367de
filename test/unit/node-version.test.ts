import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRootOf } from '../../config/project-files.js';

const major = (version: string) => Number(version.replace(/^v/, '').split('.')[0]);

/** `engines.node` as this project writes it: `^X.Y.Z` and `>=X.Y.Z` ranges joined by `||`. */
function satisfies(version: string, range: string): boolean {
  const [ma = 0, mi = 0, pa = 0] = version.split('.').map(Number);
  return range.split('||').some((part) => {
    const match = /^\s*(\^|>=)\s*(\d+)\.(\d+)\.(\d+)\s*$/.exec(part);
    if (!match) throw new Error(`engines.node part "${part}" is not ^X.Y.Z or >=X.Y.Z`);
    const [, op, a, b, c] = match;
    const atLeast = ma * 1e6 + mi * 1e3 + pa >= Number(a) * 1e6 + Number(b) * 1e3 + Number(c);
    return atLeast && (op === '>=' || ma === Number(a));
  });
}

describe('the Node the suite runs on', function () {
  it('is one package.json declares supported', function () {
    const { engines } = JSON.parse(
      readFileSync(join(projectRootOf(import.meta.url), 'package.json'), 'utf8'),
    ) as { engines: { node: string } };
    assert.ok(
      satisfies(process.versions.node, engines.node),
      `Node ${process.versions.node} is outside engines.node "${engines.node}"`,
    );
  });

  it('is the one `npm run test:node24` asked for, in mocha and in the tools npm starts', function () {
    // Without this a PATH mix-up would run the suite on the machine's older Node and pass, proving nothing.
    const expected = process.env.DWS_EXPECT_NODE_MAJOR;
    if (!expected) return;
    assert.equal(major(process.version), Number(expected), 'mocha runs on another Node');
    const onPath = execFileSync('node', ['--version'], { encoding: 'utf8' }).trim();
    assert.equal(major(onPath), Number(expected), `\`node\` on PATH (tsc, eslint, npm) is ${onPath}`);
  });
});
