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
  verificationInputSchema,
  verificationOutcomeSchema,
} from '../workflows/wire-schemas.js';

export { resendAnswerSchema, stateSchema, verdictSchema };

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
    },
  },
} as const;

export const startBodySchema = {
  ...verificationInputSchema,
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
        'used as requestKey when the body has none: a retried start returns the run it started, and is counted once by the limits',
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
  required: ['customerId', ...otpSubmissionSchema.required],
  properties: { customerId: customerIdSchema, ...otpSubmissionSchema.properties },
} as const;

export const resendBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['customerId'],
  properties: { customerId: customerIdSchema },
} as const;

export const cancelBodySchema = {
  ...cancelRequestSchema,
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
    finished: { const: false, description: 'still running after the wait; ask again (see Retry-After)' },
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
        'BAD_REQUEST, UNAUTHORIZED, CUSTOMER_MISMATCH, NOT_FOUND, ALREADY_RUNNING, VERIFICATION_FINISHED, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, TOO_MANY_REQUESTS, SEND_BUDGET_EXCEEDED, LIMITS_UNAVAILABLE, TEMPORAL_UNAVAILABLE, INTERNAL',
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
  properties: { ok: { type: 'boolean' }, temporal: { type: 'string', enum: ['up', 'down'] } },
} as const;

/** The error answers every authenticated route can give, plus the route's own. */
export function errorResponses(...codes: number[]): Record<number, typeof errorSchema> {
  return Object.fromEntries([400, 401, 503, ...codes].map((code) => [code, errorSchema]));
}
