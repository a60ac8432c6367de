/**
 * Standard Webhooks (https://www.standardwebhooks.com), both ends, with node:crypto only: the worker
 * signs each delivery with `signWebhook`, a receiver in this project's stack checks it with
 * `verifyWebhook`. Any other Standard Webhooks library verifies the same headers (the tests use the
 * `standardwebhooks` package). docs/webhooks.md shows a receiver.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookEvent } from '../workflows/types.js';

const secretPrefix = 'whsec_';

/** Standard Webhooks' default: a delivery signed longer ago (or further ahead) than this is refused. */
export const defaultWebhookToleranceSeconds = 5 * 60;

/** Why a delivery was refused; the message names what, never a secret. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}

/** The key a `whsec_` secret holds (the prefix is optional, as in the standard's libraries). */
export function webhookSecretKey(secret: string): Buffer {
  const encoded = secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  // Buffer.from skips what is not base64; a round trip tells a real key from a mangled one.
  if (key.length === 0 || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
    throw new WebhookVerificationError('the webhook secret is not whsec_ followed by base64');
  }
  return key;
}

/** One `v1,<base64>` signature of `id.timestamp.body`. */
function sign(key: Buffer, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/**
 * The `webhook-signature` header: one signature per secret, space-separated, so a receiver holding any
 * one of them verifies (a secret is rotated by adding the new one, then withdrawing the old).
 */
export function signWebhook(secrets: readonly string[], id: string, timestamp: number, body: string): string {
  return secrets.map((secret) => sign(webhookSecretKey(secret), id, timestamp, body)).join(' ');
}

export interface VerifyWebhookOptions {
  /** seconds a signature's timestamp may differ from now; default 300 */
  toleranceSeconds?: number;
  /** now, in milliseconds; for tests */
  now?: number;
}

type Headers = Record<string, string | string[] | undefined> | { get(name: string): string | null };

function header(headers: Headers, name: string): string | undefined {
  const value =
    typeof headers.get === 'function'
      ? (headers as { get(name: string): string | null }).get(name)
      : (headers as Record<string, string | string[] | undefined>)[name];
  return (Array.isArray(value) ? value[0] : value) ?? undefined;
}

/**
 * Checks a delivery against the secret(s) you hold for the endpoint (during a rotation, both) and
 * returns the event. `body` must be the raw body as received: re-serialised JSON would not match.
 * Throws WebhookVerificationError for a missing header, a stale or future timestamp, or no matching
 * signature. Deduplicate by `event.id` (the webhook-id header): a delivery may arrive more than once.
 */
export function verifyWebhook(
  body: string | Buffer,
  headers: Headers,
  secrets: string | readonly string[],
  options: VerifyWebhookOptions = {},
): WebhookEvent {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError('webhook-id, webhook-timestamp and webhook-signature are required');
  }
  if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookVerificationError('webhook-timestamp is not a number');
  const tolerance = options.toleranceSeconds ?? defaultWebhookToleranceSeconds;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(now - Number(timestamp)) > tolerance) {
    throw new WebhookVerificationError('webhook-timestamp is outside the tolerance');
  }
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const offered = signatures.split(' ').filter((s) => s.startsWith('v1,'));
  const matches = [secrets]
    .flat()
    .map((secret) => Buffer.from(sign(webhookSecretKey(secret), id, Number(timestamp), text)))
    .some((expected) =>
      offered.some((candidate) => {
        const given = Buffer.from(candidate);
        return given.length === expected.length && timingSafeEqual(given, expected);
      }),
    );
  if (!matches) throw new WebhookVerificationError('no signature matches the secret');
  const event = JSON.parse(text) as WebhookEvent;
  if (event.id !== id) throw new WebhookVerificationError('the body is another event than webhook-id names');
  return event;
}
