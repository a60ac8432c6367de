/** Field-level rules shared by the provider API and the control API. */
import type { MobileNoInfo } from '../../activities/dws/types.js';

/** A request field that is missing or malformed; the message names the field, never its value. */
export class FieldError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field} ${problem}`);
    this.name = 'FieldError';
  }
}

/** The Alipay APIs cap identifiers at 64 characters. */
export const maxIdLength = 64;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Per the seed, every field is a string. */
export function requiredString(value: unknown, field: string, maxLength = maxIdLength): string {
  if (value === undefined || value === null || value === '') throw new FieldError(field, 'is required');
  return optionalString(value, field, maxLength) as string;
}

export function optionalString(value: unknown, field: string, maxLength = maxIdLength): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new FieldError(field, 'must be a string');
  if (value.length > maxLength) throw new FieldError(field, `must be at most ${maxLength} characters`);
  return value;
}

export function requiredObject(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined || value === null) throw new FieldError(field, 'is required');
  if (!isRecord(value)) throw new FieldError(field, 'must be an object');
  return value;
}

const emailShape = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function isValidEmail(email: string): boolean {
  return email.length <= 254 && emailShape.test(email);
}

/** Our reading of a valid number: countryCode of 1-3 digits (no '+'), phoneNo of 5-15 digits. */
export function isValidPhone(phone: MobileNoInfo): boolean {
  return /^\d{1,3}$/.test(phone.countryCode) && /^\d{5,15}$/.test(phone.phoneNo);
}

/** mobileNoInfo's shape (both fields strings); whether the digits make a valid number is checked apart. */
export function parseMobileNoInfo(value: unknown, field: string): MobileNoInfo {
  const raw = requiredObject(value, field);
  return {
    countryCode: requiredString(raw.countryCode, `${field}.countryCode`),
    phoneNo: requiredString(raw.phoneNo, `${field}.phoneNo`),
  };
}
