import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Browser, Page } from 'playwright-core';
import { createDataConverter } from '../../codec/data-converter.js';
import { formatKeyEntry, loadKeyRing, parseKeyRing } from '../../codec/keyring.js';
import { startHttpService } from '../../http/server.js';
import { VerificationClient } from '@dws-verify/client';
import { launchChromium } from '../../scripts/browser.js';
import { runDemo } from '../../scripts/demo.js';
import { startDevServer, type RunningDevServer } from '../../scripts/dev-server.js';
import { startEmbedded, type Embedded } from '../../scripts/embedded.js';
import { freePort, projectRoot } from '../../scripts/processes.js';

// Kept after the run (git-ignored): what an operator sees, to look at when this test fails or changes.
const artifacts = join(projectRoot, 'test-artifacts');
const codecError = 'Codec Server could not connect';
// base64 of "binary/encrypted", the encoding of every payload we write: on a page it means ciphertext.
const ciphertextMarker = Buffer.from('binary/encrypted').toString('base64');

async function pageText(page: Page): Promise<string> {
  return page.locator('body').innerText();
}

/**
 * Waits, with no deadline of its own (the test's bounds it), until the page shows all of `texts` and none
 * of `absent`: the UI renders in waves, so a snapshot can catch a payload between fetch and decode.
 */
async function waitForTexts(page: Page, texts: string[], absent: string[] = []): Promise<void> {
  // Runs in the page, where `document` exists; this file is compiled without the DOM types.
  const settled = `([shown, absent]) => {
    const text = document.body.innerText;
    return shown.every((t) => text.includes(t)) && !absent.some((t) => text.includes(t));
  }`;
  await page.waitForFunction(settled, [texts, absent], { timeout: 0 });
}

/**
 * The UI first renders the workflow's address, then moves to `/<run id>/timeline` and renders it all
 * again, payloads included: texts found before that move are gone a moment later.
 */
async function openWorkflow(page: Page, uiUrl: string, workflowId: string): Promise<void> {
  await page.goto(`${uiUrl}/namespaces/default/workflows/${workflowId}`);
  await page.waitForURL(/\/timeline$/);
}

