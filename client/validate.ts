import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { VerificationInput } from '../workflows/types.js';
import { InvalidVerificationInputError } from './errors.js';
import { verificationInputSchema } from '../workflows/wire-schemas.js';

const ajv = new Ajv({ allErrors: false, strict: true });
addFormats.default(ajv);

const checkInput: ValidateFunction = ajv.compile(verificationInputSchema);

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

export function validateVerificationInput(input: unknown): VerificationInput {
  if (checkInput(input)) return input as VerificationInput;
  const first = checkInput.errors?.[0];
  if (!first) throw new InvalidVerificationInputError('(body)', 'the input is invalid');
  throw new InvalidVerificationInputError(fieldOf(first), describe(first));
}
