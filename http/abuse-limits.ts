/**
 * The request limits in front of the routes that act: counters in the limits/ store (Redis when
 * LIMITS_REDIS_URL is set, so they hold across replicas and restarts). Each route counts its target (the
 * verification, or the customer a start names), the end user when the request says who that is, and the
 * caller. Every key holds the caller's name, so one caller can never spend, or learn anything from,
 * another's counters; the send budget (limits/send-budget.ts) is the one count shared by all callers.
 *
 * The hooks run as a preHandler, after authentication and schema validation, so a key is built only from
 * validated, bounded values: no key an attacker makes can be longer than the store accepts, and the
 * store never evicts a live counter, so a flood of new keys cannot reset a victim's.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { addressBucket } from '../limits/client-address.js';
import { LimitsStoreUnavailableError, type LimitsStore, type LimitWindow } from '../limits/store.js';
import type { RateLimit } from './config.js';

/** The header a backend names its end user with: any opaque id of its own, up to 128 visible characters. */
export const endUserHeader = 'x-end-user-id';

/** How long a 503 for an unreachable store asks the app to wait: the store reconnects within a second. */
export const limitsUnavailableRetryAfterSeconds = 5;

export interface AbuseLimit {
  /** the key's first part, one per route: what is counted */
  action: 'otp' | 'resend' | 'start' | 'cancel';
  /** for the answer: "OTP submissions" */
  what: string;
  /** the thing the request acts on, from validated input: a verification id or a customer id */
  target: { name: 'verification' | 'customer'; of: (request: FastifyRequest) => string; limit: RateLimit };
  perUser: RateLimit;
  perCaller: RateLimit;
  /**
   * When the store cannot answer: 'closed' refuses (503 with Retry-After), 'open' lets the request through
   * unlimited. docs/http-api.md says which route is which, and why.
   */
  whenStoreDown: 'closed' | 'open';
  /**
   * The request's own idempotency key, when the caller sent one: a retry with the same key (after a 503,
   * or an answer lost) is counted once. Safe because the retry is idempotent on the same key too: it
   * gets the first answer and never reaches a code or a send a second time.
   */
  idOf?: (request: FastifyRequest) => string | undefined;
}

/**
 * Small limits count in a sliding window (exact, an entry per event); large ones, sized for a backend's
 * traffic, in a fixed window (one number), where an entry per request would cost more than it tells.
 */
const largestSlidingLimit = 1000;

function windowOf({ max, windowSeconds }: RateLimit): LimitWindow {
  return { limit: max, windowSeconds, kind: max <= largestSlidingLimit ? 'sliding' : 'fixed' };
}

/**
 * Who the request is for, when it can be told: the end user the caller names, else the client address
 * a trusted proxy forwarded (the right-most address not of a trusted proxy, so a forged left-most entry
 * changes nothing; from an untrusted peer X-Forwarded-For is ignored). Without either, the address is
 * the caller's own and says nothing about the user, so there is no per-user count.
 */
function endUserOf(request: FastifyRequest): string | undefined {
  const named = request.headers[endUserHeader];
  if (typeof named === 'string' && named !== '') return `id:${named}`;
  // request.ips lists the peer and every trusted hop after it: more than one means a trusted proxy forwarded.
  if ((request.ips?.length ?? 0) > 1) return `address:${addressBucket(request.ip)}`;
  return undefined;
}

/** A preHandler that counts the request against every applicable limit, or answers 429 / 503. */
export function abuseLimitHook(store: LimitsStore, limit: AbuseLimit) {
  const scopes = [
    {
      scope: `for this ${limit.target.name}`,
      label: limit.target.name,
      window: windowOf(limit.target.limit),
      key: (request: FastifyRequest) => `${limit.target.name}:${limit.target.of(request)}`,
    },
    {
      scope: 'for this user',
      label: 'user',
      window: windowOf(limit.perUser),
      key: (request: FastifyRequest) => {
        const user = endUserOf(request);
        return user === undefined ? undefined : `user:${user}`;
      },
    },
    { scope: 'for this caller', label: 'caller', window: windowOf(limit.perCaller), key: () => 'caller' },
  ];
  return async function abuseLimit(request: FastifyRequest, reply: FastifyReply) {
    const id = limit.idOf?.(request);
    // The narrowest count first: a flood on one verification is refused there and spends nothing wider.
    for (const { scope, label, window, key } of scopes) {
      const what = key(request);
      if (what === undefined) continue;
      let decision;
      try {
        decision = await store.hit(
          `http:${limit.action}:${request.caller.name}:${what}`,
          [window],
          id ? { id } : {},
        );
      } catch (err) {
        if (!(err instanceof LimitsStoreUnavailableError)) throw err;
        if (limit.whenStoreDown === 'open') {
          request.log.warn(
            { err: err.message },
            `limits store unavailable; ${limit.what} let through uncounted`,
          );
          return;
        }
        request.log.warn({ err: err.message }, `limits store unavailable; ${limit.what} refused`);
        request.refusal = { error: 'LIMITS_UNAVAILABLE', unavailable: 'LIMITS_UNAVAILABLE' };
        const retryAfterSeconds = limitsUnavailableRetryAfterSeconds;
        return reply
          .code(503)
          .header('retry-after', String(retryAfterSeconds))
          .send({
            error: 'LIMITS_UNAVAILABLE',
            message: `${limit.what} cannot be counted right now, so none are taken; retry in ${retryAfterSeconds} s`,
            retryAfterSeconds,
          });
      }
      if (!decision.allowed) {
        const { retryAfterSeconds } = decision;
        request.log.warn(
          { scope, verificationId: (request.params as { id?: string }).id },
          'rate limit reached',
        );
        request.refusal = { error: 'TOO_MANY_REQUESTS', limit: { action: limit.action, scope: label } };
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
