/**
 * Two counters in front of each message route: one per verification (however many callers target it)
 * and one per caller (its token and address, however many verifications it spreads over). Both must
 * allow a request; the first that refuses answers 429 with Retry-After. The plugin's own route option
 * takes one limit per route, so the limiters come from `createRateLimit` and are applied here together.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimit } from './config.js';

export interface AbuseLimit {
  /** what is being counted, for the answer: "OTP submissions" */
  what: string;
  perVerification: RateLimit;
  perCaller: RateLimit;
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

function limiter(app: FastifyInstance, limit: RateLimit, key: (request: FastifyRequest) => string): Limiter {
  return app.createRateLimit({ max: limit.max, timeWindow: limit.windowSeconds * 1000, keyGenerator: key });
}

/** A preValidation hook for the app with @fastify/rate-limit registered. Runs after authentication. */
export function abuseLimitHook(app: FastifyInstance, limit: AbuseLimit) {
  const checks: Array<{ scope: string; check: Limiter }> = [
    {
      scope: 'for this caller',
      check: limiter(app, limit.perCaller, (request) => `${request.callerId}|${request.ip}`),
    },
    {
      scope: 'for this verification',
      check: limiter(app, limit.perVerification, (request) => (request.params as { id?: string }).id ?? ''),
    },
  ];
  return async function abuseLimit(request: FastifyRequest, reply: FastifyReply) {
    for (const { scope, check } of checks) {
      const verdict = await check(request);
      if (!verdict.isAllowed && verdict.isExceeded) {
        const retryAfterSeconds = Math.max(1, verdict.ttlInSeconds);
        request.log.warn(
          { scope, verificationId: (request.params as { id?: string }).id },
          'rate limit reached',
        );
        return reply
          .code(429)
          .header('retry-after', String(retryAfterSeconds))
          .send({
            error: 'TOO_MANY_REQUESTS',
            message: `too many ${limit.what} ${scope}; retry in ${retryAfterSeconds} s`,
            retryAfterSeconds,
          });
      }
    }
  };
}
