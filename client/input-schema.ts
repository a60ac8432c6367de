/**
 * The JSON Schemas of what callers send. One definition serves the HTTP service (Fastify validates and
 * publishes them in its OpenAPI document) and the client library (the same schema compiled with Ajv), so
 * both name the same field the same way.
 */

export const customerIdSchema = {
  type: 'string',
  pattern: '^[0-9A-Za-z_-]{1,64}$',
  description: 'DWS customer id',
} as const;

export const mobileNoInfoSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['countryCode', 'phoneNo'],
  properties: {
    countryCode: { type: 'string', pattern: '^[0-9]{1,4}$', description: 'without "+", e.g. "65"' },
    phoneNo: { type: 'string', pattern: '^[0-9]{4,16}$' },
  },
} as const;

export const changeSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    email: { type: 'string', format: 'email', maxLength: 254 },
    mobileNoInfo: mobileNoInfoSchema,
  },
  description: 'the new contact data: email, phone, or both',
} as const;

const envString = { type: 'string', maxLength: 256 } as const;

/** seed: Env, the risk data DWS collects; every field a string. */
export const riskEnvFields = [
  'appVersion',
  'clientIp',
  'deviceModel',
  'deviceTokenId',
  'language',
  'operateEntrance',
  'osType',
  'osVersion',
  'sessionId',
  'terminalType',
  'umidTokenId',
] as const;

export const riskEnvSchema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(riskEnvFields.map((name) => [name, envString])),
} as const;

export const policySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    otpValiditySeconds: { type: 'integer', minimum: 30, maximum: 3600 },
    maxVerifyAttempts: { type: 'integer', minimum: 1, maximum: 10 },
    maxResends: { type: 'integer', minimum: 0, maximum: 10 },
    resendCooldownSeconds: { type: 'integer', minimum: 0, maximum: 3600 },
    maxChallengeRounds: { type: 'integer', minimum: 1, maximum: 5 },
  },
} as const;

export const verificationInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['customerId', 'change'],
  properties: {
    customerId: customerIdSchema,
    change: changeSchema,
    businessSceneCode: { type: 'string', enum: ['MOBILE_AVAILABLE', 'MOBILE_UNAVAILABLE'] },
    env: riskEnvSchema,
    language: { type: 'string', pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$' },
    policy: policySchema,
    wonder: {
      type: 'object',
      additionalProperties: false,
      required: ['customerUuid'],
      properties: {
        customerUuid: { type: 'string', pattern: '^[0-9A-Za-z-]{1,64}$' },
        lang: { type: 'string', enum: ['zh-HK', 'zh-CN', 'en'] },
      },
    },
    requestKey: {
      type: 'string',
      pattern: '^[\\x21-\\x7e]{1,64}$',
      description: "the caller's idempotency key",
    },
  },
} as const;

export const otpSubmissionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['customerId', 'code'],
  properties: {
    customerId: customerIdSchema,
    code: { type: 'string', pattern: '^[0-9]{4,8}$', description: 'the SMS code or payment PIN' },
  },
} as const;
