/**
 * Records the history of one complete flow (against a throwaway dev server and the sandbox) as a replay
 * fixture: `npx tsx scripts/record-history.ts <name> [--payment-method] [--wonder | --reject | --pin |
 * --journey | --cancel | --loose-policy | --malformed | --trigger-refused | --verify-refused] [--webhooks]`. The name
 * says which patch the history belongs to (docs/patches.md):
 * `<patch id>.<workflow type>.<before|marker>[.<variant>]`. A "before" history is recorded with the code
 * before the patch, so run this script in a worktree of that commit (docs/patches.md says how).
 * `--pin` records the seeded PIN customer's flow instead.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { sandboxDwsConfig } from '../activities/dws/config.js';
import { sandboxWonderConfig } from '../activities/wonder/config.js';
import { encryptPin, VerificationClient } from '@dws-verify/client';
import { startSandbox } from '../sandbox/server.js';
import { resendOtpSignal, submitOtpSignal, stateQuery } from '../workflows/messages.js';
import { verificationSearchAttributes } from '../workflows/search-attributes.js';
import { changeWonderPaymentMethod } from '../workflows/payment-method.js';
import { verifyContactChange } from '../workflows/verification.js';
import { temporalCliPath } from './temporal-binaries.js';
import { createActivities, workflowsPath } from '../worker/run.js';
import { parseWebhookEndpoints } from '../activities/webhooks/config.js';
import { journeyWebhookEndpoints, startAcceptingReceiver } from '../bench/billable-actions.js';
import { webhookDeliveryWorkflowId } from '../workflows/ids.js';

const name = process.argv[2] ?? 'verify-email';
// `--wonder`: the flow also carries the change to a seeded Wonder customer.
const withWonder = process.argv.includes('--wonder');
// `--reject`: a customer DWS does not know, so the flow ends REJECTED at the consult.
const rejected = process.argv.includes('--reject');
// `--pin`: the seeded PIN customer, answering with its PIN encrypted as the wallet app would.
const withPin = process.argv.includes('--pin');
/** sandbox/README.md: the seeded PIN customer's PIN */
const seededPin = '123456';
// `--journey`: the app's journey instead of start and signal: the start answered with the challenge
// (update-with-start), the code sent by the verifyOtp update.
const appJourney = process.argv.includes('--journey');
// `--payment-method`: changeWonderPaymentMethod, confirmed by the wallet user, instead of the contact change.
const paymentMethod = process.argv.includes('--payment-method');
// `--cancel`: cancelled by Temporal cancellation (an operator) while the code is awaited.
const cancelled = process.argv.includes('--cancel');
// `--loose-policy`: a policy beyond today's bounds (as a direct start could pass), and a resend at once.
const loosePolicy = process.argv.includes('--loose-policy');
const looseValues = {
  otpValiditySeconds: 3600,
  maxVerifyAttempts: 10,
  maxResends: 10,
  resendCooldownSeconds: 0,
  maxChallengeRounds: 5,
};
// `--malformed`: an input the wire contract refuses (an email that is not one), as a direct start could pass.
const malformed = process.argv.includes('--malformed');
// `--trigger-refused`: a sandbox that allows no code per authentication, so DWS answers the first
// triggerChallenge F SEND_TIMES_EXCEED_LIMIT (a final "no" to the local activity, at CHALLENGING).
const triggerRefused = process.argv.includes('--trigger-refused');
// `--verify-refused`: the code is used at the sandbox first, so DWS answers the flow's verifyAndResume F
// PROCESS_FAIL (a code verifies once: a final "no" to the local activity, at VERIFYING).
const verifyRefused = process.argv.includes('--verify-refused');
/** sandbox/wonder/README.md: a seeded Wonder customer and one of its tokens */
const wonderCustomer = {
  uuid: 'c2a4e0f1-7b3d-4c8e-9f10-2a3b4c5d6e01',
  token: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c22',
  referenceNumber: 'MERCHANT-CUST-0001',
};
const env = await TestWorkflowEnvironment.createLocal({
  server: {
    executable: { type: 'existing-path', path: temporalCliPath() },
    searchAttributes: verificationSearchAttributes,
  },
});
// `--webhooks`: the caller "default" has an endpoint (a loopback receiver answering 204), so the finished
// flow starts its webhook delivery; the recording waits for the delivery too.
const withWebhooks = process.argv.includes('--webhooks');
const sandbox = await startSandbox(triggerRefused ? { maxSendsPerAuthentication: 0 } : {});
const receiver = withWebhooks ? await startAcceptingReceiver() : undefined;
try {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'record',
    workflowsPath,
    activities: createActivities({
      dws: sandboxDwsConfig(sandbox.url),
      wonder: sandboxWonderConfig(sandbox.url),
      ...(receiver
        ? {
            webhooks: {
              endpoints: parseWebhookEndpoints(journeyWebhookEndpoints(receiver.url), '--webhooks'),
              retryHours: 72,
              timeoutSeconds: 10,
            },
          }
        : {}),
    }),
  });
  const customerId = rejected
    ? '2188000000000000999'
    : withPin
      ? '2188000000000000002'
      : '2188000000000000001';
  const workflowId = appJourney ? await recordAppJourney() : await recordStartAndSignal();

  async function recordAppJourney(): Promise<string> {
    const verifications = new VerificationClient(env.client, 'record');
    return worker.runUntil(async () => {
      const started = await verifications.start({ customerId, change: { email: 'recorded@example.com' } });
      if ('outcome' in started) {
        console.log('outcome', started.outcome.status);
        return started.verificationId;
      }
      const code = sandbox.dws.outbox.latest({ customerId })?.code;
      if (!code) throw new Error('no code in the outbox');
      console.log('verdict', (await verifications.verifyOtp(customerId, code)).verdict);
      console.log('outcome', (await verifications.result(customerId)).status);
      if (receiver) await deliveryOf(verifications.verificationId(customerId));
      return verifications.verificationId(customerId);
    });
  }

  async function recordStartAndSignal(): Promise<string> {
    const options = { taskQueue: 'record', workflowId: `record-${name}` };
    const handle = paymentMethod
      ? await env.client.workflow.start(changeWonderPaymentMethod, {
          ...options,
          args: [
            {
              wonderCustomerUuid: wonderCustomer.uuid,
              wonderReferenceNumber: wonderCustomer.referenceNumber,
              update: { default_payment_method: 'Alipay', default_payment_token: wonderCustomer.token },
              confirmWith: { customerId },
              ...(loosePolicy ? { policy: looseValues } : {}),
            },
          ],
        })
      : await env.client.workflow.start(verifyContactChange, {
          ...options,
          args: [
            {
              customerId,
              change: { email: malformed ? 'not an email' : 'recorded@example.com' },
              ...(loosePolicy ? { policy: looseValues } : {}),
              ...(withWonder
                ? {
                    wonder: {
                      customerUuid: 'e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a02',
                      referenceNumber: 'MERCHANT-CUST-0002',
                    },
                  }
                : {}),
            },
          ],
        });
    // The outcome's status, or the error's name where the code of the time failed the workflow instead.
    const ending = () =>
      handle.result().then(
        (outcome) => outcome.status,
        (err: Error) => err.name,
      );
    await worker.runUntil(async () => {
      if (rejected || triggerRefused) return console.log('outcome', await ending());
      let state = await handle.query(stateQuery);
      while (state.step !== 'AWAITING_INPUT') {
        await new Promise((r) => setTimeout(r, 100));
        state = await handle.query(stateQuery);
      }
      if (cancelled) {
        await handle.cancel();
        return console.log('outcome', await ending());
      }
      if (loosePolicy) {
        await handle.signal(resendOtpSignal);
        while (state.resendsLeft === looseValues.maxResends) {
          await new Promise((r) => setTimeout(r, 100));
          state = await handle.query(stateQuery);
        }
      }
      // Code from before the encrypted PIN (patches.encryptedPin) gave no key material and took the clear PIN.
      const code = withPin
        ? state.encryptionInfo
          ? await encryptPin(seededPin, state.encryptionInfo)
          : seededPin
        : sandbox.dws.outbox.latest({ customerId })?.code;
      if (!code) throw new Error('no code in the outbox');
      if (verifyRefused) useCodeAtTheSandbox(code);
      await handle.signal(submitOtpSignal, { code });
      console.log('outcome', await ending());
    });
    return handle.workflowId;
  }

  function useCodeAtTheSandbox(code: string): void {
    const sent = sandbox.dws.outbox.latest({ customerId });
    const { answer } = sandbox.dws.handle(
      'verifyAndResume',
      JSON.stringify({
        authenticationId: sent?.authenticationId,
        challengeData: { challengeType: 'SMS_OTP', otpValue: code },
      }),
    );
    if (answer.result.resultStatus !== 'S')
      throw new Error(`the sandbox refused the code: ${answer.result.resultCode}`);
  }
  const path = new URL(`../test/fixtures/histories/${name}.json`, import.meta.url);
  // The CLI's JSON is the format every Temporal tool replays (the SDK's historyToJSON fails in this install).
  const json = execFileSync(temporalCliPath(), [
    'workflow',
    'show',
    '--workflow-id',
    workflowId,
    '--address',
    env.address,
    '--output',
    'json',
  ]);
  writeFileSync(path, json);
  console.log(`recorded ${path.pathname}`);
} finally {
  await sandbox.close();
  await receiver?.close();
  await env.teardown();
}

/** Waits for the run's webhook delivery to finish, so the worker is not stopped under it. */
async function deliveryOf(verificationId: string): Promise<void> {
  const { runId } = await env.client.workflow.getHandle(verificationId).describe();
  const delivered = await env.client.workflow
    .getHandle(webhookDeliveryWorkflowId(verificationId, runId))
    .result();
  console.log('webhooks', (delivered as { status: string }).status);
}
