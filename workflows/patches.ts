/**
 * Patch ids, all in one place: each marks a change to a workflow's commands made after histories of it
 * existed (`patched(id)`); test/unit/replay.test.ts replays a recorded history from before each one.
 */
export const patches = {
  wonderSync: 'wonder-sync',
  /** a REJECTED flow's result code in the outcome's upsert (VerificationResultCode) */
  outcomeResultCode: 'outcome-result-code',
  /** a PIN challenge takes the app's encrypted PIN instead of six clear digits */
  encryptedPin: 'encrypted-pin-code',
  /** triggerChallenge and verifyAndResume as local activities: the two calls a user waits on */
  localUserCalls: 'local-user-calls',
  /** search attributes only where operators filter: AWAITING_INPUT, and one upsert at the end */
  searchAttributesWhereFiltered: 'search-attributes-where-filtered',
} as const;
