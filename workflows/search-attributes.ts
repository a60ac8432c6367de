import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Step and outcome, never personal data: operators list stuck flows with `VerificationStep = "AWAITING_INPUT"`. */
export const verificationStepKey = defineSearchAttributeKey('VerificationStep', SearchAttributeType.KEYWORD);
export const verificationOutcomeKey = defineSearchAttributeKey(
  'VerificationOutcome',
  SearchAttributeType.KEYWORD,
);

export const verificationSearchAttributes = [verificationStepKey, verificationOutcomeKey];
