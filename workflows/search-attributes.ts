import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Step and outcome, never personal data: operators list stuck flows with `VerificationStep = "AWAITING_INPUT"`. */
export const verificationStepKey = defineSearchAttributeKey('VerificationStep', SearchAttributeType.KEYWORD);
export const verificationOutcomeKey = defineSearchAttributeKey(
  'VerificationOutcome',
  SearchAttributeType.KEYWORD,
);

/** The provider's result code of a REJECTED flow, beside the outcome: a column in the UI's list, a filter. */
export const verificationResultCodeKey = defineSearchAttributeKey(
  'VerificationResultCode',
  SearchAttributeType.KEYWORD,
);

/**
 * A webhook delivery's state where an operator must act: `GAVE_UP` (some event not delivered within the
 * retry period, or refused with 410), `REDELIVERING` after an operator's redeliver, `DELIVERED` once a
 * redelivery succeeded. Absent from deliveries that simply succeeded: no upsert, no action.
 */
export const webhookDeliveryKey = defineSearchAttributeKey('WebhookDelivery', SearchAttributeType.KEYWORD);

/** Every attribute the workflows write: registered by the worker (worker/search-attributes.ts) and the tests. */
export const verificationSearchAttributes = [
  verificationStepKey,
  verificationOutcomeKey,
  verificationResultCodeKey,
  webhookDeliveryKey,
];
