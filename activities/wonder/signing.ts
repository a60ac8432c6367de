/**
 * Wonder open-API request authentication (developer.wonder.today, "Authentication"), as the provider's own
 * SDK computes it:
 *
 *   Credential: <app id>/<yyyyMMddHHmmss, UTC>/Wonder-RSA-SHA256
 *   Nonce:      16 characters of [0-9A-Za-z]
 *   k1  = HMAC-SHA256(key = nonce, msg = request time)
 *   k2  = HMAC-SHA256(key = k1, msg = "Wonder-RSA-SHA256")
 *   pre = METHOD + "\n" + uri (path and query as sent) [+ "\n" + body, only when the body is not empty]
 *   msg = lowercase hex of HMAC-SHA256(key = k2, msg = pre)
 *   Signature = base64(RSA-SHA256 PKCS#1 v1.5 signature of msg)
 *
 * The sandbox verifies with these same functions; test/unit/wonder-signing.test.ts pins them against
 * vectors computed independently with openssl, so the signer and the verifier cannot drift together.
 */
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSign,
  createVerify,
  randomInt,
  type KeyObject,
} from 'node:crypto';

export const WONDER_SIGNATURE_ALGORITHM = 'Wonder-RSA-SHA256';

export type KeyLike = KeyObject | string;

const NONCE_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const NONCE_LENGTH = 16;
export const NONCE_PATTERN = /^[0-9A-Za-z]{16}$/;
const REQUEST_TIME_PATTERN = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;

/** 16 characters of [0-9A-Za-z] from the CSPRNG (randomInt is unbiased, unlike a modulo over bytes). */
export function generateNonce(): string {
  let nonce = '';
  for (let i = 0; i < NONCE_LENGTH; i++) nonce += NONCE_ALPHABET[randomInt(NONCE_ALPHABET.length)];
  return nonce;
}

/** yyyyMMddHHmmss in UTC: the provider refuses local time. */
export function formatRequestTime(at: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return (
    pad(at.getUTCFullYear(), 4) +
    pad(at.getUTCMonth() + 1) +
    pad(at.getUTCDate()) +
    pad(at.getUTCHours()) +
    pad(at.getUTCMinutes()) +
    pad(at.getUTCSeconds())
  );
}

/** The instant a yyyyMMddHHmmss UTC string names, or undefined when it is not a real date and time. */
export function parseRequestTime(requestTime: string): Date | undefined {
  const m = REQUEST_TIME_PATTERN.exec(requestTime);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const at = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Date.UTC rolls 20240231 over into March; a round trip catches it.
  return formatRequestTime(at) === requestTime ? at : undefined;
}

export function formatCredential(appId: string, requestTime: string): string {
  return `${appId}/${requestTime}/${WONDER_SIGNATURE_ALGORITHM}`;
}

export interface ParsedCredential {
  appId: string;
  requestTime: string;
  at: Date;
}

/** Undefined for anything but `<app id>/<valid yyyyMMddHHmmss>/Wonder-RSA-SHA256`. */
export function parseCredential(header: string | undefined): ParsedCredential | undefined {
  if (!header) return undefined;
  const parts = header.split('/');
  if (parts.length !== 3) return undefined;
  const [appId, requestTime, algorithm] = parts as [string, string, string];
  if (!appId || algorithm !== WONDER_SIGNATURE_ALGORITHM) return undefined;
  const at = parseRequestTime(requestTime);
  return at ? { appId, requestTime, at } : undefined;
}

export interface SignedContent {
  method: string;
  /** path and query exactly as sent, without scheme and host */
  uri: string;
  /** the exact body string sent; '' (or undefined) for none */
  body?: string | undefined;
  nonce: string;
  requestTime: string;
}

/** The text the HMAC chain runs over: the body line only when there is a body. */
export function preSignString(method: string, uri: string, body: string | undefined): string {
  const head = `${method.toUpperCase()}\n${uri}`;
  return body ? `${head}\n${body}` : head;
}

/** msg: lowercase hex HMAC over the pre-sign string, keyed by the nonce/time-derived k2. */
export function signatureMessage(content: SignedContent): string {
  const k1 = createHmac('sha256', content.nonce).update(content.requestTime, 'utf8').digest();
  const k2 = createHmac('sha256', k1).update(WONDER_SIGNATURE_ALGORITHM, 'utf8').digest();
  return createHmac('sha256', k2)
    .update(preSignString(content.method, content.uri, content.body), 'utf8')
    .digest('hex');
}

export function signContent(content: SignedContent, privateKey: KeyLike): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  return createSign('RSA-SHA256').update(signatureMessage(content), 'utf8').sign(key, 'base64');
}

export function verifyContent(content: SignedContent, signatureBase64: string, publicKey: KeyLike): boolean {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  try {
    return createVerify('RSA-SHA256')
      .update(signatureMessage(content), 'utf8')
      .verify(key, signatureBase64, 'base64');
  } catch {
    return false;
  }
}

export interface WonderAuthHeaders {
  Credential: string;
  Nonce: string;
  Signature: string;
}

/** The three authentication headers for one request. `now` and `nonce` are injectable for test vectors. */
export function signRequest(args: {
  method: string;
  uri: string;
  body?: string | undefined;
  appId: string;
  privateKey: KeyLike;
  now?: Date;
  nonce?: string;
}): WonderAuthHeaders {
  const requestTime = formatRequestTime(args.now ?? new Date());
  const nonce = args.nonce ?? generateNonce();
  const signature = signContent(
    { method: args.method, uri: args.uri, body: args.body, nonce, requestTime },
    args.privateKey,
  );
  return { Credential: formatCredential(args.appId, requestTime), Nonce: nonce, Signature: signature };
}

export type SignatureCheck =
  | { ok: true; appId: string; at: Date; nonce: string }
  | { ok: false; reason: 'credential' | 'nonce' | 'signature' };

/**
 * Checks the shape of Credential and Nonce and the signature against the given public key. Clock skew,
 * unknown app ids and nonce replay are the verifier's policy (the sandbox's), not the algorithm's.
 */
export function verifyRequest(args: {
  method: string;
  uri: string;
  body?: string | undefined;
  credential: string | undefined;
  nonce: string | undefined;
  signature: string | undefined;
  publicKey: KeyLike;
}): SignatureCheck {
  const credential = parseCredential(args.credential);
  if (!credential) return { ok: false, reason: 'credential' };
  if (!args.nonce || !NONCE_PATTERN.test(args.nonce)) return { ok: false, reason: 'nonce' };
  if (!args.signature) return { ok: false, reason: 'signature' };
  const content = {
    method: args.method,
    uri: args.uri,
    body: args.body,
    nonce: args.nonce,
    requestTime: credential.requestTime,
  };
  if (!verifyContent(content, args.signature, args.publicKey)) return { ok: false, reason: 'signature' };
  return { ok: true, appId: credential.appId, at: credential.at, nonce: args.nonce };
}
