/**
 * Masks for contact data that has to appear somewhere an operator reads (log lines, failure messages).
 * The masks have a fixed width, so they reveal neither the length of a number nor of a mailbox name.
 */

const STARS = '******';

/** `{ countryCode: '65', phoneNo: '85555555' }` → `'+65******5555'`: the last four digits at most, never more than half. */
export function maskPhone(phone: { countryCode: string; phoneNo: string }): string {
  const countryCode = phone.countryCode.replace(/^\+/, '');
  const digits = phone.phoneNo.replace(/\s+/g, '');
  const shown = Math.min(4, Math.floor(digits.length / 2));
  return `+${countryCode}${STARS}${shown > 0 ? digits.slice(-shown) : ''}`;
}

/** `'example@example.com'` → `'e*****e@example.com'`: the domain stays, the mailbox name shows its ends only. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '*****';
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  // A one- or two-letter mailbox would be shown whole by its two ends.
  const masked = local.length > 2 ? `${local[0]}*****${local.slice(-1)}` : `${local[0]}*****`;
  return `${masked}@${domain}`;
}

const EMAIL_IN_TEXT = /[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[A-Za-z]{2,}/g;
const LONG_DIGIT_RUN = /\+?\d[\d -]{5,}\d/g;

/**
 * Masks anything in free text (a provider's result message) that looks like an email address or a phone
 * number, so a provider that echoes the user's data back does not carry it into logs or workflow history.
 */
export function redactContacts(text: string): string {
  return text
    .replace(EMAIL_IN_TEXT, (email) => maskEmail(email))
    .replace(LONG_DIGIT_RUN, (run) => `${STARS}${run.replace(/\D/g, '').slice(-2)}`);
}
