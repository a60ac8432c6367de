/**
 * Counters in front of each message route: one per verification (however many callers target it: this is
 * what stops guessing), one per end user when the request says who that is, and one per caller (its
 * token: a backend relaying many users, so sized for a service). Every counter must allow a request; the
 * first that refuses answers 429 with Retry-After. The plugin's own route option takes one limit per
 * route, so the limiters come from `createRateLimit` and are applied here together.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimit } from './config.js';

export interface AbuseLimit {
  /** what is being counted, for the answer: "OTP submissions" */
  what: string;
  perVerification: RateLimit;
  perUser: RateLimit;
  perCaller: RateLimit;
}

/** The header a backend names its end user with: any opaque id of its own, up to 128 visible characters. */
export const endUserHeader = 'x-end-user-id';

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

function limiter(app: FastifyInstance, limit: RateLimit, key: (request: FastifyRequest) => string): Limiter {
  return app.createRateLimit({ max: limit.max, timeWindow: limit.windowSeconds * 1000, keyGenerator: key });
}

/**
 * Who the request is for, when it can be told: the end user the caller names, else the client address
 * a trusted proxy forwarded. Without either, the address is the caller's own and says nothing about the
 * user, so there is no per-user count (the per-verification and per-caller ones still apply).
 */
function endUserOf(request: FastifyRequest, trustProxy: boolean): string | undefined {
  const named = request.headers[endUserHeader];
  if (typeof named === 'string' && named !== '') return `user:${named}`;
  if (trustProxy && request.headers['x-forwarded-for']) return `address:${request.ip}`;
  return undefined;
}

/** A preValidation hook for the app with @fastify/rate-limit registered. Runs after authentication. */
export function abuseLimitHook(app: FastifyInstance, limit: AbuseLimit, options: { trustProxy: boolean }) {
  const checks: Array<{ scope: string; applies: (request: FastifyRequest) => boolean; check: Limiter }> = [
    {
      scope: 'for this caller',
      applies: () => true,
      check: limiter(app, limit.perCaller, (request) => request.callerId),
    },
    {
      scope: 'for this user',
      applies: (request) => endUserOf(request, options.trustProxy) !== undefined,
      check: limiter(
        app,
        limit.perUser,
        (request) => `${request.callerId}|${endUserOf(request, options.trustProxy) ?? ''}`,
      ),
    },
    {
      scope: 'for this verification',
      applies: () => true,
      check: limiter(app, limit.perVerification, (request) => (request.params as { id?: string }).id ?? ''),
    },
  ];
  return async function abuseLimit(request: FastifyRequest, reply: FastifyReply) {
    for (const { scope, applies, check } of checks) {
      if (!applies(request)) continue;
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
