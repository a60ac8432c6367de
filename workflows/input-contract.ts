/**
 * The wire contract checked where it is finally obeyed: in the workflow. The client library and the HTTP
 * service check a start first, but anyone with namespace access can start a flow directly, so the workflow
 * checks its own input (malformed: REJECTED with resultCode INVALID_INPUT and the field, before any
 * provider call) and holds the policy to the hard bounds of `policySchema`: a policy beyond them is
 * clamped to them, not refused, so such a start still runs, within the bounds. The bounds are the schema's
 * minimum and maximum, read here; docs/http-api.md says why each is what it is.
 *
 * The validators are Ajv's, compiled before the workflow runs (scripts/generate-wire-validators.ts, into
 * wire-validators.generated.ts): the workflow's modules are evaluated for every flow, and compiling them
 * there cost each flow tens of milliseconds of CPU. Plain functions, deterministic.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { VerificationPolicy } from './types.js';
import { policySchema } from './wire-schemas.js';
import {
  contactChangeInputUnbounded,
  paymentMethodChangeInputUnbounded,
} from './wire-validators.generated.js';

/** "change.mobileNoInfo.phoneNo" for "/change/mobileNoInfo/phoneNo", with a missing property appended. */
export function fieldOf(error: ErrorObject): string {
  const path = error.instancePath.split('/').filter(Boolean);
  if (error.keyword === 'required') path.push(String(error.params.missingProperty));
  if (error.keyword === 'additionalProperties') path.push(String(error.params.additionalProperty));
  return path.join('.') || '(body)';
}

export function describe(error: ErrorObject): string {
  const field = fieldOf(error);
  switch (error.keyword) {
    case 'required':
      return `${field} is required`;
    case 'additionalProperties':
      return `${field} is not a known field`;
    default:
      return `${field} ${error.message ?? 'is invalid'}`;
  }
}

/** What is wrong with an input, as the client library's InvalidVerificationInputError names it. */
export interface InputProblem {
  field: string;
  message: string;
}

export function problemOf(check: ValidateFunction, input: unknown): InputProblem | undefined {
  if (check(input)) return undefined;
  const first = check.errors?.[0];
  return first
    ? { field: fieldOf(first), message: describe(first) }
    : { field: '(body)', message: 'is invalid' };
}

type PolicyField = keyof VerificationPolicy;
type Bounds = Record<PolicyField, { minimum: number; maximum: number }>;

/** The ceiling (and floor) no start can pass: the wire contract's, whoever started the flow. */
export const policyBounds: Bounds = Object.fromEntries(
  Object.entries(policySchema.properties).map(([field, { minimum, maximum }]) => [
    field,
    { minimum, maximum },
  ]),
) as Bounds;

/**
 * Which way a field loosens: a longer cooldown is tighter, a larger value of every other field looser.
 * The operator's policy may only be tightened by a caller (client/validate.ts).
 */
export const looserWhen: Record<PolicyField, 'higher' | 'lower'> = {
  otpValiditySeconds: 'higher',
  maxVerifyAttempts: 'higher',
  maxResends: 'higher',
  resendCooldownSeconds: 'lower',
  maxChallengeRounds: 'higher',
};

// The policy's bounds left out: a policy beyond them is clamped, not a malformed input.
export const contactChangeInputProblem = (input: unknown) => problemOf(contactChangeInputUnbounded, input);
export const paymentMethodChangeInputProblem = (input: unknown) =>
  problemOf(paymentMethodChangeInputUnbounded, input);

/**
 * The policy within the hard bounds, and the fields that had to move. A field that is not a whole number
 * (a malformed input, refused anyway) takes the fallback's value, so the state stays readable.
 */
export function clampPolicy(
  asked: Record<PolicyField, unknown>,
  fallback: VerificationPolicy,
): { policy: VerificationPolicy; clamped: PolicyField[] } {
  const policy = { ...fallback };
  const clamped: PolicyField[] = [];
  for (const field of Object.keys(policyBounds) as PolicyField[]) {
    const value = asked[field];
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      clamped.push(field);
      continue;
    }
    const { minimum, maximum } = policyBounds[field];
    policy[field] = Math.min(Math.max(value, minimum), maximum);
    if (policy[field] !== value) clamped.push(field);
  }
  return { policy, clamped };
}
