/**
 * What the HTTP service logs: one line per request with method, route pattern, status, verification id,
 * caller label and duration. Bodies (codes, phone numbers, emails) and the Authorization header are never
 * logged: the per-request line is built from a fixed list of fields, and redaction covers anything
 * logged by hand or by a plugin that reaches for the request itself.
 */
import type { FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';

export type HttpLoggerOption = boolean | Exclude<FastifyServerOptions['logger'], boolean | undefined>;

const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'req.body',
  'body',
  'headers.authorization',
  '*.code',
  '*.otpValue',
  '*.passwordValue',
  '*.email',
  '*.phoneNo',
  '*.mobileNoInfo',
  '*.change',
];

/** The service's logger settings; whatever the caller passes, the redaction and serializers stay. */
export function loggerOptions(option: HttpLoggerOption | undefined): FastifyServerOptions['logger'] {
  if (!option) return false;
  const base = option === true ? {} : option;
  return {
    level: 'info',
    ...base,
    redact: { paths: redactedPaths, censor: '[redacted]' },
    serializers: {
      req: (request: FastifyRequest) => ({ method: request.method, route: request.routeOptions?.url }),
      res: (reply: { statusCode: number }) => ({ statusCode: reply.statusCode }),
    },
  };
}

/** onResponse hook: the one line per request (Fastify's own request logging is turned off). */
export async function logRequest(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  request.log.info(
    {
      method: request.method,
      route: request.routeOptions.url ?? '(no route)',
      status: reply.statusCode,
      verificationId: (request.params as { id?: string } | undefined)?.id,
      caller: request.caller?.name,
      responseTimeMs: Math.round(reply.elapsedTime),
    },
    'request',
  );
}
