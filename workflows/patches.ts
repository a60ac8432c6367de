/**
 * Patch ids, all in one place: each marks a change to a workflow's commands made after histories of it
 * existed (`patched(id)`); test/unit/replay.test.ts replays a recorded history from before each one.
 */
export const patches = {
  wonderSync: 'wonder-sync',
  outcomeResultCode: 'outcome-result-code',
  /** a PIN challenge takes the app's encrypted PIN instead of six clear digits */
  encryptedPin: 'encrypted-pin-code',
} as const;
