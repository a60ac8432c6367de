/**
 * The /verifications routes: what the app's OTP-entry screen and the backend call. Each route declares
 * its schemas (validated by Fastify, published at /openapi.json); failures are thrown as the client
 * library's typed errors and answered by the one error handler. Every route acts as the caller the token
 * names, through the client library's caller scope: another caller's verification is a 404.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { verificationWorkflowId, verificationWorkflowPrefix } from '../workflows/ids.js';
import type { VerificationInput } from '../workflows/types.js';
import { SendBudgetExceededError, type VerificationClient } from '@dws-verify/client';
import type { LimitsStore } from '../limits/store.js';
import { abuseLimitHook, type AbuseLimit } from './abuse-limits.js';
import { CallerTokens, requireBearerToken } from './bearer-auth.js';
import type { CallerConfig, HttpRateLimits, RateLimit } from './config.js';
import {
  answeredUnderKey,
  cancelAcceptedSchema,
  cancelBodySchema,
  cancelHeadersSchema,
  errorResponses,
  otpBodySchema,
  outcomePendingSchema,
  outcomeQuerySchema,
  resendAnswerSchema,
  resendBodySchema,
  retryAfterHeader,
  startBodySchemaFor,
  startedSchema,
  startHeadersSchema,
  stateSchema,
  submissionHeadersSchema,
  verdictSchema,
  verificationOutcomeSchema,
  verificationParamsSchema,
} from './schemas.js';

export interface VerificationRoutesOptions {
  /** unscoped: each request acts through `forCaller(request.caller)` */
  verifications: VerificationClient;
  callers: readonly CallerConfig[];
  rateLimits: HttpRateLimits;
  limits: LimitsStore;
}

interface ById {
  Params: { id: string };
}

interface Submission {
  Headers: { 'idempotency-key'?: string };
}

/**
 * The submission's key: the caller's, or one made here. Sent back either way, so a caller that did not
 * choose one can still retry idempotently with the key of the attempt it did not hear back from.
 */
function submissionKey(request: FastifyRequest<Submission>, reply: FastifyReply): string {
  const key = request.headers['idempotency-key'] ?? randomUUID();
  reply.header('idempotency-key', key);
  return key;
}

const submissionDescription =
  ' Send an Idempotency-Key per submission (one per code the user typed): the same request again with the same key returns the first answer, also after a 503 or a lost answer, and is never verified or sent twice. A 503 means the answer did not come within the bound: retry with the same key after Retry-After.';

type StartBody = VerificationInput & { ifRunning?: 'fail' | 'attach'; answer?: 'challenge' | 'started' };

const tags = ['verifications'];

/**
 * Where a start leads, by the verificationId it answered (OpenAPI links): what a generated client or a
 * stateful API tester follows from one call to the next. The customer's own routes take the customer the
 * start named.
 */
const fromStart = {
  GetState: {
    operationId: 'getVerification',
    parameters: { id: '$response.body#/verificationId' },
    description: 'where the verification now is',
  },
  GetOutcome: {
    operationId: 'getVerificationOutcome',
    parameters: { id: '$response.body#/verificationId' },
    description: 'its outcome, once finished',
  },
  SubmitCode: {
    operationId: 'submitCode',
    parameters: { id: '$response.body#/verificationId' },
    requestBody: { customerId: '$request.body#/customerId' },
    description: 'the code the user typed',
  },
  Resend: {
    operationId: 'resendCode',
    parameters: { id: '$response.body#/verificationId' },
    requestBody: { customerId: '$request.body#/customerId' },
    description: 'a new code',
  },
  Cancel: {
    operationId: 'cancelVerification',
    parameters: { id: '$response.body#/verificationId' },
    requestBody: { customerId: '$request.body#/customerId' },
    description: 'the user left the change',
  },
};
const defaultOutcomeWaitSeconds = 10;
const security = [{ bearerAuth: [] }];

function customerOf(verificationId: string): string {
  return verificationId.slice(verificationWorkflowPrefix.length);
}

/**
 * The code, resend and cancel routes act on the caller-named customer's verification only: a request
 * whose body names another customer than the path is refused before anything reaches Temporal, so the
 * answer says nothing about whether either verification exists.
 */
async function sameCustomer(
  request: FastifyRequest<ById & { Body: { customerId: string } }>,
  reply: FastifyReply,
) {
  if (verificationWorkflowId(request.body.customerId) !== request.params.id) {
    return reply.code(403).send({
      error: 'CUSTOMER_MISMATCH',
      field: 'customerId',
      message: 'customerId does not own this verification',
    });
  }
}

const pathVerification = (request: FastifyRequest) => (request.params as { id: string }).id;
const pathCustomer = (request: FastifyRequest) => customerOf(pathVerification(request));
const submissionId = (request: FastifyRequest) =>
  (request.headers as Submission['Headers'])['idempotency-key'];

