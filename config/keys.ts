/**
 * The providers' RSA keys, from `NAME` or a file named by `NAME_FILE`, never from workflow input. Taken
 * as the providers' portals and official SDKs hand them out: PEM, or the bare base64 of the DER (PKCS#8
 * or PKCS#1 for a private key, SPKI or PKCS#1 for a public one). Errors say which variable holds the
 * wrong thing and never quote key material (the parser's own message can).
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { ConfigError } from './errors.js';
import { requireSecret, type Env } from './settings.js';

const BARE_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Variables and .env files often carry a PEM on one line, its newlines as the two characters \n. */
function pemText(value: string): string {
  return value.replace(/\\n/g, '\n');
}

export function parseRsaPrivateKey(text: string, variable: string): KeyObject {
  const key = privateKeyOf(pemText(text));
  if (!key) {
    throw new ConfigError(
      variable,
      'does not hold an RSA private key (PEM, or bare base64 PKCS#8 or PKCS#1)',
    );
  }
  return rsaOnly(key, variable);
}

export function parseRsaPublicKey(text: string, variable: string): KeyObject {
  const pem = pemText(text);
  // createPublicKey quietly derives a public key from a private one; here that means files mixed up.
  if (privateKeyOf(pem)) throw new ConfigError(variable, 'holds a private key where the public key belongs');
  const key = publicKeyOf(pem);
  if (!key) {
    throw new ConfigError(variable, 'does not hold an RSA public key (PEM, or bare base64 SPKI or PKCS#1)');
  }
  return rsaOnly(key, variable);
}

export function readRsaPrivateKey(env: Env, name: string): KeyObject {
  const { value, variable } = requireSecret(env, name);
  return parseRsaPrivateKey(value, variable);
}

export function readRsaPublicKey(env: Env, name: string): KeyObject {
  const { value, variable } = requireSecret(env, name);
  return parseRsaPublicKey(value, variable);
}

function rsaOnly(key: KeyObject, variable: string): KeyObject {
  if (key.asymmetricKeyType !== 'rsa') throw new ConfigError(variable, 'holds a key that is not RSA');
  return key;
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

/** The DER bytes of a bare base64 key (line breaks and spaces allowed); undefined for PEM and the rest. */
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
