/**
 * The /verifications routes: what the app's OTP-entry screen and the backend call. Each route declares
 * its schemas (validated by Fastify, published at /openapi.json); failures are thrown as the client
 * library's typed errors and answered by the one error handler.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { verificationWorkflowId, verificationWorkflowPrefix } from '../workflows/ids.js';
import type { VerificationInput } from '../workflows/types.js';
import { SendBudgetExceededError, type VerificationClient } from '../client/index.js';
import { abuseLimitHook } from './abuse-limits.js';
import { CallerTokens, requireBearerToken } from './bearer-auth.js';
import type { HttpRateLimits } from './config.js';
import {
  cancelAcceptedSchema,
  cancelBodySchema,
  errorResponses,
  otpBodySchema,
  outcomePendingSchema,
  outcomeQuerySchema,
  resendAnswerSchema,
  resendBodySchema,
  startBodySchema,
  startedSchema,
  startHeadersSchema,
  stateSchema,
  submissionHeadersSchema,
  verdictSchema,
  verificationOutcomeSchema,
  verificationParamsSchema,
} from './schemas.js';

export interface VerificationRoutesOptions {
  verifications: VerificationClient;
  authTokens: readonly string[];
  rateLimits: HttpRateLimits;
  /** the app trusts X-Forwarded-For: the forwarded address then counts as the end user's */
  trustProxy?: boolean;
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

export const verificationRoutes: FastifyPluginAsync<VerificationRoutesOptions> = async (
  app: FastifyInstance,
  { verifications, authTokens, rateLimits, trustProxy = false },
) => {
  app.addHook('onRequest', requireBearerToken(new CallerTokens(authTokens)));
  // JSON only: a text body is refused as 415 instead of reaching validation as a string.
  app.removeContentTypeParser('text/plain');

  const otpLimit = abuseLimitHook(
    app,
    {
      what: 'OTP submissions',
      perVerification: rateLimits.otpPerVerification,
      perUser: rateLimits.otpPerUser,
      perCaller: rateLimits.otpPerCaller,
    },
    { trustProxy },
  );
  const resendLimit = abuseLimitHook(
    app,
    {
      what: 'resend requests',
      perVerification: rateLimits.resendPerVerification,
      perUser: rateLimits.resendPerUser,
      perCaller: rateLimits.resendPerCaller,
    },
    { trustProxy },
  );

  app.post<{ Body: StartBody; Headers: { 'idempotency-key'?: string } }>(
    '/verifications',
    {
      schema: {
        tags,
        security,
        summary: "Start the customer's contact-change verification; answered once the code is on its way",
        description:
          'Answers when the first code has been sent, with challengeType, maskedDestination, expiresAt and attemptsLeft, or with the outcome if the flow ended before (e.g. REJECTED at the consult). 201 with a new run; 200 when an existing run is returned (ifRunning "attach", or a retried start with the same Idempotency-Key / requestKey); 409 ALREADY_RUNNING otherwise. 429 SEND_BUDGET_EXCEEDED with Retry-After when the customer has been sent as many codes as the budget allows: no code was sent, the message says why.',
        headers: startHeadersSchema,
        body: startBodySchema,
        response: { 200: startedSchema, 201: startedSchema, ...errorResponses(409, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const { ifRunning, answer, ...input } = request.body;
      const headerKey = request.headers['idempotency-key'];
      if (headerKey && input.requestKey && headerKey !== input.requestKey) {
        return reply.code(400).send({
          error: 'BAD_REQUEST',
          field: 'idempotency-key',
          message: 'idempotency-key differs from requestKey in the body; send one of them',
        });
      }
      const requestKey = input.requestKey ?? headerKey;
      const started = await verifications.start(
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
        tags,
        security,
        summary: 'Where the verification is: step, attempts and resends left, expiry, outcome',
        description:
          '409 VERIFICATION_FINISHED for a verification that ended before any worker ran it (e.g. terminated by an operator): it has no state to show.',
        params: verificationParamsSchema,
        response: { 200: stateSchema, ...errorResponses(404, 409) },
      },
    },
    async (request) => verifications.state(customerOf(request.params.id)),
  );

  app.get<ById & { Querystring: { waitSeconds?: string } }>(
    '/verifications/:id/outcome',
    {
      schema: {
        tags,
        security,
        summary: 'The outcome, once the verification has finished',
        description:
          'Waits up to waitSeconds for a running verification to finish: 200 with the outcome, or 202 (Retry-After) if it is still running. Read from the history, not by query: no billable action on Temporal Cloud. 409 VERIFICATION_FINISHED (with its status) for one that ended without an outcome: terminated or timed out by an operator.',
        params: verificationParamsSchema,
        querystring: outcomeQuerySchema,
        response: {
          200: verificationOutcomeSchema,
          202: outcomePendingSchema,
          ...errorResponses(404, 409),
        },
      },
    },
    async (request, reply) => {
      const outcome = await verifications.outcome(
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
        tags,
        security,
        summary: 'Submit the code the user typed; answered with the verdict',
        description:
          'Every verdict is a 200: ACCEPTED, INCORRECT (with attemptsLeft), EXPIRED, ATTEMPTS_EXCEEDED, CLOSED. 409 once the verification has finished; 403 when customerId does not own the verification.' +
          submissionDescription,
        params: verificationParamsSchema,
        headers: submissionHeadersSchema,
        body: otpBodySchema,
        response: { 200: verdictSchema, ...errorResponses(403, 404, 409, 413, 415, 429) },
      },
      preValidation: otpLimit,
      preHandler: sameCustomer,
    },
    async (request, reply) =>
      verifications.verifyOtp(request.body.customerId, request.body.code, {
        idempotencyKey: submissionKey(request, reply),
      }),
  );

  app.post<ById & Submission & { Body: { customerId: string } }>(
    '/verifications/:id/resend',
    {
      schema: {
        tags,
        security,
        summary: 'Ask for a new code',
        description:
          "The workflow's answer is a 200: honoured, or refused with a reason (COOLDOWN also sets Retry-After); a resend the customer's send budget refuses is 429 SEND_BUDGET_EXCEEDED with Retry-After (the code already sent stays valid)." +
          submissionDescription,
        params: verificationParamsSchema,
        headers: submissionHeadersSchema,
        body: resendBodySchema,
        response: { 200: resendAnswerSchema, ...errorResponses(403, 404, 409, 413, 415, 429) },
      },
      preValidation: resendLimit,
      preHandler: sameCustomer,
    },
    async (request, reply) => {
      const answer = await verifications.resend(request.body.customerId, {
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
        tags,
        security,
        summary: 'Cancel the verification; the workflow ends CANCELLED once it can',
        params: verificationParamsSchema,
        body: cancelBodySchema,
        response: { 202: cancelAcceptedSchema, ...errorResponses(403, 404, 409, 413, 415) },
      },
      preHandler: sameCustomer,
    },
    async (request, reply) => {
      await verifications.cancel(request.body.customerId, request.body.reason);
      return reply.code(202).send({ verificationId: request.params.id, cancelRequested: true });
    },
  );
};
