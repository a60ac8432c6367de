/**
 * What both simulators compare a repeated request id's content by: the SHA-256 of its canonical JSON
 * (object keys sorted at every depth), so key order and whitespace do not matter and every field does
 * (sandbox/README.md).
 */
import { createHash } from 'node:crypto';

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

export function contentFingerprint(content: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(content) ?? null))
    .digest('hex');
}
