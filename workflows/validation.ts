import type { ChallengeType } from '../activities/dws/types.js';

/**
 * Why a typed code cannot be right, or undefined. Checked before anything reaches history (the update
 * validator) and again for signals, which cannot be refused.
 */
export function codeFormatProblem(
  code: unknown,
  challengeType: ChallengeType | undefined,
): string | undefined {
  if (typeof code !== 'string') return 'code must be a string of digits';
  if (challengeType === 'PAYMENT_PASSWORD') {
    return /^\d{6}$/.test(code) ? undefined : 'code must be the 6-digit payment PIN';
  }
  return /^\d{4,8}$/.test(code) ? undefined : 'code must be 4 to 8 digits';
}
