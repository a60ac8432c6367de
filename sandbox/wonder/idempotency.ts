/**
 * X-Request-ID idempotency for the writing calls (PUT and POST /customers): the first answer to an id is
 * kept with a fingerprint of the request; the same id with the same method, path and body (whatever its
 * key order or spacing) gets that answer again and changes nothing; the same id with anything else is
 * refused with 409 (see README.md). Ids are scoped to the app id, as the provider scopes everything.
 */
export interface StoredAnswer {
  statusCode: number;
  body: unknown;
}

export type IdempotencyLookup =
  { kind: 'new' } | { kind: 'replay'; answer: StoredAnswer } | { kind: 'conflict' };

const MAX_REMEMBERED = 10_000;

export class IdempotencyStore {
  private readonly answers = new Map<string, { fingerprint: string; answer: StoredAnswer }>();

  lookup(appId: string, requestId: string, fingerprint: string): IdempotencyLookup {
    const remembered = this.answers.get(`${appId} ${requestId}`);
    if (!remembered) return { kind: 'new' };
    if (remembered.fingerprint !== fingerprint) return { kind: 'conflict' };
    return { kind: 'replay', answer: structuredClone(remembered.answer) };
  }

  remember(appId: string, requestId: string, fingerprint: string, answer: StoredAnswer): void {
    this.answers.set(`${appId} ${requestId}`, { fingerprint, answer: structuredClone(answer) });
    // A long-running sandbox forgets its oldest ids rather than growing without bound.
    if (this.answers.size > MAX_REMEMBERED) {
      const oldest = this.answers.keys().next();
      if (!oldest.done) this.answers.delete(oldest.value);
    }
  }

  clear(): void {
    this.answers.clear();
  }
}
