/**
 * `npm run demo`: one complete verification driven only through the HTTP service, step by step, against
 * the embedded default. If `npm start` is already running it is used; otherwise the demo starts the
 * embedded default itself and stops it afterwards.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import got, { type Got } from 'got';
import { encryptPin } from '@dws-verify/client';
import { SandboxControlClient } from '../sandbox/control-client.js';
import type { OtpVerdict, VerificationState } from '../workflows/types.js';
import { devHttpToken } from '../http/config.js';
import { startEmbedded } from './embedded.js';

export interface DemoTarget {
  httpUrl: string;
  token: string;
  sandboxUrl: string;
  uiUrl?: string;
  namespace?: string;
}

export interface DemoResult {
  verificationId: string;
  outcome: string;
  uiLink?: string;
}

export async function runDemo(
  target: DemoTarget,
  say: (line: string) => void = console.log,
): Promise<DemoResult> {
  const api: Got = got.extend({
    prefixUrl: target.httpUrl,
    headers: { authorization: `Bearer ${target.token}` },
    responseType: 'json',
    retry: { limit: 0 },
  });
  const sandbox = new SandboxControlClient(target.sandboxUrl);

  // A fresh wallet user each run (a new id), so the demo can be repeated against the same server.
  const { customerId } = await sandbox.addCustomer({ email: 'old.address@example.com' });
  say(`1. The sandbox wallet has customer ${customerId} (email o*****s@example.com).`);

  const started = await api
    .post('verifications', { json: { customerId, change: { email: 'new.address@example.com' } } })
    .json<{ verificationId: string }>();
  const id = started.verificationId;
  say(`2. POST /verifications started ${id}.`);

  const waiting = await pollState(api, id, (s) => s.step === 'AWAITING_INPUT' || s.step === 'DONE');
  say(
    `3. The workflow consulted DWS and triggered the challenge: a ${waiting.challengeType === 'sms' ? 'SMS code' : 'PIN challenge'} went to ` +
      `${waiting.maskedDestination}; ${waiting.attemptsLeft} attempts, expires ${waiting.expiresAt}.`,
  );

  const code = await sandbox.latestOtp(customerId);
  say('4. The user reads the SMS (here: the sandbox outbox).');

  const wrong = code === '000000' ? '111111' : '000000';
  const first = await submit(api, id, customerId, wrong);
  say(`5. A mistyped code: POST /verifications/${id}/otp answers ${describeVerdict(first)}.`);
  const second = await submit(api, id, customerId, code);
  say(`6. The right code: ${describeVerdict(second)}.`);

  const done = await pollState(api, id, (s) => s.step === 'DONE');
  say(`7. Finished: ${done.outcome}. Timeline:`);
  for (const entry of done.timeline) say(`     ${entry.at}  ${entry.step.padEnd(14)} ${entry.event}`);

  // The app team's side of a PIN challenge: encrypt the PIN with the state's encryptionInfo.
  const pin = '135790';
  const { customerId: pinCustomerId } = await sandbox.addCustomer({
    email: 'pin.old@example.com',
    challengeType: 'PAYMENT_PASSWORD',
    pin,
  });
  const pinRun = await api
    .post('verifications', { json: { customerId: pinCustomerId, change: { email: 'pin.new@example.com' } } })
    .json<{ verificationId: string }>();
  const pinWaiting = await pollState(
    api,
    pinRun.verificationId,
    (s) => s.step === 'AWAITING_INPUT' || s.step === 'DONE',
  );
  if (!pinWaiting.encryptionInfo) throw new Error('the PIN challenge came without encryptionInfo');
  say(
    `8. A PIN customer: the state carries encryptionInfo (${pinWaiting.encryptionInfo.algorithm ?? 'key material'}).`,
  );
  const pinVerdict = await submit(
    api,
    pinRun.verificationId,
    pinCustomerId,
    await encryptPin(pin, pinWaiting.encryptionInfo),
  );
  const pinDone = await pollState(api, pinRun.verificationId, (s) => s.step === 'DONE');
  say(
    `9. The app posts the PIN encrypted by encryptPin(): ${describeVerdict(pinVerdict)}; ${pinDone.outcome}.`,
  );

  const uiLink = target.uiUrl
    ? `${target.uiUrl}/namespaces/${target.namespace ?? 'default'}/workflows/${encodeURIComponent(id)}`
    : undefined;
  if (uiLink) say(`10. See it in the Temporal UI: ${uiLink}`);
  return { verificationId: id, outcome: done.outcome ?? 'UNKNOWN', ...(uiLink ? { uiLink } : {}) };
}

async function submit(api: Got, id: string, customerId: string, code: string): Promise<OtpVerdict> {
  return api
    .post(`verifications/${encodeURIComponent(id)}/otp`, { json: { customerId, code } })
    .json<OtpVerdict>();
}

function describeVerdict(verdict: OtpVerdict): string {
  return verdict.verdict === 'INCORRECT'
    ? `INCORRECT (${verdict.attemptsLeft} attempts left)`
    : verdict.verdict;
}

async function pollState(
  api: Got,
  id: string,
  done: (state: VerificationState) => boolean,
): Promise<VerificationState> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const state = await api.get(`verifications/${encodeURIComponent(id)}`).json<VerificationState>();
    if (done(state)) return state;
    if (Date.now() > deadline) throw new Error(`verification ${id} is still at ${state.step} after a minute`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function isUp(url: string): Promise<boolean> {
  try {
    await got(`${url}/healthz`, { timeout: { request: 1000 }, retry: { limit: 0 } });
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const httpUrl = process.env.DEMO_HTTP_URL ?? 'http://127.0.0.1:8080';
  if (await isUp(httpUrl)) {
    console.log(`Using the running embedded default at ${httpUrl}.\n`);
    await runDemo({
      httpUrl,
      token: process.env.DEMO_HTTP_TOKEN ?? devHttpToken,
      sandboxUrl: process.env.DEMO_SANDBOX_URL ?? 'http://127.0.0.1:8090',
      uiUrl: process.env.DEMO_UI_URL ?? 'http://localhost:8233',
    });
    return;
  }
  console.log('Starting the embedded default for the demo (npm start keeps it running) ...');
  const embedded = await startEmbedded({ httpLogs: false, workerLogLevel: 'WARN', log: () => undefined });
  try {
    if (!embedded.sandboxUrl) throw new Error('the demo needs the provider sandbox: unset DWS_BASE_URL');
    console.log('');
    await runDemo({ ...embedded, token: embedded.httpToken, sandboxUrl: embedded.sandboxUrl });
  } finally {
    await embedded.stop();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (err: Error) => {
      console.error(`The demo failed: ${err.message}`);
      process.exit(1);
    },
  );
}
