import assert from 'node:assert/strict';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { spawnNode, waitForLine } from '../../scripts/processes.js';

const entry = fileURLToPath(new URL('../fixtures/stop-on-signals.ts', import.meta.url));

async function exitCodeAfter(
  how: string,
  signals: NodeJS.Signals[],
): Promise<{ code: number | null; out: string }> {
  const child = spawnNode(entry, { env: { ...process.env, STOP: how } });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  await waitForLine(child, /^ready$/, { name: 'the fixture', timeoutMs: 30_000 });
  for (const signal of signals) {
    child.kill(signal);
    await waitForLine(child, /^stopping on/, { name: 'the fixture', timeoutMs: 5_000 }).catch(
      () => undefined,
    );
  }
  const [code] = await exited;
  return { code, out };
}

describe('stopOnSignals', function () {
  it('stops once and exits 0 on SIGTERM', async function () {
    const { code, out } = await exitCodeAfter('completes', ['SIGTERM']);
    assert.equal(code, 0);
    assert.match(out, /stopping on SIGTERM/);
  });

  it('exits 1 when the stop fails', async function () {
    assert.equal((await exitCodeAfter('fails', ['SIGINT'])).code, 1);
  });

  it('exits 1 at once on a second signal while the stop hangs', async function () {
    const { code, out } = await exitCodeAfter('hangs', ['SIGINT', 'SIGINT']);
    assert.equal(code, 1);
    assert.equal(out.match(/stopping on/g)?.length, 1);
  });
});
