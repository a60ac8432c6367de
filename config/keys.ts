/**
 * The providers' RSA keys, from PEM text in `NAME` or a PEM file named by `NAME_FILE`, never from
 * workflow input. Errors say which variable holds the wrong thing and never quote key material (the
 * parser's own message can).
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { ConfigError } from './errors.js';
import { requireSecret, type Env } from './settings.js';

/** Variables and .env files often carry a PEM on one line, its newlines as the two characters \n. */
function pemText(value: string): string {
  return value.replace(/\\n/g, '\n');
}

export function parseRsaPrivateKey(pem: string, variable: string): KeyObject {
  let key: KeyObject | undefined;
  try {
    key = createPrivateKey(pemText(pem));
  } catch {
    key = undefined;
  }
  if (key?.asymmetricKeyType !== 'rsa')
    throw new ConfigError(variable, 'does not hold a PEM RSA private key');
  return key;
}

export function parseRsaPublicKey(pem: string, variable: string): KeyObject {
  const text = pemText(pem);
  // createPublicKey quietly derives a public key from a private one; here that means files mixed up.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new ConfigError(variable, 'holds a private key where the public key belongs');
  }
  let key: KeyObject | undefined;
  try {
    key = createPublicKey(text);
  } catch {
    key = undefined;
  }
  if (key?.asymmetricKeyType !== 'rsa') throw new ConfigError(variable, 'does not hold a PEM RSA public key');
  return key;
}

export function readRsaPrivateKey(env: Env, name: string): KeyObject {
  const { value, variable } = requireSecret(env, name);
  return parseRsaPrivateKey(value, variable);
}

export function readRsaPublicKey(env: Env, name: string): KeyObject {
  const { value, variable } = requireSecret(env, name);
  return parseRsaPublicKey(value, variable);
}
