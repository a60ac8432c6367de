/**
 * Settings for the DWS client, read once at start-up. Keys come from configuration (PEM or bare base64,
 * inline or in a file), never from workflow input. Errors name the variable and never echo its value.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseRsaPrivateKey, parseRsaPublicKey } from '../shared/keys.js';
import { defaultProviderTimeouts, type ProviderTimeouts } from '../shared/provider-http.js';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

export type DwsTimeouts = ProviderTimeouts;

export interface DwsConfig {
  /** scheme, host and any path prefix in front of `/ams/...` */
  baseUrl: string;
  clientId: string;
  /** the merchant's request-signing key */
  privateKey: KeyObject;
  /** DWS's response-signing key */
  providerPublicKey: KeyObject;
  keyVersion: number;
  timeouts: DwsTimeouts;
}

export const defaultDwsTimeouts = defaultProviderTimeouts;

/** The embedded default's client id; it does not start with SANDBOX_, so its paths are the plain /ams/api/ ones. */
export const SANDBOX_CLIENT_ID = 'MERCHANT_SANDBOX_CLIENT';

export class DwsConfigError extends Error {
  override name = 'DwsConfigError';
}

type Env = Record<string, string | undefined>;

export function dwsConfigFromEnv(env: Env = process.env): DwsConfig {
  return {
    baseUrl: baseUrlFrom(env),
    clientId: required(env, 'DWS_CLIENT_ID'),
    privateKey: privateKeyFrom(readPem(env, 'DWS_PRIVATE_KEY'), pemSource(env, 'DWS_PRIVATE_KEY')),
    providerPublicKey: publicKeyFrom(
      readPem(env, 'DWS_PROVIDER_PUBLIC_KEY'),
      pemSource(env, 'DWS_PROVIDER_PUBLIC_KEY'),
    ),
    keyVersion: keyVersionFrom(env),
    timeouts: { ...defaultDwsTimeouts },
  };
}

/** The sandbox's keys (public on purpose, see sandbox/keys/README.md) and client id, for the embedded default. */
export type DwsConfigOverrides = Partial<Omit<DwsConfig, 'baseUrl' | 'timeouts'>> & {
  timeouts?: Partial<DwsTimeouts>;
};

export function sandboxDwsConfig(baseUrl: string, overrides: DwsConfigOverrides = {}): DwsConfig {
  return {
    baseUrl,
    clientId: SANDBOX_CLIENT_ID,
    privateKey: createPrivateKey(readFileSync(sandboxKeyPath('dws-merchant.private.pem'), 'utf8')),
    providerPublicKey: createPublicKey(readFileSync(sandboxKeyPath('dws-provider.public.pem'), 'utf8')),
    keyVersion: 1,
    ...overrides,
    timeouts: { ...defaultDwsTimeouts, ...overrides.timeouts },
  };
}

export function sandboxKeyPath(name: string): string {
  // Source layout (activities/dws/) first, then a compiled one (dist/activities/dws/).
  for (const up of ['../../sandbox/keys/', '../../../sandbox/keys/']) {
    const path = fileURLToPath(new URL(up + name, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new DwsConfigError(`The sandbox key ${name} is missing from sandbox/keys.`);
}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new DwsConfigError(`${name} is not set.`);
  return value;
}

function baseUrlFrom(env: Env): string {
  const value = required(env, 'DWS_BASE_URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DwsConfigError('DWS_BASE_URL is not a valid URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new DwsConfigError('DWS_BASE_URL must be an http or https URL.');
  }
  if (url.search || url.hash) throw new DwsConfigError('DWS_BASE_URL must not carry a query or a fragment.');
  return url.toString();
}

function pemSource(env: Env, name: string): string {
  return env[name]?.trim() ? name : `${name}_FILE`;
}

function readPem(env: Env, name: string): string {
  const inline = env[name]?.trim();
  const file = env[`${name}_FILE`]?.trim();
  if (inline && file) throw new DwsConfigError(`${name} and ${name}_FILE are both set; set only one.`);
  // Variables often carry PEM newlines as the two characters \n.
  if (inline) return inline.replace(/\\n/g, '\n');
  if (!file) throw new DwsConfigError(`Neither ${name} nor ${name}_FILE is set.`);
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new DwsConfigError(`${name}_FILE names a file that cannot be read.`);
  }
}

function privateKeyFrom(text: string, source: string): KeyObject {
  const parsed = parseRsaPrivateKey(text);
  if ('problem' in parsed) throw new DwsConfigError(`${source} ${parsed.problem}.`);
  return parsed.key;
}

function publicKeyFrom(text: string, source: string): KeyObject {
  const parsed = parseRsaPublicKey(text, 'DWS');
  if ('problem' in parsed) throw new DwsConfigError(`${source} ${parsed.problem}.`);
  return parsed.key;
}

function keyVersionFrom(env: Env): number {
  const value = env.DWS_KEY_VERSION?.trim();
  if (!value) return 1;
  if (!/^[1-9]\d{0,8}$/.test(value))
    throw new DwsConfigError('DWS_KEY_VERSION must be a positive whole number.');
  return Number(value);
}
