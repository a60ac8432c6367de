/**
 * One contact change, two ways: by a plain async function calling DWS directly (the floor), and through
 * Temporal with the project's VerificationClient (the product). Both change a fresh sandbox customer's
 * email, and both answer the code the moment the sandbox's outbox has it.
 */
import { randomUUID } from 'node:crypto';
import type { DwsClient } from '../activities/dws/client.js';
import type { ModifyCustomerResponse } from '../activities/dws/types.js';
import type { VerificationClient } from '../client/verifications.js';
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

/** consult → trigger → read the code → verify → modify, with nothing between the calls. */
export async function directFlow(dws: DwsClient, mailbox: OtpMailbox, customerId: string): Promise<void> {
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
  settled(
    'verifyAndResume',
    await dws.verifyAndResume({
      authenticationId,
      requestId: randomUUID(),
      challengeData: { challengeType: 'SMS_OTP', otpValue: code },
    }),
  );
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
}

/** start → the code from the outbox → submitOtp → the outcome, as a backend and an app would. */
export async function orchestratedFlow(
  verifications: VerificationClient,
  mailbox: OtpMailbox,
  customerId: string,
): Promise<void> {
  await verifications.start({ customerId, change: { email: newEmail(customerId) } });
  const code = await mailbox.next(customerId);
  await verifications.submitOtp(customerId, code);
  const outcome = await verifications.result(customerId);
  if (outcome.status !== 'MODIFIED') throw new Error(`the verification ended ${outcome.status}`);
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
