import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../scripts/demo.js';
import { startEmbedded, type Embedded } from '../scripts/embedded.js';

// The newcomer's path (`npm run demo`) runs here so it cannot rot: the whole embedded default (its own dev
// server, sandbox, worker and HTTP service, on free ports) and one verification driven through HTTP.
describe('the demo against the embedded default', function () {
  let embedded: Embedded | undefined;
  const folder = mkdtempSync(join(tmpdir(), 'demo-'));

  after(async () => {
    await embedded?.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('drives one verification to MODIFIED and links it in the Temporal UI', async function () {
    this.timeout(120_000);
    embedded = await startEmbedded({
      env: { PATH: process.env.PATH },
      temporalPort: 0,
      uiPort: 0,
      sandboxPort: 0,
      httpPort: 0,
      dbFile: join(folder, 'dev.sqlite'),
      httpLogs: false,
      log: () => undefined,
    });
    assert.ok(embedded.sandboxUrl, 'the embedded default starts the sandbox');
    const lines: string[] = [];
    const result = await runDemo(
      { ...embedded, token: embedded.httpToken, sandboxUrl: embedded.sandboxUrl },
      (line) => lines.push(line),
    );
    assert.equal(result.outcome, 'MODIFIED');
    assert.match(result.uiLink ?? '', new RegExp(`/namespaces/default/workflows/${result.verificationId}$`));
    assert.ok(lines.some((line) => /INCORRECT \(4 attempts left\)/.test(line)));
    assert.ok(
      lines.some((line) => /encryptPin\(\): ACCEPTED.*; MODIFIED/.test(line)),
      'the PIN leg completes',
    );
    assert.ok(!lines.join('\n').includes('new.address@example.com'), 'the demo prints no unmasked email');
  });
});
