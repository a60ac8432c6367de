/**
 * The HTTP routes' request and response schemas. Bodies and answers are the wire contract of
 * workflows/wire-schemas.ts (the client library validates with the same definitions, and the workflow's
 * types derive from them), extended only by what exists on HTTP alone: the path id, the customer named
 * in each body, headers, errors.
 */
import { verificationWorkflowPrefix } from '../workflows/ids.js';
import {
  cancelRequestSchema,
  challengeAnswerSchema,
  customerIdSchema,
  otpSubmissionSchema,
  requestKeySchema,
  resendAnswerSchema,
  stateSchema,
  verdictSchema,
  policySchema,
  verificationInputSchema,
  verificationOutcomeSchema,
} from '../workflows/wire-schemas.js';
import type { VerificationPolicy } from '../workflows/types.js';

export { resendAnswerSchema, stateSchema, verdictSchema };

/**
 * The examples the document shows (and an API tester starts from): the provider sandbox's first seeded
 * customer, an sms customer, so following them through the routes is a real flow there.
 */
const exampleCustomerId = '2188000000000000001';

// '-' needs no escape outside a class, and escaping it is an error under Ajv's unicode regexps.
const escapedPrefix = verificationWorkflowPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const verificationParamsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: {
    id: {
      type: 'string',
      pattern: `^${escapedPrefix}${customerIdSchema.pattern.slice(1)}`,
      description: `the verification id: "${verificationWorkflowPrefix}" followed by the customer id`,
      examples: [`${verificationWorkflowPrefix}${exampleCustomerId}`],
    },
  },
} as const;

export const startBodySchema = {
  ...verificationInputSchema,
  examples: [{ customerId: exampleCustomerId, change: { email: 'alice.new@example.com' } }],
  properties: {
    ...verificationInputSchema.properties,
    ifRunning: {
      type: 'string',
      enum: ['fail', 'attach'],
      description:
        'when this customer already has a verification running: refuse with 409 (default) or join it',
    },
    answer: {
      type: 'string',
      enum: ['challenge', 'started'],
      description:
        '"challenge" (default): answer once the first code is on its way, with the challenge; "started": as soon as the run exists (then poll GET /verifications/:id)',
    },
  },
} as const;

/**
 * The start body as this service enforces it: a caller may only tighten the operator's policy, so the
 * document's bounds are the operator's values (cooldown: a floor; the rest: ceilings), not the wider
 * hard bounds of the wire contract.
 */
export function startBodySchemaFor(operator: VerificationPolicy) {
  const fields = policySchema.properties;
  const ceiling = <F extends { maximum: number }>(field: F, value: number) => ({ ...field, maximum: value });
  return {
    ...startBodySchema,
    properties: {
      ...startBodySchema.properties,
      policy: {
        ...policySchema,
        properties: {
          otpValiditySeconds: ceiling(fields.otpValiditySeconds, operator.otpValiditySeconds),
          maxVerifyAttempts: ceiling(fields.maxVerifyAttempts, operator.maxVerifyAttempts),
          maxResends: ceiling(fields.maxResends, operator.maxResends),
          resendCooldownSeconds: {
            ...fields.resendCooldownSeconds,
            minimum: operator.resendCooldownSeconds,
          },
          maxChallengeRounds: ceiling(fields.maxChallengeRounds, operator.maxChallengeRounds),
        },
      },
    },
  };
}

/** Validated before any limit counts it, so a per-user key is never longer than this. */
const endUserHeaderSchema = {
  type: 'string',
  pattern: '^[\\x21-\\x7e]{1,128}$',
  description:
    "the caller's own opaque id of the end user, so per-user limits count that user and not the whole calling backend",
} as const;

export const startHeadersSchema = {
  type: 'object',
  properties: {
    'idempotency-key': {
      ...requestKeySchema,
      description:
        'used as requestKey when the body has none (a requestKey in the body is the one used): a retried start returns the run it started, and is counted once by the limits',
    },
    'x-end-user-id': endUserHeaderSchema,
  },
} as const;

export const cancelHeadersSchema = {
  type: 'object',
  properties: { 'x-end-user-id': endUserHeaderSchema },
} as const;

export const submissionHeadersSchema = {
  type: 'object',
  properties: {
    'idempotency-key': {
      ...requestKeySchema,
      description:
        'one per submission: the same key again returns the first answer and never verifies a code or sends one twice; made by the service (and sent back in this header) when absent',
    },
    'x-end-user-id': endUserHeaderSchema,
  },
} as const;

export const otpBodySchema = {
  ...otpSubmissionSchema,
  examples: [{ customerId: exampleCustomerId, code: '123456' }],
  required: ['customerId', ...otpSubmissionSchema.required],
  properties: { customerId: customerIdSchema, ...otpSubmissionSchema.properties },
} as const;

export const resendBodySchema = {
  type: 'object',
  examples: [{ customerId: exampleCustomerId }],
  additionalProperties: false,
  required: ['customerId'],
  properties: { customerId: customerIdSchema },
} as const;

export const cancelBodySchema = {
  ...cancelRequestSchema,
  examples: [{ customerId: exampleCustomerId, reason: 'the user left the change' }],
  required: ['customerId'],
  properties: { customerId: customerIdSchema, ...cancelRequestSchema.properties },
} as const;

const [challengeBranch, outcomeBranch] = challengeAnswerSchema.oneOf;

/** The run, plus the challenge the user now has to answer, or the outcome if the flow ended first. */
export const startedSchema = {
  type: 'object',
  required: ['verificationId', 'runId', 'attached'],
  properties: {
    verificationId: { type: 'string' },
    runId: { type: 'string' },
    attached: { type: 'boolean', description: 'true when an existing run was returned instead of a new one' },
    ...challengeBranch.properties,
    outcome: {
      ...outcomeBranch.properties.outcome,
      description: 'when the flow ended before a code was sent',
    },
  },
} as const;

