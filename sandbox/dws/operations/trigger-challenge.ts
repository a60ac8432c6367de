/** triggerChallenge: send a fresh OTP (the previous one stops working), or hand out PIN key material. */
import type { Authentication } from '../authentications.js';
import { newOtp } from '../ids.js';
import { issuePinKey } from '../pin-keys.js';
import type { TriggerChallengeRequest } from '../requests.js';
import { failed, success, type DwsAnswer } from '../results.js';
import { hashSecret } from '../secrets.js';
import type { DwsState } from '../state.js';

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
    // A fresh key per trigger: what an earlier trigger handed out stops working, like an earlier OTP.
    const { pinKey, encryptionInfo } = issuePinKey();
    authentication.pinKey = pinKey;
    return { result: success(), challengeType: 'PAYMENT_PASSWORD', challengeRenderValue: '', encryptionInfo };
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