describe('the Temporal UI in a real browser', function () {
  this.timeout(120_000);
  let browser: Browser;
  const folder = mkdtempSync(join(tmpdir(), 'ui-browser-'));

  before(async function () {
    // The first run on a fresh machine may install Debian's Chromium.
    this.timeout(600_000);
    mkdirSync(artifacts, { recursive: true });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  describe('on the embedded default', function () {
    let embedded: Embedded;
    let modifiedId: string;
    let rejectedId: string;

    before(async function () {
      embedded = await startEmbedded({
        env: { PATH: process.env.PATH },
        temporalPort: 0,
        uiPort: 0,
        sandboxPort: 0,
        httpPort: 0,
        dbFile: join(folder, 'embedded.sqlite'),
        httpLogs: false,
        log: () => undefined,
      });
      const demo = await runDemo(
        { ...embedded, token: embedded.httpToken, sandboxUrl: embedded.sandboxUrl ?? '' },
        () => undefined,
      );
      assert.equal(demo.outcome, 'MODIFIED');
      modifiedId = demo.verificationId;

      // A customer the sandbox does not know: DWS answers F PROCESS_FAIL at the consult.
      const unknown = `2199${String(randomInt(1e9)).padStart(9, '0')}${String(randomInt(1e6)).padStart(6, '0')}`;
      const started = await fetch(`${embedded.httpUrl}/verifications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${embedded.httpToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ customerId: unknown, change: { email: 'never.applied@example.com' } }),
      });
      assert.equal(started.status, 201);
      rejectedId = ((await started.json()) as { verificationId: string }).verificationId;
      const connection = await Connection.connect({ address: embedded.temporalAddress });
      try {
        const client = new Client({
          connection,
          dataConverter: createDataConverter(loadKeyRing({}, { allowDevKey: true })),
        });
        const outcome = await client.workflow.getHandle(rejectedId).result();
        assert.equal(outcome.status, 'REJECTED');
      } finally {
        await connection.close();
      }
    });

    after(async () => {
      await embedded?.stop();
    });

    it('shows a finished verification decoded at first look: new email, status, timeline; no codec error', async function () {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      // Every wait below is bounded by the test's own timeout, never by one of Playwright's.
      page.setDefaultTimeout(0);
      try {
        await openWorkflow(page, embedded.uiUrl ?? '', modifiedId);
        // The input's new email, the result's status and its timeline, decoded; the UI's own timeline.
        // No payload left encrypted and no codec error, once the page has settled.
        await waitForTexts(
          page,
          [
            'new.address@example.com',
            '"status": "MODIFIED"',
            '"event": "consulted"',
            '"step": "VERIFYING"',
            'consultModification',
          ],
          [ciphertextMarker, codecError],
        );
        await page.getByTestId('data-encoder-status-success').waitFor();
        assert.ok(!(await pageText(page)).includes(codecError));
        await page.screenshot({ path: join(artifacts, 'temporal-ui-verification.png') });

        await page.getByText('User Metadata').click();
        await waitForTexts(page, ['Contact change (email) for DWS customer', 'MODIFIED: applied at DWS.']);
        await page.screenshot({ path: join(artifacts, 'temporal-ui-user-metadata.png') });
      } finally {
        await page.close();
      }
    });

    it("lists the outcome and the provider's code as search attribute columns", async function () {
      const page = await browser.newPage({ viewport: { width: 1400, height: 700 } });
      // Every wait below is bounded by the test's own timeout, never by one of Playwright's.
      page.setDefaultTimeout(0);
      try {
        const query = encodeURIComponent('VerificationOutcome="REJECTED"');
        await page.goto(`${embedded.uiUrl}/namespaces/default/workflows?query=${query}`);
        await waitForTexts(page, [rejectedId]);
        assert.ok(!(await pageText(page)).includes(modifiedId), 'the filter keeps only rejected flows');
        // The operator's one-time choice (the UI keeps it in this browser): two custom columns.
        await page.getByTestId('workflows-summary-table-configuration-button').click();
        for (const name of ['VerificationOutcome', 'VerificationResultCode']) {
          await page.getByRole('button', { name: `Add ${name} column` }).click();
          // Next to the workflow id (past End, Start, Type and Run ID), where a reader looks first.
          for (let i = 0; i < 4; i++)
            await page.getByRole('button', { name: `Move ${name} column up` }).click();
        }
        await page.getByTestId('drawer-close-button').click();
        const row = page.locator('tr', { hasText: rejectedId });
        await row.getByText('PROCESS_FAIL').waitFor();
        assert.match(await row.innerText(), /REJECTED/);
        await page.screenshot({ path: join(artifacts, 'temporal-ui-list.png') });
      } finally {
        await page.close();
      }
    });
  });

  describe('with a configured key (production-shaped, all on loopback)', function () {
    let devServer: RunningDevServer;
    let close: () => Promise<void>;
    let workflowId: string;
    let inputCiphertext: string;

    before(async function () {
      const httpPort = await freePort();
      devServer = await startDevServer({
        port: await freePort(),
        uiPort: await freePort(),
        dbFile: join(folder, 'configured-key.sqlite'),
        extraArgs: ['--ui-codec-endpoint', `http://localhost:${httpPort}/codec`],
      });
      const key = formatKeyEntry('k1', randomBytes(32));
      const keyRing = parseKeyRing(key, 'TEMPORAL_CODEC_KEYS');
      const connection = await Connection.connect({ address: devServer.address });
      const client = new Client({ connection, dataConverter: createDataConverter(keyRing) });
      const token = randomBytes(24).toString('base64url');
      const http = await startHttpService({
        env: {
          TEMPORAL_CODEC_KEYS: key,
          HTTP_PORT: String(httpPort),
          HTTP_AUTH_TOKENS: token,
          CODEC_AUTH_TOKEN: token,
          CODEC_UI_ORIGIN: devServer.uiUrl,
        },
        verifications: new VerificationClient(client),
        codecKeyRing: keyRing,
        allowLocalUiAccess: true,
        logger: false,
      });
      assert.equal(http.codecLocalUiAccess?.allowed, false);
      close = async () => {
        await http.close();
        await connection.close();
        await devServer.stop();
      };
      // No worker: the started flow's input is all the page needs.
      workflowId = `configured-key-${randomInt(1e9)}`;
      const handle = await client.workflow.start('verifyContactChange', {
        taskQueue: 'nobody-polls-this',
        workflowId,
        args: [{ customerId: '2188000000000000001', change: { email: 'secret.address@example.com' } }],
      });
      const started = (await handle.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
      const data = started?.input?.payloads?.[0]?.data;
      assert.ok(data);
      // What the UI shows of a payload it could not decode: its data, in base64.
      inputCiphertext = Buffer.from(data).toString('base64').slice(0, 32);
    });

    after(async () => {
      await close?.();
    });

    it('shows ciphertext only to a browser that has not signed in', async function () {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      // Every wait below is bounded by the test's own timeout, never by one of Playwright's.
      page.setDefaultTimeout(0);
      try {
        await openWorkflow(page, devServer.uiUrl, workflowId);
        await waitForTexts(page, [inputCiphertext, codecError]);
        assert.ok(!(await pageText(page)).includes('secret.address@example.com'));
        await page.screenshot({ path: join(artifacts, 'temporal-ui-configured-key.png') });
      } finally {
        await page.close();
      }
    });
  });
});
