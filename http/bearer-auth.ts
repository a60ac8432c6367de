/**
 * Who is calling: the holder of one of the configured bearer tokens. Tokens are compared as fixed-length
 * digests with `timingSafeEqual`, against every configured token, so neither the length nor a matching
 * prefix of a guess changes how long the answer takes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** a stable, non-reversible label of the caller's token (for limits and logs), set by the auth hook */
    callerId: string;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export class CallerTokens {
  readonly #known: Array<{ digest: Buffer; callerId: string }>;

  constructor(tokens: readonly string[]) {
    if (tokens.length === 0) throw new Error('The HTTP service needs at least one auth token.');
    this.#known = tokens.map((token) => {
      const tokenDigest = digest(token);
      return { digest: tokenDigest, callerId: `token-${tokenDigest.subarray(0, 6).toString('hex')}` };
    });
  }

  /** The caller's label when the token is one of ours, else undefined. */
  identify(candidate: string): string | undefined {
    const candidateDigest = digest(candidate);
    let found: string | undefined;
    for (const { digest: known, callerId } of this.#known) {
      if (timingSafeEqual(known, candidateDigest)) found = callerId;
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
    const callerId = token === undefined ? undefined : tokens.identify(token);
    if (!callerId) {
      const error = token === undefined ? '' : ', error="invalid_token"';
      return reply
        .code(401)
        .header('www-authenticate', `Bearer realm="verifications"${error}`)
        .send({ error: 'UNAUTHORIZED', message: 'A valid bearer token is required.' });
    }
    request.callerId = callerId;
  };
}
