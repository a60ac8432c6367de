/**
 * requestId idempotency, per API: the first final answer to an id is kept with a fingerprint of the
 * request, a repeat with the same content gets that answer again without any work, and a repeat with
 * other content is refused (REPEAT_REQ_INCONSISTENT).
 */
import { createHash } from 'node:crypto';
import type { DwsApi } from '../../activities/dws/types.js';
import type { DwsAnswer } from './results.js';

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .sort()
        .map((key) => [key, canonical(record[key])]),
    );
  }
  return value;
}

/** Same content, whatever the key order or whitespace of the JSON it came in. */
export function fingerprint(body: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(body)))
    .digest('hex');
}

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
