/**
 * The validators the workflow and the client library import are generated from the wire schemas
 * (scripts/generate-wire-validators.ts): a schema changed without regenerating them would check the old
 * contract.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  generateCommand,
  generateWireValidators,
  wireValidatorsPath,
} from '../../scripts/generate-wire-validators.js';

describe('the generated wire validators', function () {
  it('are what the wire schemas generate now', function () {
    const committed = readFileSync(wireValidatorsPath, 'utf8');
    assert.ok(
      committed === generateWireValidators(),
      `${wireValidatorsPath} is out of date with workflows/wire-schemas.ts: run \`${generateCommand}\``,
    );
  });
});
