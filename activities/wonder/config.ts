/**
 * Wonder client settings, read once at worker start. The private key comes from configuration (a PEM
 * file or a variable), never from workflow input; errors name the variable and never print key material.
 */
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseRsaPrivateKey } from '../shared/keys.js';
import { defaultProviderTimeouts, type ProviderTimeouts } from '../shared/provider-http.js';

export type WonderTimeouts = ProviderTimeouts;

export interface WonderConfig {
  /** scheme and host (and a path prefix if a proxy adds one), no trailing slash */
  baseUrl: string;
  appId: string;
  privateKey: KeyObject;
  timeouts: WonderTimeouts;
}

export const defaultWonderTimeouts = defaultProviderTimeouts;

export const SANDBOX_WONDER_APP_ID = 'sandbox-app-id';

export class WonderConfigError extends Error {
  override readonly name = 'WonderConfigError';
}

type Env = Record<string, string | undefined>;

function parseBaseUrl(value: string, variable: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WonderConfigError(`${variable} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new WonderConfigError(`${variable} must be an http or https URL`);
  }
  if (url.search || url.hash) throw new WonderConfigError(`${variable} must not carry a query or fragment`);
  return url.toString().replace(/\/+$/, '');
}

function parsePrivateKey(text: string, source: string): KeyObject {
  const parsed = parseRsaPrivateKey(text);
  if ('problem' in parsed) throw new WonderConfigError(`${source} ${parsed.problem}`);
  return parsed.key;
}

function readPrivateKey(env: Env): KeyObject {
  const inline = env.WONDER_PRIVATE_KEY;
  const file = env.WONDER_PRIVATE_KEY_FILE;
  if (inline && file) {
    throw new WonderConfigError('set only one of WONDER_PRIVATE_KEY and WONDER_PRIVATE_KEY_FILE');
  }
  if (inline) {
    // .env files often carry the PEM on one line with literal \n escapes.
    return parsePrivateKey(inline.replace(/\\n/g, '\n'), 'WONDER_PRIVATE_KEY');
  }
  if (file) {
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch {
      throw new WonderConfigError(`WONDER_PRIVATE_KEY_FILE names ${file}, which cannot be read`);
    }
    return parsePrivateKey(pem, `WONDER_PRIVATE_KEY_FILE (${file})`);
  }
  throw new WonderConfigError('WONDER_PRIVATE_KEY or WONDER_PRIVATE_KEY_FILE must be set');
}

/** WONDER_BASE_URL, WONDER_APP_ID, and WONDER_PRIVATE_KEY or WONDER_PRIVATE_KEY_FILE. */
export function wonderConfigFromEnv(env: Env = process.env): WonderConfig {
  const baseUrl = env.WONDER_BASE_URL;
  if (!baseUrl) throw new WonderConfigError('WONDER_BASE_URL must be set');
  const appId = env.WONDER_APP_ID?.trim();
  if (!appId) throw new WonderConfigError('WONDER_APP_ID must be set');
  if (appId.includes('/')) throw new WonderConfigError('WONDER_APP_ID must not contain "/"');
  return {
    baseUrl: parseBaseUrl(baseUrl, 'WONDER_BASE_URL'),
    appId,
    privateKey: readPrivateKey(env),
    timeouts: { ...defaultWonderTimeouts },
  };
}

const sandboxKeyUrl = new URL('../../sandbox/keys/wonder-merchant.private.pem', import.meta.url);

/** For the local simulator only: its app id and the public sandbox key pair (sandbox/keys/README.md). */
export function sandboxWonderConfig(baseUrl: string): WonderConfig {
  return {
    baseUrl: parseBaseUrl(baseUrl, 'the sandbox base URL'),
    appId: SANDBOX_WONDER_APP_ID,
    privateKey: parsePrivateKey(readFileSync(fileURLToPath(sandboxKeyUrl), 'utf8'), 'the sandbox key'),
    timeouts: { ...defaultWonderTimeouts },
  };
}
