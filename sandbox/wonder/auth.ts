/**
 * The gateway's request authentication: Credential shape and app id, request time within 30 minutes of
 * the server clock, Nonce shape, the signature over the exact bytes received, and nonce replay.
 *
 * A nonce is remembered for 61 minutes: a request time may be up to 30 minutes ahead of the clock and
 * stays acceptable until 30 minutes after it, so no replay can outlive that window. Only requests whose
 * signature verifies are remembered, so garbage cannot fill the memory or burn someone else's nonce.
 *
 * Error codes: E000002 is the provider's documented "Invalid Credential Format"; the others are ours.
 */
import type { KeyObject } from 'node:crypto';
import { parseCredential, verifyRequest } from '../../activities/wonder/signing.js';

export const MAX_CLOCK_SKEW_MS = 30 * 60_000;
export const NONCE_RETENTION_MS = 61 * 60_000;

export const wonderAuthCodes = {
  invalidCredential: 'E000002',
  unknownApp: 'E000003',
  staleCredential: 'E000004',
  invalidNonce: 'E000005',
  invalidSignature: 'E000006',
  replayedNonce: 'E000007',
} as const;

export type AuthResult =
  | { ok: true; appId: string }
  | { ok: false; code: (typeof wonderAuthCodes)[keyof typeof wonderAuthCodes]; message: string };

export interface SignedRequest {
  method: string;
  /** path and query as received */
  uri: string;
  /** the exact body text received ('' for none) */
  body: string;
  credential: string | undefined;
  nonce: string | undefined;
  signature: string | undefined;
}

export class RequestAuthenticator {
  /** `${appId} ${nonce}` -> when first seen; insertion order is time order, so pruning stops early */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly apps: ReadonlyMap<string, KeyObject>,
    private readonly now: () => number,
    private readonly maxSkewMs = MAX_CLOCK_SKEW_MS,
    private readonly retentionMs = NONCE_RETENTION_MS,
  ) {}

  authenticate(request: SignedRequest): AuthResult {
    const credential = parseCredential(request.credential);
    if (!credential)
      return { ok: false, code: wonderAuthCodes.invalidCredential, message: 'Invalid Credential Format.' };
    const publicKey = this.apps.get(credential.appId);
    if (!publicKey) return { ok: false, code: wonderAuthCodes.unknownApp, message: 'Unknown AppID.' };
    const now = this.now();
    if (Math.abs(now - credential.at.getTime()) > this.maxSkewMs) {
      return {
        ok: false,
        code: wonderAuthCodes.staleCredential,
        message: 'Credential request time is more than 30 minutes from the server time.',
      };
    }

    const check = verifyRequest({ ...request, publicKey });
    if (!check.ok) {
      return check.reason === 'nonce'
        ? {
            ok: false,
            code: wonderAuthCodes.invalidNonce,
            message: 'Nonce must be 16 characters of [0-9A-Za-z].',
          }
        : check.reason === 'credential'
          ? { ok: false, code: wonderAuthCodes.invalidCredential, message: 'Invalid Credential Format.' }
          : { ok: false, code: wonderAuthCodes.invalidSignature, message: 'Invalid Signature.' };
    }

    this.prune(now);
    const key = `${credential.appId} ${check.nonce}`;
    if (this.seen.has(key))
      return { ok: false, code: wonderAuthCodes.replayedNonce, message: 'Nonce already used.' };
    this.seen.set(key, now);
    return { ok: true, appId: credential.appId };
  }

  clear(): void {
    this.seen.clear();
  }

  private prune(now: number): void {
    for (const [key, at] of this.seen) {
      if (now - at <= this.retentionMs) break;
      this.seen.delete(key);
    }
  }
}
