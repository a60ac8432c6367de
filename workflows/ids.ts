/**
 * One active change per customer: the workflow id is the customer id under a fixed prefix, so a second
 * start while one runs collides on the id. No phone or email ever goes into an id.
 */
export const verificationWorkflowPrefix = 'contact-change-';

export function verificationWorkflowId(customerId: string): string {
  return `${verificationWorkflowPrefix}${customerId}`;
}

export const defaultTaskQueue = 'contact-change-verification';

/** One payment-method change per Wonder customer at a time. */
export function paymentMethodWorkflowId(wonderCustomerUuid: string): string {
  return `payment-method-${wonderCustomerUuid}`;
}
