/**
 * The Alipay open-API signature used by DWS (docs.antom.com, "Sign a request and verify the signature").
 *
 * Content signed: `<METHOD> <path>\n<client-id>.<request-time>.<body>`, path without host, body as the
 * exact bytes sent. Value: RSA-SHA256 (PKCS#1 v1.5), base64, then URL-encoded, carried as
 * `signature: algorithm=RSA256,keyVersion=<n>,signature=<value>`. Responses are signed the same way
 * with `response-time` in place of `request-time`. The sandbox verifies with these same functions; the
 * test vectors in test/unit/dws-signing.test.ts pin them against a fixed key so the two cannot drift
 * together.
 */
import { createPrivateKey, createPublicKey, createSign, createVerify, type KeyObject } from 'node:crypto';

export type KeyLike = KeyObject | string;

export function contentToSign(
  method: string,
  path: string,
  clientId: string,
  time: string,
  body: string,
): string {
  return `${method.toUpperCase()} ${path}\n${clientId}.${time}.${body}`;
}

/** base64 RSA-SHA256 signature of the content (not yet URL-encoded). */
export function signContent(content: string, privateKey: KeyLike): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  return createSign('RSA-SHA256').update(content, 'utf8').sign(key, 'base64');
}

export function verifyContent(content: string, signatureBase64: string, publicKey: KeyLike): boolean {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  try {
    return createVerify('RSA-SHA256').update(content, 'utf8').verify(key, signatureBase64, 'base64');
  } catch {
    return false;
  }
}

export function formatSignatureHeader(signatureBase64: string, keyVersion = 1): string {
  return `algorithm=RSA256,keyVersion=${keyVersion},signature=${encodeURIComponent(signatureBase64)}`;
}

export interface ParsedSignatureHeader {
  algorithm: string;
  keyVersion: string | undefined;
  /** plain base64 */
  signature: string;
}

/**
 * Tolerant of spaces after commas and of a raw (not URL-encoded) base64 value, whose own `=` padding
 * must not be taken for a key/value separator.
 */
export function parseSignatureHeader(header: string | undefined): ParsedSignatureHeader | undefined {
  if (!header) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    fields.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  const raw = fields.get('signature');
  if (!raw) return undefined;
  let signature: string;
  try {
    signature = raw.includes('%') ? decodeURIComponent(raw) : raw;
  } catch {
    return undefined;
  }
  return { algorithm: fields.get('algorithm') ?? 'RSA256', keyVersion: fields.get('keyversion'), signature };
}

/** Everything a caller needs to sign one request or response. */
export function signMessage(args: {
  method: string;
  path: string;
  clientId: string;
  time: string;
  body: string;
  privateKey: KeyLike;
  keyVersion?: number;
}): string {
  const content = contentToSign(args.method, args.path, args.clientId, args.time, args.body);
  return formatSignatureHeader(signContent(content, args.privateKey), args.keyVersion ?? 1);
}

/** True only for a well-formed RSA256 signature header that verifies against the public key. */
export function verifyMessage(args: {
  method: string;
  path: string;
  clientId: string;
  time: string;
  body: string;
  signatureHeader: string | undefined;
  publicKey: KeyLike;
}): boolean {
  const parsed = parseSignatureHeader(args.signatureHeader);
  if (!parsed || parsed.algorithm.toUpperCase() !== 'RSA256') return false;
  const content = contentToSign(args.method, args.path, args.clientId, args.time, args.body);
  return verifyContent(content, parsed.signature, args.publicKey);
}
