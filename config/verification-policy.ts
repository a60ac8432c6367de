/**
 * The operator's verification policy, read once at start: what a start gets when it asks for none, and
 * the loosest any caller may ask for (a caller may only tighten it). Each value must lie within the hard
 * bounds of the wire contract (workflows/input-contract.ts), which hold whoever starts a flow.
 */
import { policyBounds } from '../workflows/input-contract.js';
import { defaultPolicy, type VerificationPolicy } from '../workflows/types.js';
import { readInt, type Env } from './settings.js';

export const policyVariables: Record<keyof VerificationPolicy, string> = {
  otpValiditySeconds: 'VERIFICATION_POLICY_OTP_VALIDITY_SECONDS',
  maxVerifyAttempts: 'VERIFICATION_POLICY_MAX_VERIFY_ATTEMPTS',
  maxResends: 'VERIFICATION_POLICY_MAX_RESENDS',
  resendCooldownSeconds: 'VERIFICATION_POLICY_RESEND_COOLDOWN_SECONDS',
  maxChallengeRounds: 'VERIFICATION_POLICY_MAX_CHALLENGE_ROUNDS',
};

export function loadVerificationPolicy(env: Env = process.env): VerificationPolicy {
  const policy = { ...defaultPolicy };
  for (const field of Object.keys(policyVariables) as (keyof VerificationPolicy)[]) {
    const { minimum: min, maximum: max } = policyBounds[field];
    policy[field] = readInt(env, policyVariables[field], defaultPolicy[field], { min, max });
  }
  return policy;
}
