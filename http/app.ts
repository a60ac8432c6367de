/**
 * The HTTP service, assembled but not listening: tests drive it with `app.inject()`, `startHttpService`
 * listens. Layout:
 *   /verifications...   bearer-token routes for the app and the backend (./routes.ts)
 *   /healthz, /readyz   unauthenticated probes
 *   /openapi.json       the OpenAPI 3 document generated from the route schemas, with the webhook events
 *   /codec/...          the payload codec endpoint for the Temporal UI, when `codec` is given (its own
 *                       tokens, origin check and CORS, see ../codec/codec-server.ts)
 */
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { codecServerPlugin, type CodecServerOptions } from '../codec/codec-server.js';
import type { VerificationClient } from '@dws-verify/client';
import { MemoryLimitsStore } from '../limits/memory-store.js';
import type { LimitsStore } from '../limits/store.js';
import {
  defaultBodyLimitBytes,
  defaultCallerName,
  defaultRateLimits,
  type CallerConfig,
  type HttpRateLimits,
} from './config.js';
import { errorHandlers, KnownRoutes } from './error-answers.js';
import { loggerOptions, logRequest, type HttpLoggerOption } from './logging.js';
import type { HttpMetrics } from './metrics.js';
import { observeRequests } from './observability.js';
import { verificationRoutes } from './routes.js';
import { errorSchema, healthSchema, requiredHeadersOut } from './schemas.js';
import { withWebhookEvents } from './webhooks-openapi.js';

export interface HttpAppOptions {
  verifications: VerificationClient;
  /** the named callers and their tokens (compared in constant time) */
  callers?: readonly CallerConfig[];
  /** shorthand for one caller named "default" with these tokens, as HTTP_AUTH_TOKENS configures */
  authTokens?: readonly string[];
  /** any limit left out keeps its default (see defaultRateLimits) */
  rateLimits?: Partial<HttpRateLimits>;
  /**
   * where the limits count; default a store in this process's memory, closed with the app (a store
   * handed in is the caller's to close)
   */
  limitsStore?: LimitsStore;
  bodyLimitBytes?: number;
  /** the reverse proxies whose X-Forwarded-For is believed (addresses or CIDRs); default none */
  trustedProxies?: readonly string[];
  /** mounts the codec endpoint under /codec */
  codec?: CodecServerOptions;
  /** false (default) for none; true or pino options for JSON logs, always with redaction */
  logger?: HttpLoggerOption;
  /** a server span per request, continuing the caller's traceparent (tracing must be started); default false */
  traced?: boolean;
  /** counts every answer into these series (./metrics.ts); default none */
  metrics?: HttpMetrics;
  /**
   * true once the replica is stopping (startHttpService's close): /readyz answers 503 so the load balancer
   * stops sending it requests, and every answer says `Connection: close` so kept-alive clients move on
   */
  draining?: () => boolean;
}

const readinessTimeoutMs = 2000;

export async function buildHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const callers = [
    ...(options.callers ?? []),
    ...(options.authTokens
      ? [{ name: defaultCallerName, tokens: [...options.authTokens], operator: false }]
      : []),
  ];
  const trustedProxies = [...(options.trustedProxies ?? [])];
  const knownRoutes = new KnownRoutes();
  const { handleError, handleNotFound } = errorHandlers(knownRoutes);
  const app = Fastify({
    logger: loggerOptions(options.logger),
    // One line per request comes from logRequest, with fields chosen not to include personal data.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes ?? defaultBodyLimitBytes,
    // A list, never `true`: the client address is the right-most one that is not a named proxy.
    trustProxy: trustedProxies.length > 0 ? trustedProxies : false,
    // Undecodable or overlong URLs get our error body too, not Fastify's default that echoes the path.
    frameworkErrors: handleError,
    ajv: {
      // Refuse what the schema does not describe instead of silently dropping or converting it.
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false },
    },
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  app.addHook('onRoute', (route) => knownRoutes.add(route));
  app.addHook('onResponse', logRequest);
  observeRequests(app, {
    traced: options.traced ?? false,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  const draining = options.draining ?? (() => false);
  app.addHook('onSend', async (_request, reply) => {
    if (draining()) reply.header('connection', 'close');
  });

  const limits = options.limitsStore ?? new MemoryLimitsStore();
  if (!options.limitsStore) app.addHook('onClose', () => limits.close());

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Contact-change verifications',
        version: '1.0.0',
        description:
          'Start a verification, submit the code the user typed, ask for a resend, cancel, and read the state. Errors answer { error, message, field? }.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    hideUntagged: true,
    transformObject: (document) =>
      'openapiObject' in document
        ? withWebhookEvents(requiredHeadersOut(document.openapiObject))
        : document.swaggerObject,
  });

  await app.register(verificationRoutes, {
    verifications: options.verifications,
    callers,
    rateLimits: { ...defaultRateLimits, ...options.rateLimits },
    limits,
  });

  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'liveness',
        tags: ['operations'],
        summary: 'Liveness: the process answers',
        response: { 200: healthSchema },
      },
    },
    async () => ({ ok: true }),
  );

  app.get<{ Querystring: { scope?: 'replica' } }>(
    '/readyz',
    {
      schema: {
        operationId: 'readiness',
        tags: ['operations'],
        summary: 'Readiness: Temporal answers and the replica is not stopping',
        description:
          'For monitoring: 200 when Temporal answers, 503 when it does not or when the replica is stopping (draining). For a load balancer, ?scope=replica: 503 only while this replica is stopping. Temporal being away is every replica at once, and each still answers that itself (503 TEMPORAL_UNAVAILABLE with Retry-After), better than a balancer with no replica left.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { scope: { type: 'string', enum: ['replica'] } },
        },
        response: { 200: healthSchema, 400: errorSchema, 503: healthSchema },
      },
    },
    async (request, reply) => {
      // Checked first: a stopping replica must leave the balancer whether or not Temporal answers.
      if (draining()) return reply.code(503).send({ ok: false, draining: true });
      if (request.query.scope === 'replica') return { ok: true };
      const { client } = options.verifications;
      const up = await client.connection
        .withDeadline(Date.now() + readinessTimeoutMs, () => client.workflowService.getSystemInfo({}))
        .then(
          () => true,
          () => false,
        );
      return reply.code(up ? 200 : 503).send({ ok: up, temporal: up ? 'up' : 'down' });
    },
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  if (options.codec) {
    await app.register(codecServerPlugin, { limitsStore: limits, ...options.codec, prefix: '/codec' });
  }

  return app;
}
