/**
 * verifyAndResume: check the OTP or PIN. A right answer verifies the authentication (the modify may now
 * use it) or, for the second challenge of a risky phone change, applies the pending change itself.
 */
import type { Authentication } from '../authentications.js';
import { newProviderId } from '../ids.js';
import { decryptPin, type PinKey } from '../pin-keys.js';
import type { VerifyAndResumeRequest } from '../requests.js';
import { failure, success, type DwsAnswer } from '../results.js';
import { secretMatches, type HashedSecret } from '../secrets.js';
import type { DwsState } from '../state.js';
import { applyChange } from './apply-change.js';

type Expected = { secret: HashedSecret; expiresAt?: number; pinKey?: PinKey } | { problem: string };

function expectedSecret(state: DwsState, authentication: Authentication): Expected {
  if (authentication.channel === 'pin') {
    const pin = state.customers.get(authentication.customerId)?.pin;
    if (!pin) return { problem: 'the customer has no payment PIN.' };
    const { pinKey } = authentication;
    return pinKey
      ? { secret: pin, pinKey }
      : { problem: 'no PIN key has been issued for this challenge: call triggerChallenge first.' };
  }
  const code = authentication.code;
  return code
    ? { secret: code.secret, expiresAt: code.expiresAt }
    : { problem: 'no code has been sent for this challenge: call triggerChallenge first.' };
}

export function verifyAndResume(state: DwsState, request: VerifyAndResumeRequest): DwsAnswer {
  const now = state.now();
  const authentication = state.authentications.get(request.authenticationId);
  const ids = {
    verifyRequestId: request.requestId ?? newProviderId(now),
    authenticationId: request.authenticationId,
  };
  const answer = (result: DwsAnswer['result']): DwsAnswer => ({ result, ...ids });

  if (!authentication) return answer(failure('PROCESS_FAIL', 'authenticationId is not known.'));
  if (authentication.status === 'locked') {
    return answer(
      failure('VERIFY_TIMES_EXCEED_LIMIT', 'too many wrong codes: the authentication is locked.'),
    );
  }
  if (authentication.status !== 'open') {
    return answer(failure('PROCESS_FAIL', 'the authentication is already verified; a code verifies once.'));
  }
  const { challengeData } = request;
  const wanted = authentication.channel === 'pin' ? 'PAYMENT_PASSWORD' : 'SMS_OTP';
  if (challengeData.challengeType !== wanted) {
    return answer(
      failure('PARAM_ILLEGAL', `challengeData.challengeType must be ${wanted} for this authentication.`),
    );
  }
  const expected = expectedSecret(state, authentication);
  if ('problem' in expected) return answer(failure('PROCESS_FAIL', expected.problem));
  if (expected.expiresAt !== undefined && now >= expected.expiresAt) {
    return answer(
      failure('VERIFY_CODE_EXPIRED', 'the code has expired: trigger the challenge again for a new one.'),
    );
  }

  // A PIN arrives encrypted with this challenge's key; one that does not decrypt is a wrong answer.
  const given =
    challengeData.challengeType === 'SMS_OTP'
      ? challengeData.otpValue
      : expected.pinKey && decryptPin(expected.pinKey, challengeData.passwordValue);
  if (given === undefined || !secretMatches(expected.secret, given)) {
    authentication.failedAttempts += 1;
    const left = state.rules.maxVerifyAttempts - authentication.failedAttempts;
    if (left <= 0) {
      authentication.status = 'locked';
      delete authentication.code;
      delete authentication.pinKey;
      return answer(
        failure('VERIFY_TIMES_EXCEED_LIMIT', 'too many wrong codes: the authentication is locked.'),
      );
    }
    const what = authentication.channel === 'pin' ? 'PIN' : 'code';
    return answer(failure('VERIFY_CODE_INCORRECT', `the ${what} is incorrect: ${left} attempt(s) left.`));
  }

  delete authentication.code;
  delete authentication.pinKey;
  if (authentication.pending) {
    applyChange(state, authentication.customerId, authentication.pending.user, {
      requestId: authentication.pending.requestId,
      authenticationId: authentication.authenticationId,
      appliedBy: 'verifyAndResume',
    });
    authentication.status = 'applied';
  } else {
    authentication.status = 'verified';
  }
  return answer(success());
}
