/**
 * The request and response schemas of the HTTP routes. Request bodies are built from the same
 * definitions the client library validates with (../input-schema.ts), so a field is named and checked
 * the same way on both paths; responses list every field so nothing is dropped when serialising.
 */
import { verificationWorkflowPrefix } from '../../workflows/ids.js';
import { customerIdSchema, otpSubmissionSchema, verificationInputSchema } from '../input-schema.js';

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
  },
} as const;

export const startHeadersSchema = {
  type: 'object',
  properties: {
    'idempotency-key': {
      ...verificationInputSchema.properties.requestKey,
      description: 'used as requestKey when the body has none: a retried start returns the run it started',
    },
  },
} as const;

export const otpBodySchema = otpSubmissionSchema;

export const resendBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['customerId'],
  properties: { customerId: customerIdSchema },
} as const;

export const cancelBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['customerId'],
  properties: {
    customerId: customerIdSchema,
    reason: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: 'kept in the outcome for operators',
    },
  },
} as const;

const isoTime = { type: 'string', format: 'date-time' } as const;
const stepSchema = {
  type: 'string',
  enum: ['CONSULTING', 'CHALLENGING', 'AWAITING_INPUT', 'VERIFYING', 'MODIFYING', 'SYNCING_WONDER', 'DONE'],
} as const;
const outcomeSchema = {
  type: 'string',
  enum: ['MODIFIED', 'CANCELLED', 'EXPIRED', 'ATTEMPTS_EXCEEDED', 'REJECTED'],
} as const;

export const startedSchema = {
  type: 'object',
  required: ['verificationId', 'runId', 'attached'],
  properties: {
    verificationId: { type: 'string' },
    runId: { type: 'string' },
    attached: { type: 'boolean', description: 'true when an existing run was returned instead of a new one' },
  },
} as const;

export const stateSchema = {
  type: 'object',
  required: ['customerId', 'step', 'round', 'attemptsLeft', 'resendsLeft', 'wonderSync', 'timeline'],
  properties: {
    customerId: { type: 'string' },
    step: stepSchema,
    round: { type: 'integer' },
    challengeType: { type: 'string', enum: ['sms', 'PAYMENT_PASSWORD'] },
    maskedDestination: { type: 'string', description: 'as the provider renders it, already masked' },
    attemptsLeft: { type: 'integer' },
    resendsLeft: { type: 'integer' },
    expiresAt: isoTime,
    resendAvailableAt: isoTime,
    lastResultCode: { type: 'string' },
    outcome: outcomeSchema,
    wonderSync: { type: 'string', enum: ['NOT_REQUESTED', 'PENDING', 'SYNCED', 'FAILED'] },
    timeline: {
      type: 'array',
      items: {
        type: 'object',
        required: ['at', 'step', 'event'],
        properties: {
          at: isoTime,
          step: stepSchema,
          event: { type: 'string' },
          resultCode: { type: 'string' },
        },
      },
    },
  },
} as const;

export const verdictSchema = {
  type: 'object',
  required: ['verdict'],
  properties: {
    verdict: { type: 'string', enum: ['ACCEPTED', 'INCORRECT', 'EXPIRED', 'ATTEMPTS_EXCEEDED', 'CLOSED'] },
    attemptsLeft: { type: 'integer', description: 'with INCORRECT' },
    outcome: { ...outcomeSchema, description: 'with CLOSED, when the flow ended while the code was queued' },
  },
} as const;

export const resendAnswerSchema = {
  type: 'object',
  required: ['honoured'],
  properties: {
    honoured: { type: 'boolean', description: 'whether a new code was sent' },
    resendsLeft: { type: 'integer' },
    expiresAt: isoTime,
    reason: { type: 'string', enum: ['COOLDOWN', 'NO_RESENDS_LEFT', 'NOT_SMS', 'NOT_AWAITING_INPUT'] },
    retryAfterSeconds: { type: 'integer', description: 'with COOLDOWN; also sent as Retry-After' },
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
        'BAD_REQUEST, UNAUTHORIZED, CUSTOMER_MISMATCH, NOT_FOUND, ALREADY_RUNNING, VERIFICATION_FINISHED, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, TOO_MANY_REQUESTS, TEMPORAL_UNAVAILABLE, INTERNAL',
    },
    message: { type: 'string' },
    field: { type: 'string', description: 'with BAD_REQUEST: the offending field as a dotted path' },
    verificationId: { type: 'string' },
    status: { type: 'string', description: 'with VERIFICATION_FINISHED: how the run closed' },
    retryAfterSeconds: { type: 'integer' },
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
