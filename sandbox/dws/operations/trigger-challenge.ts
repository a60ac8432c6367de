/** triggerChallenge: send a fresh OTP (the previous one stops working), or hand out PIN key material. */
import { randomBytes } from 'node:crypto';
import type { Authentication } from '../authentications.js';
import { newOtp } from '../ids.js';
import type { TriggerChallengeRequest } from '../requests.js';
import { failed, success, type DwsAnswer } from '../results.js';
import { hashSecret } from '../secrets.js';
import type { DwsState } from '../state.js';

/** Stands in for the real key material: the sandbox accepts the PIN in plain text. */
const sandboxPinKey = 'SANDBOX-PIN-KEY-NOT-FOR-ENCRYPTION';

function closedBecause(authentication: Authentication): string | undefined {
  switch (authentication.status) {
    case 'open':
      return undefined;
    case 'locked':
      return 'the authentication is locked after too many wrong codes: start with a new consult.';
    default:
      return 'the challenge is already verified.';
  }
}

export function triggerChallenge(state: DwsState, request: TriggerChallengeRequest): DwsAnswer {
  const authentication = state.authentications.get(request.challengeId);
  if (!authentication) return failed('PROCESS_FAIL', 'challengeId is not known.');
  const closed = closedBecause(authentication);
  if (closed) return failed('PROCESS_FAIL', closed);

  if (authentication.channel === 'pin') {
    return {
      result: success(),
      challengeType: 'PAYMENT_PASSWORD',
      challengeRenderValue: '',
      encryptionInfo: { publicKey: sandboxPinKey, salt: randomBytes(8).toString('hex') },
    };
  }
  const { maxSendsPerAuthentication, otpTtlMs } = state.rules;
  if (authentication.sends >= maxSendsPerAuthentication) {
    return failed(
      'SEND_TIMES_EXCEED_LIMIT',
      `The send times exceed the limit: at most ${maxSendsPerAuthentication} codes per authentication.`,
    );
  }
  const code = newOtp();
  const issuedAt = state.now();
  const expiresAt = issuedAt + otpTtlMs;
  authentication.code = { secret: hashSecret(code), issuedAt, expiresAt };
  authentication.sends += 1;
  state.outbox.send({
    customerId: authentication.customerId,
    authenticationId: authentication.authenticationId,
    channel: authentication.channel,
    destination: authentication.renderValue,
    code,
    issuedAt,
    expiresAt,
  });
  return {
    result: success(),
    challengeType: authentication.challengeType,
    challengeRenderValue: authentication.renderValue,
  };
}
