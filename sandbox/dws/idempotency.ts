/**
 * requestId idempotency, per API: the first final answer to an id is kept with a fingerprint of the
 * request, a repeat with the same content gets that answer again without any work, and a repeat with
 * other content is refused (REPEAT_REQ_INCONSISTENT).
 */
import type { DwsApi } from '../../activities/dws/types.js';
import type { DwsAnswer } from './results.js';

export type IdempotencyLookup =
  { kind: 'new' } | { kind: 'replay'; answer: DwsAnswer } | { kind: 'inconsistent' };

interface Remembered {
  fingerprint: string;
  answer: DwsAnswer;
}

export class IdempotencyStore {
  private readonly answers = new Map<string, Remembered>();

  lookup(api: DwsApi, id: string, requestFingerprint: string): IdempotencyLookup {
    const remembered = this.answers.get(`${api}:${id}`);
    if (!remembered) return { kind: 'new' };
    if (remembered.fingerprint !== requestFingerprint) return { kind: 'inconsistent' };
    return { kind: 'replay', answer: structuredClone(remembered.answer) };
  }

  remember(api: DwsApi, id: string, requestFingerprint: string, answer: DwsAnswer): void {
    this.answers.set(`${api}:${id}`, { fingerprint: requestFingerprint, answer: structuredClone(answer) });
  }

  clear(): void {
    this.answers.clear();
  }
}
