/**
 * Validation of a WonderCustomerUpdate and its translation to the PUT body. Runs before any request, so
 * a bad update never reaches the provider; errors name the field and never echo its value (it may be an
 * email address or a phone number).
 */
import {
  isWonderPaymentMethod,
  wonderPaymentMethods,
  wonderUpdateFields,
  type PutCustomerRequestBody,
  type WonderCustomerUpdate,
  type WonderUpdateField,
} from './types.js';

/** The create-customer page caps these fields at 255 characters; the PUT page inherits the record. */
export const MAX_FIELD_LENGTH = 255;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
/** Digits with an optional leading +: Wonder keeps the dial code apart, but a full number is accepted. */
const PHONE_PATTERN = /^\+?[0-9]{6,20}$/;
const TOKEN_PATTERN = /^\S+$/;

export class WonderInputError extends Error {
  override readonly name = 'WonderInputError';
  constructor(
    /** e.g. "update.email" */
    readonly field: string,
    /** e.g. "must be a string": what is wrong, without the value */
    readonly reason: string,
  ) {
    super(`${field} ${reason}`);
  }
}

function requireText(update: Record<string, unknown>, field: 'name' | 'email' | 'phone'): string | undefined {
  const value = update[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new WonderInputError(`update.${field}`, 'must be a string');
  if (value.trim() === '') {
    throw new WonderInputError(
      `update.${field}`,
      'must not be empty: Wonder reads an empty value as "unchanged", so omit the field instead',
    );
  }
  if (value.length > MAX_FIELD_LENGTH) {
    throw new WonderInputError(`update.${field}`, `must be at most ${MAX_FIELD_LENGTH} characters`);
  }
  return value;
}

/**
 * Throws WonderInputError for anything the provider would refuse or misread; returns the update typed.
 * Accepts `unknown` because the update arrives through workflow history, not only from typed code.
 */
export function validateWonderCustomerUpdate(update: unknown): WonderCustomerUpdate {
  if (typeof update !== 'object' || update === null || Array.isArray(update)) {
    throw new WonderInputError('update', 'must be an object');
  }
  const record = update as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(wonderUpdateFields as readonly string[]).includes(key)) {
      throw new WonderInputError(`update.${key}`, 'is not a Wonder customer field');
    }
  }

  const name = requireText(record, 'name');
  const email = requireText(record, 'email');
  if (email !== undefined && !EMAIL_PATTERN.test(email)) {
    throw new WonderInputError('update.email', 'is not a valid email address');
  }
  const phone = requireText(record, 'phone');
  if (phone !== undefined && !PHONE_PATTERN.test(phone)) {
    throw new WonderInputError('update.phone', 'must be 6 to 20 digits, optionally after a leading +');
  }

  const method = record.default_payment_method;
  if (method !== undefined && method !== null && !isWonderPaymentMethod(method)) {
    throw new WonderInputError(
      'update.default_payment_method',
      `must be one of ${wonderPaymentMethods.join(', ')}, or null to clear it`,
    );
  }

  const token = record.default_payment_token;
  if (token !== undefined && token !== null) {
    if (typeof token !== 'string') {
      throw new WonderInputError('update.default_payment_token', 'must be a string, or null to clear it');
    }
    if (!TOKEN_PATTERN.test(token) || token.length > MAX_FIELD_LENGTH) {
      throw new WonderInputError(
        'update.default_payment_token',
        `must be a token value without spaces, at most ${MAX_FIELD_LENGTH} characters (null clears it)`,
      );
    }
  }

  const typed: WonderCustomerUpdate = {};
  if (name !== undefined) typed.name = name;
  if (email !== undefined) typed.email = email;
  if (phone !== undefined) typed.phone = phone;
  if (method !== undefined) typed.default_payment_method = method;
  if (token !== undefined) typed.default_payment_token = token;
  if (Object.keys(typed).length === 0) {
    throw new WonderInputError('update', `must change at least one of ${wonderUpdateFields.join(', ')}`);
  }
  return typed;
}

/** The PUT body for a validated update: null (clear) becomes "", absent stays absent. */
export function toPutCustomerBody(update: WonderCustomerUpdate): PutCustomerRequestBody {
  const valid = validateWonderCustomerUpdate(update);
  const body: PutCustomerRequestBody = {};
  if (valid.name !== undefined) body.name = valid.name;
  if (valid.email !== undefined) body.email = valid.email;
  if (valid.phone !== undefined) body.phone = valid.phone;
  if (valid.default_payment_method !== undefined) {
    body.default_payment_method = valid.default_payment_method ?? '';
  }
  if (valid.default_payment_token !== undefined)
    body.default_payment_token = valid.default_payment_token ?? '';
  return body;
}

/** Which fields an update sets and which it clears: names only, safe for logs and workflow history. */
export function describeUpdate(update: WonderCustomerUpdate): {
  changed: WonderUpdateField[];
  cleared: WonderUpdateField[];
} {
  const changed: WonderUpdateField[] = [];
  const cleared: WonderUpdateField[] = [];
  for (const field of wonderUpdateFields) {
    const value = update[field];
    if (value === undefined) continue;
    (value === null ? cleared : changed).push(field);
  }
  return { changed, cleared };
}
