/** Patch ids: each marks a change to the workflows' commands made after histories of them existed. */
export const patches = {
  wonderSync: 'wonder-sync',
  /** a REJECTED flow's result code in the outcome's upsert (VerificationResultCode) */
  outcomeResultCode: 'outcome-result-code',
  /** triggerChallenge and verifyAndResume as local activities: the two calls a user waits on */
  localUserCalls: 'local-user-calls',
  /** search attributes only where operators filter: AWAITING_INPUT, and one upsert at the end */
  searchAttributesWhereFiltered: 'search-attributes-where-filtered',
} as const;
