/**
 * Who is calling: the named caller one of whose tokens the request carries. Tokens are compared as
 * fixed-length digests with `timingSafeEqual`, against every configured token of every caller, so neither
 * the length, a matching prefix, nor which caller a guess resembles changes how long the answer takes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '@dws-verify/client';
import type { CallerConfig } from './config.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the caller the token belongs to (its name keys its limits and owns what it starts), set by the auth hook */
    caller: Caller;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export class CallerTokens {
  readonly #known: Array<{ digest: Buffer; caller: Caller }>;

  constructor(callers: readonly CallerConfig[]) {
    this.#known = callers.flatMap(({ name, tokens, operator }) =>
      tokens.map((token) => ({ digest: digest(token), caller: { name, operator } })),
    );
    if (this.#known.length === 0) throw new Error('The HTTP service needs at least one caller token.');
  }

  /** The caller whose token this is, else undefined. */
  identify(candidate: string): Caller | undefined {
    const candidateDigest = digest(candidate);
    let found: Caller | undefined;
    for (const { digest: known, caller } of this.#known) {
      if (timingSafeEqual(known, candidateDigest)) found = caller;
    }
    return found;
  }
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1];
}

/** An onRequest hook: answers 401 with a Bearer challenge unless the request carries a known token. */
export function requireBearerToken(tokens: CallerTokens) {
  return async function bearerAuth(request: FastifyRequest, reply: FastifyReply) {
    const token = bearerToken(request.headers.authorization);
    const caller = token === undefined ? undefined : tokens.identify(token);
    if (!caller) {
      const error = token === undefined ? '' : ', error="invalid_token"';
      return reply
        .code(401)
        .header('www-authenticate', `Bearer realm="verifications"${error}`)
        .send({ error: 'UNAUTHORIZED', message: 'A valid bearer token is required.' });
    }
    request.caller = caller;
  };
}