export { verificationOutcomeSchema };

export const outcomePendingSchema = {
  type: 'object',
  required: ['verificationId', 'finished'],
  properties: {
    verificationId: { type: 'string' },
    finished: {
      type: 'boolean',
      const: false,
      description: 'still running after the wait; ask again (see Retry-After)',
    },
  },
} as const;

export const outcomeQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // A string: query values are not coerced (coerceTypes is off, so a body is never quietly retyped).
    waitSeconds: {
      type: 'string',
      pattern: '^([0-9]|10)$',
      description:
        'seconds (0 to 10, default 10) to wait for a running verification to finish before answering 202',
      examples: ['0'],
    },
  },
} as const;

export const cancelAcceptedSchema = {
  type: 'object',
  required: ['verificationId', 'cancelRequested'],
  properties: { verificationId: { type: 'string' }, cancelRequested: { type: 'boolean' } },
} as const;

export const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: {
      type: 'string',
      description:
        'BAD_REQUEST, UNAUTHORIZED, CUSTOMER_MISMATCH, NOT_FOUND, METHOD_NOT_ALLOWED, ALREADY_RUNNING, VERIFICATION_FINISHED, CODE_FORMAT, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, TOO_MANY_REQUESTS, SEND_BUDGET_EXCEEDED, LIMITS_UNAVAILABLE, TEMPORAL_UNAVAILABLE, INTERNAL',
    },
    message: {
      type: 'string',
      description:
        'with SEND_BUDGET_EXCEEDED: the limit reached, a sentence the app can show ("at most 5 codes per 10 minutes are sent to one customer")',
    },
    field: { type: 'string', description: 'with BAD_REQUEST: the offending field as a dotted path' },
    verificationId: { type: 'string' },
    status: { type: 'string', description: 'with VERIFICATION_FINISHED: how the run closed' },
    retryAfterSeconds: {
      type: 'integer',
      description: 'with 429 and 503: also sent as Retry-After',
    },
    reason: {
      type: 'string',
      description:
        'with TEMPORAL_UNAVAILABLE: TEMPORAL_UNREACHABLE, NO_ANSWER_IN_TIME, NAMESPACE_UNKNOWN or TEMPORAL_BUSY',
    },
  },
} as const;

export const healthSchema = {
  type: 'object',
  required: ['ok'],
  properties: {
    ok: { type: 'boolean' },
    temporal: { type: 'string', enum: ['up', 'down'] },
    /** true once the replica was told to stop: the balancer should send it nothing new */
    draining: { type: 'boolean' },
  },
} as const;

/**
 * Headers an answer carries, declared beside its body (@fastify/swagger publishes `headers` of a response
 * schema). `required: true` is the header's own flag, not JSON Schema's: the document moves it out of
 * the header's schema (see requiredHeadersOut).
 */
export const retryAfterHeader = {
  type: 'string',
  pattern: '^[0-9]+$',
  description: 'seconds to wait before asking again',
} as const;

const required = { required: true } as const;

export const idempotencyKeyAnswerHeader = {
  ...requestKeySchema,
  description: "the key the submission was answered under: the caller's, or the one made here",
} as const;

/** Errors the flow itself can answer a submission with, once it was asked under the key. */
const flowErrors = new Set(['404', '409', '429', '503']);

/**
 * The answers a submission (code, resend) gives under its key, with the key in Idempotency-Key: always
 * with the verdict, and with an error the flow answered. A refusal before the flow was asked (a bad
 * request, a limit's 429) carries none, so the header is optional on the errors.
 */
export function answeredUnderKey<Answers extends Record<number, object>>(answers: Answers): Answers {
  return Object.fromEntries(
    Object.entries(answers).map(([code, schema]) => {
      if (Number(code) >= 300 && !flowErrors.has(code)) return [code, schema];
      const headers = (schema as { headers?: Record<string, object> }).headers ?? {};
      const key =
        Number(code) < 300 ? { ...idempotencyKeyAnswerHeader, ...required } : idempotencyKeyAnswerHeader;
      return [code, { ...schema, headers: { ...headers, 'idempotency-key': key } }];
    }),
  ) as Answers;
}

const errorHeaders: Record<number, Record<string, object>> = {
  401: {
    'www-authenticate': {
      type: 'string',
      description: 'the Bearer challenge',
      ...required,
    },
  },
  429: { 'retry-after': { ...retryAfterHeader, ...required } },
  503: { 'retry-after': { ...retryAfterHeader, ...required } },
};

/** The error answers every authenticated route can give, plus the route's own. */
export function errorResponses(...codes: number[]): Record<number, typeof errorSchema> {
  return Object.fromEntries(
    [400, 401, 503, ...codes].map((code) => [
      code,
      errorHeaders[code] ? { ...errorSchema, headers: errorHeaders[code] } : errorSchema,
    ]),
  );
}

/** Fastify's swagger writes a response header's schema whole; `required` belongs to the header itself. */
export function requiredHeadersOut<Document extends { paths?: object }>(document: Document): Document {
  const paths = (document.paths ?? {}) as Record<string, Record<string, { responses?: object }>>;
  for (const operation of Object.values(paths).flatMap((item) => Object.values(item))) {
    for (const response of Object.values(operation.responses ?? {}) as Array<{
      headers?: Record<string, { schema: { required?: unknown }; required?: boolean }>;
    }>) {
      for (const header of Object.values(response.headers ?? {})) {
        if (header.schema.required === true) {
          const { required: _required, ...schema } = header.schema;
          header.schema = schema;
          header.required = true;
        }
      }
    }
  }
  return document;
}
