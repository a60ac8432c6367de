/**
 * One contact change, two ways: by a plain async function calling DWS directly (the floor), and through
 * Temporal with the project's VerificationClient (the product). Both change a fresh sandbox customer's
 * email, and both answer the code the moment the sandbox's outbox has it.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { DwsClient } from '../activities/dws/client.js';
import type { ModifyCustomerResponse } from '../activities/dws/types.js';
import type { VerificationClient } from '@dws-verify/client';
import type { SandboxControlClient } from '../sandbox/control-client.js';
import type { OtpMailbox } from './otp-mailbox.js';

/** A customer nobody else has touched: one workflow per customer runs at a time. */
export async function createCustomer(
  sandboxControl: SandboxControlClient,
  customerId: string,
): Promise<string> {
  await sandboxControl.addCustomer({ customerId });
  return customerId;
}

export function newEmail(customerId: string): string {
  return `${customerId.toLowerCase()}@example.com`;
}

/**
 * The two waits a user feels, in ms: from "change my email" until the code is on its way (and the app
 * knows where it went), and from typing the code until the verdict.
 */
export type UserWaits = {
  codeSentMs: number;
  verdictMs: number;
};

/** consult → trigger → read the code → verify → modify, with nothing between the calls. */
export async function directFlow(
  dws: DwsClient,
  mailbox: OtpMailbox,
  customerId: string,
): Promise<UserWaits> {
  const began = performance.now();
  const consult = settled(
    'consult',
    await dws.modifyCustomer({
      requestId: randomUUID(),
      customer: { customerId },
      businessSceneCode: 'MOBILE_AVAILABLE',
    }),
  );
  const authenticationId = consult.authenticationId;
  if (!authenticationId) throw new Error('the consult answered S without an authenticationId');
  settled(
    'triggerChallenge',
    await dws.triggerChallenge({ challengeId: authenticationId, triggerRequestId: randomUUID() }),
  );
  const code = await mailbox.next(customerId);
  const codeSentMs = performance.now() - began;
  const typed = performance.now();
  settled(
    'verifyAndResume',
    await dws.verifyAndResume({
      authenticationId,
      requestId: randomUUID(),
      challengeData: { challengeType: 'SMS_OTP', otpValue: code },
    }),
  );
  const verdictMs = performance.now() - typed;
  const modified: ModifyCustomerResponse = settled(
    'modify',
    await dws.modifyCustomer({
      requestId: randomUUID(),
      authenticationId,
      customer: { customerId, user: { email: newEmail(customerId) } },
    }),
  );
  if (modified.actionForm)
    throw new Error('the modify asked for another challenge; bench customers are not risky');
  return { codeSentMs, verdictMs };
}

/**
 * start (answered with the challenge) → the code from the outbox → verifyOtp (answered with the verdict)
 * → the outcome, as the app's HTTP journey does it.
 */
export async function orchestratedFlow(
  verifications: VerificationClient,
  mailbox: OtpMailbox,
  customerId: string,
): Promise<UserWaits> {
  const began = performance.now();
  const [started, code] = await Promise.all([
    verifications.start({ customerId, change: { email: newEmail(customerId) } }),
    mailbox.next(customerId),
  ]);
  if (!('challengeType' in started)) throw new Error('the start did not answer with a challenge');
  // Both: the code on its way and the app told where it went.
  const codeSentMs = performance.now() - began;
  return { codeSentMs, verdictMs: await answerCode(verifications, customerId, code) };
}

function settled<T extends { result: { resultStatus: string; resultCode: string } }>(
  call: string,
  answer: T,
): T {
  if (answer.result.resultStatus !== 'S') {
    throw new Error(`${call} answered ${answer.result.resultStatus} ${answer.result.resultCode}`);
  }
  return answer;
}

/** How often the polling app asks for the state: an app's "is the code out yet" loop. */
export const statePollIntervalMs = 100;

/**
 * The journey before the start answered with the challenge: start, poll the state (one query each)
 * until it says where the code went, then the code and the outcome as above.
 */
export async function pollingFlow(
  verifications: VerificationClient,
  mailbox: OtpMailbox,
  customerId: string,
): Promise<UserWaits> {
  const began = performance.now();
  const codeArrived = mailbox.next(customerId);
  // Awaited below; marked handled now so a failed start does not leave it rejecting unobserved.
  codeArrived.catch(() => undefined);
  await verifications.start({ customerId, change: { email: newEmail(customerId) } }, { answer: 'started' });
  while (!(await verifications.state(customerId)).maskedDestination) {
    await new Promise((r) => setTimeout(r, statePollIntervalMs));
  }
  const code = await codeArrived;
  const codeSentMs = performance.now() - began;
  return { codeSentMs, verdictMs: await answerCode(verifications, customerId, code) };
}

/** The code typed, its verdict awaited (the wait timed), then the outcome; answers the verdict's ms. */
async function answerCode(
  verifications: VerificationClient,
  customerId: string,
  code: string,
): Promise<number> {
  const typed = performance.now();
  const verdict = await verifications.verifyOtp(customerId, code);
  const verdictMs = performance.now() - typed;
  if (verdict.verdict !== 'ACCEPTED') throw new Error(`the code was answered ${verdict.verdict}`);
  const outcome = await verifications.result(customerId);
  if (outcome.status !== 'MODIFIED') throw new Error(`the verification ended ${outcome.status}`);
  return verdictMs;
}
