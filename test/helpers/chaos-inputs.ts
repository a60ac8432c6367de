/**
 * Hostile input for the HTTP sweep, as tables: strings that break naive code (unicode edge cases,
 * injection payloads), values of the wrong JSON type, and the routes with a valid body and the fields
 * each one takes. The sweep crosses them; nothing here knows what the service answers.
 */
import { encryptedPinSchema, riskEnvFields, smsCodeSchema } from '../../workflows/wire-schemas.js';

/** [label, value]: the label names the case in a failure report without printing the value. */
export const hostileStrings: ReadonlyArray<readonly [string, string]> = [
  ['empty', ''],
  ['blank', '   '],
  ['emoji', '😀🔥📱'],
  ['family emoji (ZWJ)', '👨‍👩‍👧‍👦'],
  ['right-to-left text', 'مرحبا بالعالم'],
  ['RTL override', 'abc\u202Edcba'],
  ['NUL inside', 'ab\u0000cd'],
  ['only NUL', '\u0000'],
  ['combining marks', 'e\u0301\u0302\u0303\u0304\u0305'],
  ['lone surrogate', '\uD800'],
  ['BOM prefix', '\uFEFF123456'],
  ['zero-width space', '1234\u200B56'],
  ['full-width digits', '１２３４５６'],
  ['Arabic-Indic digits', '١٢٣٤٥٦'],
  ['newline', '123\n456'],
  ['CRLF header injection', 'x\r\nX-Injected: 1'],
  ['SQL tautology', "' OR '1'='1' --"],
  ['SQL stacked query', '1; DROP TABLE customers; --'],
  ['NoSQL operator as text', '{"$gt":""}'],
  ['path traversal', '../../../etc/passwd'],
  ['encoded traversal', '..%2F..%2F..%2Fetc%2Fpasswd'],
  ['Windows traversal', '..\\..\\windows\\win.ini'],
  ['JS template', '${process.exit(1)}'],
  ['mustache template', '{{7*7}}'],
  ['script tag', '<script>alert(1)</script>'],
  ['HTML attribute breakout', '"><img src=x onerror=alert(1)>'],
  ['format string', '%s%s%s%n'],
  ['prototype key as text', '__proto__'],
  ['constructor as text', 'constructor'],
  ['very long', 'A'.repeat(5000)],
];

/** Values that are not strings; `type` is the JSON type, to tell a type mismatch from an out-of-range value. */
export const wrongTypedValues: ReadonlyArray<readonly [string, unknown]> = [
  ['integer', 42],
  ['negative integer', -1],
  ['fraction', 1.5],
  ['huge number', 1e308],
  ['true', true],
  ['null', null],
  ['empty array', []],
  ['array of strings', ['a', 'b']],
  ['empty object', {}],
  ['NoSQL operator', { $gt: '' }],
  ['NoSQL regex', { $regex: '.*' }],
  ['deep object', { a: { b: { c: { d: { e: {} } } } } }],
  ['numeric string', '5'],
];

export type JsonType = 'string' | 'integer' | 'number' | 'boolean' | 'null' | 'array' | 'object';

export function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as JsonType;
}

export interface FieldSpec {
  /** dotted path inside the body, as the service names it in `field` */
  path: string;
  type: 'string' | 'integer' | 'object';
  required?: boolean;
  /** what the field's contract accepts; a value it refuses must be answered 400 naming the field */
  accepts?: RegExp;
}

export interface RouteSpec {
  name: string;
  method: 'POST';
  /** the url for the verification of `customerId` */
  url(customerId: string): string;
  /** a body the route accepts, for `customerId` */
  validBody(customerId: string): Record<string, unknown>;
  fields: FieldSpec[];
}

const customerId = /^[0-9A-Za-z_-]{1,64}$/;
const verificationUrl = (suffix: string) => (id: string) => `/verifications/contact-change-${id}${suffix}`;

