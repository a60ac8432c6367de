/**
 * Settings for the DWS client, read once at start-up. Keys come from configuration (PEM text or a PEM
 * file), never from workflow input.
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readRsaPrivateKey, readRsaPublicKey } from '../../config/keys.js';
import { sandboxKeyPath } from '../../config/project-files.js';
import { readInt, requireString, requireUrl, type Env } from '../../config/settings.js';
import { defaultProviderTimeouts, type ProviderTimeouts } from '../shared/provider-http.js';

export interface DwsConfig {
  /** scheme, host and any path prefix in front of `/ams/...` */
  baseUrl: string;
  clientId: string;
  /** the merchant's request-signing key */
  privateKey: KeyObject;
  /** DWS's response-signing key */
  providerPublicKey: KeyObject;
  keyVersion: number;
  timeouts: ProviderTimeouts;
}

/** The embedded default's client id; it does not start with SANDBOX_, so its paths are the plain /ams/api/ ones. */
export const SANDBOX_CLIENT_ID = 'MERCHANT_SANDBOX_CLIENT';

export function dwsConfigFromEnv(env: Env = process.env): DwsConfig {
  return {
    baseUrl: requireUrl(env, 'DWS_BASE_URL'),
    clientId: requireString(env, 'DWS_CLIENT_ID'),
    privateKey: readRsaPrivateKey(env, 'DWS_PRIVATE_KEY'),
    providerPublicKey: readRsaPublicKey(env, 'DWS_PROVIDER_PUBLIC_KEY'),
    keyVersion: readInt(env, 'DWS_KEY_VERSION', 1, { min: 1, max: 999_999_999 }),
    timeouts: { ...defaultProviderTimeouts },
  };
}

/**
 * The DWS_* settings that point a worker process at the sandbox with its committed keys: what the
 * tests, the bench and the scripts give the workers they start.
 */
export function sandboxDwsEnv(baseUrl: string, clientId = SANDBOX_CLIENT_ID): Record<string, string> {
  return {
    DWS_BASE_URL: baseUrl,
    DWS_CLIENT_ID: clientId,
    DWS_PRIVATE_KEY_FILE: sandboxKeyPath('dws-merchant.private.pem'),
    DWS_PROVIDER_PUBLIC_KEY_FILE: sandboxKeyPath('dws-provider.public.pem'),
  };
}

/** The sandbox's keys (public on purpose, see sandbox/keys/README.md) and client id, for the embedded default. */
export type DwsConfigOverrides = Partial<Omit<DwsConfig, 'baseUrl' | 'timeouts'>> & {
  timeouts?: Partial<ProviderTimeouts>;
};

export function sandboxDwsConfig(baseUrl: string, overrides: DwsConfigOverrides = {}): DwsConfig {
  return {
    baseUrl,
    clientId: SANDBOX_CLIENT_ID,
    privateKey: createPrivateKey(readFileSync(sandboxKeyPath('dws-merchant.private.pem'), 'utf8')),
    providerPublicKey: createPublicKey(readFileSync(sandboxKeyPath('dws-provider.public.pem'), 'utf8')),
    keyVersion: 1,
    ...overrides,
    timeouts: { ...defaultProviderTimeouts, ...overrides.timeouts },
  };
}
