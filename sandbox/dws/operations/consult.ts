/** modifyCustomer without an authenticationId: open an authentication and say how it is challenged. */
import type { BusinessSceneCode } from '../../../activities/dws/types.js';
import type { NewAuthentication } from '../authentications.js';
import type { Customer } from '../customers.js';
import { newProviderId } from '../ids.js';
import { maskEmail, maskPhone } from '../masking.js';
import type { ConsultRequest } from '../requests.js';
import { failed, success, type DwsAnswer } from '../results.js';
import type { DwsState } from '../state.js';

type Challenge = Pick<NewAuthentication, 'channel' | 'challengeType' | 'renderValue'>;

const pin: Challenge = { channel: 'pin', challengeType: 'PAYMENT_PASSWORD', renderValue: '' };

function byEmail(email: string): Challenge {
  // The seed has no email challenge type: an OTP is 'sms' whatever carries it; the render value shows where.
  return { channel: 'email', challengeType: 'sms', renderValue: maskEmail(email) };
}

/**
 * MOBILE_AVAILABLE: the customer's own challenge type (an SMS to the current phone, or the PIN).
 * MOBILE_UNAVAILABLE: the old phone cannot receive an SMS, so the PIN if the customer has one, else an
 * OTP to the email.
 */
function challengeFor(customer: Customer, scene: BusinessSceneCode): Challenge | undefined {
  if (scene === 'MOBILE_AVAILABLE') {
    if (customer.challengeType === 'PAYMENT_PASSWORD' && customer.pin) return pin;
    if (customer.mobileNoInfo) {
      return { channel: 'sms', challengeType: 'sms', renderValue: maskPhone(customer.mobileNoInfo) };
    }
  }
  if (customer.pin) return pin;
  if (customer.email) return byEmail(customer.email);
  return undefined;
}

export function consult(state: DwsState, request: ConsultRequest): DwsAnswer {
  const customer = state.customers.get(request.customerId);
  if (!customer) return failed('PROCESS_FAIL', 'customer not found.');
  const now = state.now();
  if (!state.consultLimiter.allow(customer.customerId, now)) {
    return failed(
      'TIMES_EXCEED_LIMIT',
      'too many modification consults for this customer; wait, then try again.',
    );
  }
  const challenge = challengeFor(customer, request.businessSceneCode);
  if (!challenge) {
    return failed('PROCESS_FAIL', `the customer cannot be challenged in scene ${request.businessSceneCode}.`);
  }
  const authentication = state.authentications.open({
    authenticationId: newProviderId(now),
    customerId: customer.customerId,
    createdAt: now,
    ...challenge,
  });
  return {
    result: success(),
    customerId: customer.customerId,
    authenticationId: authentication.authenticationId,
    actionForm: { challengeType: challenge.challengeType, challengeRenderValue: challenge.renderValue },
  };
}