export const routes: readonly RouteSpec[] = [
  {
    name: 'start',
    method: 'POST',
    url: () => '/verifications',
    validBody: (id) => ({
      customerId: id,
      change: { email: 'new@example.com', mobileNoInfo: { countryCode: '65', phoneNo: '81234567' } },
      businessSceneCode: 'MOBILE_AVAILABLE',
      env: Object.fromEntries(riskEnvFields.map((name) => [name, 'x'])),
      language: 'en-SG',
      policy: {
        otpValiditySeconds: 300,
        maxVerifyAttempts: 5,
        maxResends: 3,
        resendCooldownSeconds: 30,
        maxChallengeRounds: 3,
      },
      wonder: {
        customerUuid: 'c0ffee00-0000-4000-8000-000000000000',
        referenceNumber: `ref-${id}`,
        lang: 'en',
      },
      requestKey: `key-${id}`,
      ifRunning: 'fail',
      // Nothing here reaches a worker: answer once the run exists instead of waiting for the code.
      answer: 'started',
    }),
    fields: [
      { path: 'customerId', type: 'string', required: true, accepts: customerId },
      { path: 'change', type: 'object', required: true },
      { path: 'change.email', type: 'string' },
      { path: 'change.mobileNoInfo', type: 'object' },
      { path: 'change.mobileNoInfo.countryCode', type: 'string', required: true, accepts: /^\d{1,4}$/ },
      { path: 'change.mobileNoInfo.phoneNo', type: 'string', required: true, accepts: /^\d{4,16}$/ },
      { path: 'businessSceneCode', type: 'string', accepts: /^(MOBILE_AVAILABLE|MOBILE_UNAVAILABLE)$/ },
      { path: 'env', type: 'object' },
      ...riskEnvFields.map((name): FieldSpec => ({ path: `env.${name}`, type: 'string' })),
      { path: 'language', type: 'string', accepts: /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/ },
      { path: 'policy', type: 'object' },
      { path: 'policy.otpValiditySeconds', type: 'integer' },
      { path: 'policy.maxVerifyAttempts', type: 'integer' },
      { path: 'policy.maxResends', type: 'integer' },
      { path: 'policy.resendCooldownSeconds', type: 'integer' },
      { path: 'policy.maxChallengeRounds', type: 'integer' },
      { path: 'wonder', type: 'object' },
      { path: 'wonder.customerUuid', type: 'string', required: true, accepts: /^[0-9A-Za-z-]{1,64}$/ },
      {
        path: 'wonder.referenceNumber',
        type: 'string',
        required: true,
        accepts: /^(?=.{1,255}$)\S(.*\S)?$/u,
      },
      { path: 'wonder.lang', type: 'string', accepts: /^(zh-HK|zh-CN|en)$/ },
      { path: 'requestKey', type: 'string', accepts: /^[\x21-\x7e]{1,64}$/ },
      { path: 'ifRunning', type: 'string', accepts: /^(fail|attach)$/ },
    ],
  },
  {
    name: 'otp',
    method: 'POST',
    url: verificationUrl('/otp'),
    validBody: (id) => ({ customerId: id, code: '123456' }),
    fields: [
      { path: 'customerId', type: 'string', required: true, accepts: customerId },
      // The SMS code, or the opaque encrypted PIN: which one applies is the workflow's to check.
      {
        path: 'code',
        type: 'string',
        required: true,
        accepts: new RegExp(`${smsCodeSchema.pattern}|${encryptedPinSchema.pattern}`),
      },
    ],
  },
  {
    name: 'resend',
    method: 'POST',
    url: verificationUrl('/resend'),
    validBody: (id) => ({ customerId: id }),
    fields: [{ path: 'customerId', type: 'string', required: true, accepts: customerId }],
  },
  {
    name: 'cancel',
    method: 'POST',
    url: verificationUrl('/cancel'),
    validBody: (id) => ({ customerId: id, reason: 'changed my mind' }),
    fields: [
      { path: 'customerId', type: 'string', required: true, accepts: customerId },
      { path: 'reason', type: 'string' },
    ],
  },
];

/** A deep copy of `body` with the value at `path` replaced, or removed when `value` is `remove`. */
export const remove = Symbol('remove');
export function withField(
  body: Record<string, unknown>,
  path: string,
  value: unknown,
): Record<string, unknown> {
  const copy = structuredClone(body);
  const keys = path.split('.');
  let target: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  const last = keys[keys.length - 1]!;
  if (value === remove) delete target[last];
  else target[last] = value;
  return copy;
}
