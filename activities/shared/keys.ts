/**
 * RSA keys as the providers' portals and official SDKs hand them out: PEM, or the bare base64 of the DER
 * (PKCS#8 or PKCS#1 for a private key, SPKI or PKCS#1 for a public one). The answer is the key or what
 * is wrong with the text, in words that never quote it, so the caller can name its variable in one
 * sentence of its own error.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

export type ParsedKey = { key: KeyObject } | { problem: string };

const BARE_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function parseRsaPrivateKey(text: string): ParsedKey {
  const key = privateKeyOf(text);
  if (!key) return { problem: 'does not hold an RSA private key (PEM, or bare base64 PKCS#8 or PKCS#1)' };
  return rsaOnly(key);
}

/** `owner` names whose public key it must be, for the sentence about a private key given by mistake. */
export function parseRsaPublicKey(text: string, owner: string): ParsedKey {
  // createPublicKey would quietly derive the public half of a private key; here that means a mix-up of files.
  if (privateKeyOf(text)) return { problem: `holds a private key; it must be ${owner}'s public key` };
  const key = publicKeyOf(text);
  if (!key) return { problem: 'does not hold an RSA public key (PEM, or bare base64 SPKI or PKCS#1)' };
  return rsaOnly(key);
}

function rsaOnly(key: KeyObject): ParsedKey {
  return key.asymmetricKeyType === 'rsa' ? { key } : { problem: 'is not an RSA key' };
}

function privateKeyOf(text: string): KeyObject | undefined {
  const der = bareDer(text);
  if (!der) return attempt(() => createPrivateKey(text));
  return (
    attempt(() => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })) ??
    attempt(() => createPrivateKey({ key: der, format: 'der', type: 'pkcs1' }))
  );
}

function publicKeyOf(text: string): KeyObject | undefined {
  const der = bareDer(text);
  if (!der) return attempt(() => createPublicKey(text));
  return (
    attempt(() => createPublicKey({ key: der, format: 'der', type: 'spki' })) ??
    attempt(() => createPublicKey({ key: der, format: 'der', type: 'pkcs1' }))
  );
}

/** The DER bytes of a bare base64 key (line breaks and spaces allowed), or undefined for PEM and the rest. */
function bareDer(text: string): Buffer | undefined {
  if (text.includes('-----BEGIN')) return undefined;
  const compact = text.replace(/\s+/g, '');
  return BARE_BASE64.test(compact) ? Buffer.from(compact, 'base64') : undefined;
}

function attempt(parse: () => KeyObject): KeyObject | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}
