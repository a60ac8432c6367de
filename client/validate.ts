/**
 * A start checked before it reaches Temporal: the wire contract (validators generated from the same
 * schemas, with the same Ajv set-up, as the workflow's own check: workflows/input-contract.ts), then the operator's policy, which a caller
 * may only tighten. The input sent on carries the whole effective policy, so the flow runs the operator's
 * values whatever the workflow's own defaults are.
 */
import type { PaymentMethodChangeInput, VerificationInput, VerificationPolicy } from '../workflows/types.js';
import { defaultPolicy } from '../workflows/types.js';
import { looserWhen, problemOf, type InputProblem } from '../workflows/input-contract.js';
import { contactChangeInput, paymentMethodChangeInput } from '../workflows/wire-validators.generated.js';
import { InvalidVerificationInputError } from './errors.js';

function refuse(problem: InputProblem | undefined): void {
  if (problem) throw new InvalidVerificationInputError(problem.field, problem.message);
}

/**
 * The caller's policy over the operator's, refused naming the first field that would loosen it: a caller
 * may ask for fewer attempts or a shorter code, never for more than the operator allows.
 */
export function tightenPolicy(
  operator: VerificationPolicy,
  asked: Partial<VerificationPolicy> | undefined,
): VerificationPolicy {
  const policy = { ...operator, ...asked };
  for (const field of Object.keys(looserWhen) as (keyof VerificationPolicy)[]) {
    const looser =
      looserWhen[field] === 'higher' ? policy[field] > operator[field] : policy[field] < operator[field];
    if (looser) {
      throw new InvalidVerificationInputError(
        `policy.${field}`,
        `policy.${field} must be ${looserWhen[field] === 'higher' ? 'at most' : 'at least'} ${operator[field]} (the operator's policy); a caller may only tighten it`,
      );
    }
  }
  return policy;
}

export function validateVerificationInput(
  input: unknown,
  operatorPolicy: VerificationPolicy = defaultPolicy,
): VerificationInput {
  refuse(problemOf(contactChangeInput, input));
  const valid = input as VerificationInput;
  return { ...valid, policy: tightenPolicy(operatorPolicy, valid.policy) };
}

export function validatePaymentMethodChangeInput(
  input: unknown,
  operatorPolicy: VerificationPolicy = defaultPolicy,
): PaymentMethodChangeInput {
  refuse(problemOf(paymentMethodChangeInput, input));
  const valid = input as PaymentMethodChangeInput;
  return { ...valid, policy: tightenPolicy(operatorPolicy, valid.policy) };
}
