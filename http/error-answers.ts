/**
 * Every error the service can meet, answered in one place with `{ error, message, field? }`. A caller's
 * mistake is always a 4xx naming what was wrong; messages are our own sentences, never the request's
 * content (a JSON parser's message can quote the body, which may hold a code).
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import {
  CodeNotForChallengeError,
  defaultAnswerWithinMs,
  InvalidVerificationInputError,
  SendBudgetExceededError,
  VerificationAlreadyRunningError,
  VerificationFinishedError,
  VerificationNotFoundError,
  unavailableFrom,
  VerificationUnavailableError,
} from '@dws-verify/client';
import { describe, fieldOf } from '../workflows/input-contract.js';
import { actionOf } from './observability.js';

export interface ErrorBody {
  error: string;
  message: string;
  field?: string;
  verificationId?: string;
  status?: string;
  retryAfterSeconds?: number;
  reason?: string;
}

interface Answer {
  statusCode: number;
  body: ErrorBody;
}

function badRequest(field: string, message: string): Answer {
  return { statusCode: 400, body: { error: 'BAD_REQUEST', field, message } };
}

/** Fastify's own request errors, by code: what the caller sent could not be read. */
const framingErrors: Record<string, () => Answer> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () => badRequest('(body)', 'the body is not valid JSON'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => badRequest('(body)', 'the body is empty; a JSON object is expected'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    badRequest('(body)', 'the body does not match its Content-Length'),
  FST_ERR_CTP_BODY_TOO_LARGE: () => ({
    statusCode: 413,
    body: { error: 'PAYLOAD_TOO_LARGE', message: 'the body is larger than this service accepts' },
  }),
  FST_ERR_BAD_URL: () => badRequest('id', 'the URL is not valid percent-encoded UTF-8'),
  FST_ERR_MAX_PARAM_LENGTH: () => badRequest('id', 'the id is longer than any verification id'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => ({
    statusCode: 415,
    body: {
      error: 'UNSUPPORTED_MEDIA_TYPE',
      field: 'content-type',
      message: 'send the body as application/json',
    },
  }),
};

export function answerFor(error: FastifyError | Error): Answer | undefined {
  const fastifyError = error as Partial<FastifyError>;
  const first = fastifyError.validation?.[0];
  // Fields are named exactly as the client library names them: params as "id", headers in lower case.
  if (first) return badRequest(fieldOf(first), describe(first));
  if (error instanceof CodeNotForChallengeError) {
    return { statusCode: 409, body: { error: 'CODE_FORMAT', field: 'code', message: error.message } };
  }
  if (error instanceof InvalidVerificationInputError) return badRequest(error.field, error.message);
  if (error instanceof VerificationNotFoundError) {
    return {
      statusCode: 404,
      body: { error: 'NOT_FOUND', verificationId: error.verificationId, message: 'no such verification' },
    };
  }
  if (error instanceof VerificationFinishedError) {
    return {
      statusCode: 409,
      body: {
        error: 'VERIFICATION_FINISHED',
        verificationId: error.verificationId,
        status: error.status,
        message: 'the verification has already finished',
      },
    };
  }
  if (error instanceof VerificationAlreadyRunningError) {
    return {
      statusCode: 409,
      body: {
        error: 'ALREADY_RUNNING',
        verificationId: error.verificationId,
        message: 'a verification is already running for this customer',
      },
    };
  }
  if (error instanceof SendBudgetExceededError) {
    // The message is the budget's own sentence, for the app to show; no code went out.
    return {
      statusCode: 429,
      body: {
        error: 'SEND_BUDGET_EXCEEDED',
        verificationId: error.verificationId,
        message: error.reason,
        retryAfterSeconds: error.retryAfterSeconds,
      },
    };
  }
  const framing = fastifyError.code ? framingErrors[fastifyError.code] : undefined;
  if (framing) return framing();
  // The client library maps every outage itself; a raw SDK error here is one that bypassed it.
  const unavailable =
    error instanceof VerificationUnavailableError
      ? error
      : unavailableFrom(error, 'state', defaultAnswerWithinMs);
  if (unavailable) {
    return {
      statusCode: 503,
      body: {
        error: 'TEMPORAL_UNAVAILABLE',
        reason: unavailable.reason,
        message: unavailable.message,
        retryAfterSeconds: unavailable.retryAfterSeconds,
      },
    };
  }
  const statusCode = fastifyError.statusCode;
  if (statusCode && statusCode >= 400 && statusCode < 500) {
    const reason = STATUS_CODES[statusCode] ?? 'Bad Request';
    return {
      statusCode,
      body: { error: reason.toUpperCase().replace(/[^A-Z]+/g, '_'), message: reason.toLowerCase() },
    };
  }
  return undefined;
}

/**
 * The methods each route path answers, recorded as routes are added (an onRoute hook), so a request with
 * another method on a known path is answered 405 with `Allow`, as HTTP asks, and only an unknown path is
 * a 404. Path parameters match any one segment: whether the id is valid is the route's to say.
 */
export class KnownRoutes {
  readonly #paths = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  add(route: Pick<RouteOptions, 'method' | 'url'>): void {
    let path = this.#paths.get(route.url);
    if (!path) {
      path = { pattern: pathPattern(route.url), methods: new Set() };
      this.#paths.set(route.url, path);
    }
    for (const method of [route.method].flat()) path.methods.add(method.toUpperCase());
  }

  /** The methods the path answers, sorted; empty for a path no route has. */
  allowed(url: string): string[] {
    const path = url.split('?', 1)[0]!;
    const methods = new Set<string>();
    for (const { pattern, methods: answered } of this.#paths.values()) {
      if (pattern.test(path)) for (const method of answered) methods.add(method);
    }
    return [...methods].sort();
  }
}

function pathPattern(url: string): RegExp {
  const segments = url.split('/').map((segment) => {
    if (segment === '*') return '.*';
    if (segment.startsWith(':')) return '[^/]+';
    return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${segments.join('/')}$`);
}

export interface ErrorHandlers {
  handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply;
  handleNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply;
}

export function errorHandlers(known: KnownRoutes): ErrorHandlers {
  function handleNotFound(request: FastifyRequest, reply: FastifyReply) {
    const allowed = known.allowed(request.url);
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send({ error: 'METHOD_NOT_ALLOWED', message: `this path answers ${allowed.join(', ')}` });
    }
    return reply.code(404).send({ error: 'NOT_FOUND', message: 'no such route' });
  }

  function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
    // A QUERY without Content-Type is refused before the router says no route takes it: what it gets
    // is the answer for its method and path. Framing errors (a bad URL) keep their own answers.
    if (request.is404 && (error as Partial<FastifyError>).code === 'FST_ERR_ROUTE_MISSING_CONTENT_TYPE') {
      return handleNotFound(request, reply);
    }
    const answer = answerFor(error);
    if (!answer) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(500).send({ error: 'INTERNAL', message: 'the request could not be completed' });
    }
    request.refusal = {
      error: answer.body.error,
      ...(answer.body.error === 'SEND_BUDGET_EXCEEDED'
        ? { limit: { action: actionOf(request), scope: 'send_budget' } }
        : {}),
      ...(answer.body.reason ? { unavailable: answer.body.reason } : {}),
    };
    if (answer.statusCode === 503) {
      request.log.warn({ errorName: error.name, reason: answer.body.reason }, 'Temporal did not answer');
      reply.header('retry-after', String(answer.body.retryAfterSeconds ?? 5));
    }
    if (answer.statusCode === 429) reply.header('retry-after', String(answer.body.retryAfterSeconds ?? 1));
    return reply.code(answer.statusCode).send(answer.body);
  }

  return { handleError, handleNotFound };
}