export const verificationRoutes: FastifyPluginAsync<VerificationRoutesOptions> = async (
  app: FastifyInstance,
  { verifications: unscoped, callers, rateLimits, limits },
) => {
  app.decorateRequest('caller', null as unknown as FastifyRequest['caller']);
  app.addHook('onRequest', requireBearerToken(new CallerTokens(callers)));
  // JSON only: a text body is refused as 415 instead of reaching validation as a string.
  app.removeContentTypeParser('text/plain');

  const as = (request: FastifyRequest) => unscoped.forCaller(request.caller);
  const limit = (
    options: Omit<AbuseLimit, 'target'> & { target: Omit<AbuseLimit['target'], 'limit'> },
    targetLimit: RateLimit,
  ) => abuseLimitHook(limits, { ...options, target: { ...options.target, limit: targetLimit } });

  // Fail closed where the request can cost an attempt or a send; a cancel only ever stops sends.
  const otpLimit = limit(
    {
      action: 'otp',
      what: 'OTP submissions',
      target: { name: 'verification', of: pathVerification },
      perUser: rateLimits.otpPerUser,
      perCaller: rateLimits.otpPerCaller,
      whenStoreDown: 'closed',
      idOf: submissionId,
    },
    rateLimits.otpPerVerification,
  );
  const resendLimit = limit(
    {
      action: 'resend',
      what: 'resend requests',
      target: { name: 'verification', of: pathVerification },
      perUser: rateLimits.resendPerUser,
      perCaller: rateLimits.resendPerCaller,
      whenStoreDown: 'closed',
      idOf: submissionId,
    },
    rateLimits.resendPerVerification,
  );
  const startLimit = limit(
    {
      action: 'start',
      what: 'starts',
      target: { name: 'customer', of: (request) => (request.body as StartBody).customerId },
      perUser: rateLimits.startPerUser,
      perCaller: rateLimits.startPerCaller,
      whenStoreDown: 'closed',
      idOf: (request) => (request.body as StartBody).requestKey ?? submissionId(request),
    },
    rateLimits.startPerCustomer,
  );
  const cancelLimit = limit(
    {
      action: 'cancel',
      what: 'cancels',
      target: { name: 'customer', of: pathCustomer },
      perUser: rateLimits.cancelPerUser,
      perCaller: rateLimits.cancelPerCaller,
      whenStoreDown: 'open',
    },
    rateLimits.cancelPerCustomer,
  );

  app.post<{ Body: StartBody; Headers: { 'idempotency-key'?: string } }>(
    '/verifications',
    {
      schema: {
        operationId: 'startVerification',
        tags,
        security,
        summary: "Start the customer's contact-change verification; answered once the code is on its way",
        description:
          'Answers when the first code has been sent, with challengeType, maskedDestination, expiresAt and attemptsLeft, or with the outcome if the flow ended before (e.g. REJECTED at the consult). 201 with a new run; 200 when an existing run of this caller is returned (ifRunning "attach", or a retried start with the same Idempotency-Key / requestKey); 409 ALREADY_RUNNING otherwise. Another caller\'s running verification is never joined: 404 NOT_FOUND when the start asked to join it (attach or the same key), 409 otherwise. Limited per customer, per end user and per caller (429 with Retry-After); 503 LIMITS_UNAVAILABLE when the limits cannot be counted. 429 SEND_BUDGET_EXCEEDED with Retry-After when the customer has been sent as many codes as the budget allows: no code was sent, the message says why.',
        headers: startHeadersSchema,
        body: startBodySchemaFor(unscoped.policy),
        response: {
          200: startedSchema,
          201: {
            ...startedSchema,
            headers: {
              location: {
                type: 'string',
                description: 'the new verification: /verifications/{id}',
                required: true,
              },
            },
          },
          ...errorResponses(404, 409, 413, 415, 429),
        },
      },
      links: { 200: fromStart, 201: fromStart },
      preHandler: startLimit,
    },
    async (request, reply) => {
      const { ifRunning, answer, ...input } = request.body;
      // The body's key wins, as the document says: a schema cannot tie a header to a body field, so a
      // refusal of the two differing would refuse a request the document declares valid.
      const requestKey = input.requestKey ?? request.headers['idempotency-key'];
      const started = await as(request).start(
        { ...input, ...(requestKey ? { requestKey } : {}) },
        { ifRunning: ifRunning ?? 'fail', ...(answer ? { answer } : {}) },
      );
      if (!started.attached) reply.header('location', `/verifications/${started.verificationId}`);
      return reply.code(started.attached ? 200 : 201).send(started);
    },
  );

  app.get<ById>(
    '/verifications/:id',
    {
      schema: {
        operationId: 'getVerification',
        tags,
        security,
        summary: 'Where the verification is: step, attempts and resends left, expiry, outcome',
        description:
          "404 for a verification that does not exist or is another caller's (an operator caller reads every one). 409 VERIFICATION_FINISHED for a verification that ended before any worker ran it (e.g. terminated by an operator): it has no state to show.",
        params: verificationParamsSchema,
        response: { 200: stateSchema, ...errorResponses(404, 409) },
      },
    },
    async (request) => as(request).state(customerOf(request.params.id)),
  );

  app.get<ById & { Querystring: { waitSeconds?: string } }>(
    '/verifications/:id/outcome',
    {
      schema: {
        operationId: 'getVerificationOutcome',
        tags,
        security,
        summary: 'The outcome, once the verification has finished',
        description:
          "404 when the verification does not exist or is another caller's (an operator caller reads every one). Waits up to waitSeconds for a running verification to finish: 200 with the outcome, or 202 (Retry-After) if it is still running. Read from the history, not by query: no billable action on Temporal Cloud. 409 VERIFICATION_FINISHED (with its status) for one that ended without an outcome: terminated or timed out by an operator.",
        params: verificationParamsSchema,
        querystring: outcomeQuerySchema,
        response: {
          200: verificationOutcomeSchema,
          202: {
            ...outcomePendingSchema,
            headers: { 'retry-after': { ...retryAfterHeader, required: true } },
          },
          ...errorResponses(404, 409),
        },
      },
    },
    async (request, reply) => {
      const outcome = await as(request).outcome(
        customerOf(request.params.id),
        Number(request.query.waitSeconds ?? defaultOutcomeWaitSeconds) * 1000,
      );
      if (outcome) return outcome;
      reply.header('retry-after', '1');
      return reply.code(202).send({ verificationId: request.params.id, finished: false });
    },
  );

  app.post<ById & Submission & { Body: { customerId: string; code: string } }>(
    '/verifications/:id/otp',
    {
      schema: {
        operationId: 'submitCode',
        tags,
        security,
        summary: 'Submit the code the user typed; answered with the verdict',
        description:
          "Every verdict is a 200: ACCEPTED, INCORRECT (with attemptsLeft), EXPIRED, ATTEMPTS_EXCEEDED, CLOSED. 409 VERIFICATION_FINISHED once the verification has finished; 409 CODE_FORMAT (field code, no attempt spent) when the code's form is not the one the open challenge takes: digits for sms, the encrypted PIN for PAYMENT_PASSWORD; 403 when customerId does not own the verification; 404 when it does not exist or is another caller's. Limited per verification, per end user and per caller (429 with Retry-After); 503 LIMITS_UNAVAILABLE when the limits cannot be counted." +
          submissionDescription,
        params: verificationParamsSchema,
        headers: submissionHeadersSchema,
        body: otpBodySchema,
        response: answeredUnderKey({ 200: verdictSchema, ...errorResponses(403, 404, 409, 413, 415, 429) }),
      },
      preHandler: [otpLimit, sameCustomer],
    },
    async (request, reply) =>
      as(request).verifyOtp(request.body.customerId, request.body.code, {
        idempotencyKey: submissionKey(request, reply),
      }),
  );

  app.post<ById & Submission & { Body: { customerId: string } }>(
    '/verifications/:id/resend',
    {
      schema: {
        operationId: 'resendCode',
        tags,
        security,
        summary: 'Ask for a new code',
        description:
          "The workflow's answer is always a 200: honoured, or refused with a reason (COOLDOWN also sets Retry-After); a resend the customer's send budget refuses is 429 SEND_BUDGET_EXCEEDED with Retry-After (the code already sent stays valid). 404 when the verification does not exist or is another caller's. Limited per verification, per end user and per caller (429 with Retry-After); 503 LIMITS_UNAVAILABLE when the limits cannot be counted." +
          submissionDescription,
        params: verificationParamsSchema,
        headers: submissionHeadersSchema,
        body: resendBodySchema,
        response: answeredUnderKey({
          200: {
            ...resendAnswerSchema,
            headers: {
              'retry-after': {
                ...retryAfterHeader,
                description: 'with COOLDOWN: seconds until a resend is honoured',
              },
            },
          },
          ...errorResponses(403, 404, 409, 413, 415, 429),
        }),
      },
      preHandler: [resendLimit, sameCustomer],
    },
    async (request, reply) => {
      const answer = await as(request).resend(request.body.customerId, {
        idempotencyKey: submissionKey(request, reply),
      });
      const refused = SendBudgetExceededError.fromResendAnswer(request.params.id, answer);
      if (refused) throw refused;
      if (!answer.honoured && answer.retryAfterSeconds)
        reply.header('retry-after', String(answer.retryAfterSeconds));
      return answer;
    },
  );

  app.post<ById & { Body: { customerId: string; reason?: string } }>(
    '/verifications/:id/cancel',
    {
      schema: {
        operationId: 'cancelVerification',
        tags,
        security,
        summary: 'Cancel the verification; the workflow ends CANCELLED once it can',
        description:
          "404 when the verification does not exist or is another caller's (an operator caller may cancel every one). Limited per customer, per end user and per caller (429 with Retry-After); when the limits cannot be counted the cancel goes ahead uncounted.",
        params: verificationParamsSchema,
        headers: cancelHeadersSchema,
        body: cancelBodySchema,
        response: { 202: cancelAcceptedSchema, ...errorResponses(403, 404, 409, 413, 415, 429) },
      },
      preHandler: [cancelLimit, sameCustomer],
    },
    async (request, reply) => {
      await as(request).cancel(request.body.customerId, request.body.reason);
      return reply.code(202).send({ verificationId: request.params.id, cancelRequested: true });
    },
  );
};
