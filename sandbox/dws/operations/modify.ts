/** modifyCustomer with a verified authenticationId: apply the change, or ask for a second challenge. */
import type { CustomerUser } from '../../../activities/dws/types.js';
import type { Authentication } from '../authentications.js';
import type { Customer } from '../customers.js';
import { isValidPhone } from '../field-rules.js';
import { newProviderId } from '../ids.js';
import { maskPhone } from '../masking.js';
import type { ModifyRequest } from '../requests.js';
import { failed, success, type DwsAnswer } from '../results.js';
import type { DwsState } from '../state.js';
import { applyChange } from './apply-change.js';

/**
 * Our risk rule: a phone change is risky when the customer is flagged `riskyPhoneChange`, or when the
 * new phoneNo ends in "0000" (a rule any test or demo can trigger without a special customer).
 */
export function isRiskyPhoneChange(customer: Customer, user: CustomerUser): boolean {
  if (!user.mobileNoInfo) return false;
  return customer.riskyPhoneChange || user.mobileNoInfo.phoneNo.endsWith('0000');
}

/** Why this authentication cannot authorise a modify, or undefined when it can. */
function unusableBecause(authentication: Authentication | undefined, customerId: string): string | undefined {
  if (!authentication || authentication.customerId !== customerId) {
    return 'authenticationId is not known for this customer.';
  }
  if (authentication.pending) {
    return 'this authentication confirms a pending phone change: verifyAndResume applies it, not modifyCustomer.';
  }
  switch (authentication.status) {
    case 'open':
      return 'the authentication is not verified yet: call verifyAndResume first.';
    case 'locked':
      return 'the authentication is locked after too many wrong codes: start with a new consult.';
    case 'consumed':
    case 'applied':
      return 'the authentication was already used by a modification: start with a new consult.';
    case 'verified':
      return undefined;
  }
}

export function modify(state: DwsState, request: ModifyRequest): DwsAnswer {
  const customer = state.customers.get(request.customerId);
  if (!customer) return failed('PROCESS_FAIL', 'customer not found.');
  const { mobileNoInfo } = request.user;
  if (mobileNoInfo && !isValidPhone(mobileNoInfo)) {
    return failed(
      'INVALID_PHONE_NUMBER',
      'invalid phone number: countryCode must be 1-3 digits, phoneNo 5-15 digits.',
    );
  }
  const authentication = state.authentications.get(request.authenticationId);
  const problem = unusableBecause(authentication, customer.customerId);
  if (problem || !authentication) return failed('PROCESS_FAIL', problem ?? 'authenticationId is not known.');

  authentication.status = 'consumed';
  if (mobileNoInfo && isRiskyPhoneChange(customer, request.user)) {
    const now = state.now();
    const second = state.authentications.open({
      authenticationId: newProviderId(now),
      customerId: customer.customerId,
      channel: 'sms',
      challengeType: 'sms',
      renderValue: maskPhone(mobileNoInfo),
      createdAt: now,
      pending: { user: structuredClone(request.user), requestId: request.requestId },
    });
    return {
      result: success(),
      customerId: customer.customerId,
      authenticationId: second.authenticationId,
      actionForm: { challengeType: 'sms', challengeRenderValue: second.renderValue },
    };
  }
  applyChange(state, customer.customerId, request.user, {
    requestId: request.requestId,
    authenticationId: authentication.authenticationId,
    appliedBy: 'modifyCustomer',
  });
  return { result: success(), customerId: customer.customerId };
}
