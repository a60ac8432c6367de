/**
 * Wonder client settings, read once at worker start. The private key comes from configuration (a PEM
 * file or a variable), never from workflow input.
 */
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { ConfigError } from '../../config/errors.js';
import { parseRsaPrivateKey, readRsaPrivateKey } from '../../config/keys.js';
import { sandboxKeyPath } from '../../config/project-files.js';
import { parseUrl, requireString, requireUrl, type Env } from '../../config/settings.js';
import { defaultProviderTimeouts, type ProviderTimeouts } from '../shared/provider-http.js';

export interface WonderConfig {
  /** scheme and host (and a path prefix if a proxy adds one), no trailing slash */
  baseUrl: string;
  appId: string;
  privateKey: KeyObject;
  timeouts: ProviderTimeouts;
}

export const SANDBOX_WONDER_APP_ID = 'sandbox-app-id';

/** WONDER_BASE_URL, WONDER_APP_ID, and WONDER_PRIVATE_KEY or WONDER_PRIVATE_KEY_FILE. */
export function wonderConfigFromEnv(env: Env = process.env): WonderConfig {
  const baseUrl = requireUrl(env, 'WONDER_BASE_URL');
  const appId = requireString(env, 'WONDER_APP_ID');
  // The app id is the first field of the slash-separated Credential header.
  if (appId.includes('/')) throw new ConfigError('WONDER_APP_ID', 'must not contain "/"');
  return {
    baseUrl,
    appId,
    privateKey: readRsaPrivateKey(env, 'WONDER_PRIVATE_KEY'),
    timeouts: { ...defaultProviderTimeouts },
  };
}

/** For the local simulator only: its app id and the public sandbox key pair (sandbox/keys/README.md). */
export function sandboxWonderConfig(baseUrl: string): WonderConfig {
  const keyFile = sandboxKeyPath('wonder-merchant.private.pem');
  return {
    baseUrl: parseUrl(baseUrl, 'The sandbox base URL'),
    appId: SANDBOX_WONDER_APP_ID,
    privateKey: parseRsaPrivateKey(readFileSync(keyFile, 'utf8'), keyFile),
    timeouts: { ...defaultProviderTimeouts },
  };
}
