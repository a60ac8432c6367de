/**
 * What the HTTP service tells about each request: a server span (when tracing is on) and the Prometheus
 * series (when metrics are on), both written in one onResponse hook from what the request met.
 *
 * The span continues the caller's W3C `traceparent` and is the active context while the route's handler
 * runs, so the Temporal client call it makes (and through its headers the workflow, the activities and
 * the provider calls) lands in the same trace. Its attributes are the route template, the status, the
 * verification id, the step and, for a refusal, why: never a body, a header value or a query string.
 *
 * Routes and hooks say why they refused (`request.refusal`); this file is the one reader.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_ERROR_TYPE,
} from '@opentelemetry/semantic-conventions';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { spanAttributes as attributes, tracer } from '../observability/tracing.js';
import { verificationWorkflowId } from '../workflows/ids.js';
import type { HttpMetrics } from './metrics.js';

/** Why a request was refused, for the span and the metrics: set where the refusal is decided. */
export interface Refusal {
  /** the answer's `error`, e.g. TOO_MANY_REQUESTS, LIMITS_UNAVAILABLE, TEMPORAL_UNAVAILABLE */
  error: string;
  /** a 429: the limit's action and scope */
  limit?: { action: string; scope: string };
  /** a 503: LIMITS_UNAVAILABLE or the outage reason */
  unavailable?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** set by whoever refuses the request; read once, when the answer has gone */
    refusal: Refusal | null;
  }
}

export interface ObserveOptions {
  /** a server span per request; default false */
  traced?: boolean;
  metrics?: HttpMetrics;
}

/** Call before any route is added: the handler wrap is made as each route is. */
export function observeRequests(app: FastifyInstance, options: ObserveOptions): void {
  app.decorateRequest('refusal', null);
  if (!options.traced && !options.metrics) return;
  const spans = new WeakMap<FastifyRequest, { span: Span; active: Context }>();

  if (options.traced) {
    app.addHook('onRequest', async (request) => {
      const parent = propagation.extract(ROOT_CONTEXT, request.headers);
      const route = routeOf(request);
      const span = tracer().startSpan(
        `${request.method} ${route}`,
        {
          kind: SpanKind.SERVER,
          attributes: { [ATTR_HTTP_REQUEST_METHOD]: request.method, [ATTR_HTTP_ROUTE]: route },
        },
        parent,
      );
      spans.set(request, { span, active: trace.setSpan(parent, span) });
    });
    // Body parsing and the hooks before the handler run on the socket's own callbacks, where no context
    // set in onRequest survives; the handler is where the Temporal call is made, so it runs in the span.
    app.addHook('onRoute', (route: RouteOptions) => {
      const handler = route.handler;
      route.handler = function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
        const entry = spans.get(request);
        return entry
          ? context.with(entry.active, handler, this, request, reply)
          : handler.call(this, request, reply);
      };
    });
  }

  app.addHook('onResponse', async (request, reply) => {
    const route = routeOf(request);
    const status = reply.statusCode;
    const { refusal } = request;
    const { metrics } = options;
    if (metrics) {
      metrics.requests.inc({ route, method: request.method, status: String(status) });
      metrics.duration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
      if (status === 429 && refusal?.limit) metrics.limitRefusals.inc(refusal.limit);
      if (status === 503) metrics.unavailable.inc({ reason: refusal?.unavailable ?? 'UNKNOWN' });
      if (route.startsWith('/codec/') && route.endsWith('code')) {
        metrics.codecCalls.inc({
          operation: route.slice(route.lastIndexOf('/') + 1),
          status: String(status),
        });
      }
    }
    const entry = spans.get(request);
    if (!entry) return;
    const { span } = entry;
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    // A request refused before validation may hold anything where the id should be (a phone number
    // typed into the path): only a validated id goes on the span.
    const verificationId = [400, 413, 415].includes(status) ? undefined : verificationOf(request);
    if (verificationId) span.setAttribute(attributes.verificationId, verificationId);
    const step = stepOf(request);
    if (step) span.setAttribute(attributes.step, step);
    if (request.caller) span.setAttribute(attributes.caller, request.caller.name);
    if (refusal) {
      span.setAttribute(ATTR_ERROR_TYPE, refusal.error);
      if (refusal.limit) span.setAttribute('dws.limit.scope', refusal.limit.scope);
      if (refusal.unavailable) span.setAttribute('dws.unavailable.reason', refusal.unavailable);
    }
    // As the HTTP conventions say for a server span: a 5xx is an error, a 4xx is the caller's.
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}

const actions: Record<string, string> = {
  startVerification: 'start',
  submitCode: 'otp',
  resendCode: 'resend',
  cancelVerification: 'cancel',
};

/** The limits' name of what the request does (start, otp, resend, cancel), from its route. */
export function actionOf(request: FastifyRequest): string {
  const step = stepOf(request);
  return (step && actions[step]) ?? step ?? 'unknown';
}

function stepOf(request: FastifyRequest): string | undefined {
  return (request.routeOptions.schema as { operationId?: string } | undefined)?.operationId;
}

/** The route template (`/verifications/:id`), never the path itself: one series and span name per route. */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

/** The verification the request is about: the path's id, or the one a start's customer gives. */
function verificationOf(request: FastifyRequest): string | undefined {
  const id = (request.params as { id?: unknown } | undefined)?.id;
  if (typeof id === 'string') return id;
  const customerId = (request.body as { customerId?: unknown } | undefined)?.customerId;
  if (request.routeOptions.url === '/verifications' && typeof customerId === 'string') {
    return verificationWorkflowId(customerId);
  }
  return undefined;
}
