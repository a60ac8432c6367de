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

export const verificationSearchAttributes = [
  verificationStepKey,
  verificationOutcomeKey,
  verificationResultCodeKey,
];
