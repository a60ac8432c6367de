/**
 * The operator's webhook endpoints, per named caller (the callers of HTTP_CALLERS), read by the worker,
 * which delivers. Never per request: a caller cannot choose where events go. Secrets stay in the worker's
 * configuration; workflow history names an endpoint by its id only.
 */
import { webhookSecretKey } from '@dws-verify/client';
import { ConfigError } from '../../config/errors.js';
import { listEntries, parseUrl, readInt, readSecret, type Env } from '../../config/settings.js';
import { callerNamePattern } from '../../workflows/ids.js';

export interface WebhookEndpoint {
  /** the caller whose verifications' events this endpoint receives */
  caller: string;
  /** 1 to 64 of [A-Za-z0-9._-]: the name history and the operator's tools use for it */
  id: string;
  url: string;
  /** `whsec_` secrets: each delivery carries one signature per secret, so rotation has no gap */
  secrets: string[];
}

export interface WebhookSettings {
  endpoints: WebhookEndpoint[];
  /** how long an event is retried before the delivery gives up (WEBHOOK_RETRY_HOURS, default 72) */
  retryHours: number;
  /** how long one attempt may wait for the receiver's answer (WEBHOOK_TIMEOUT_SECONDS, default 10) */
  timeoutSeconds: number;
  /** the wait before the second attempt, doubled for each next one up to an hour (default 10) */
  firstRetrySeconds?: number;
}

export const defaultFirstRetrySeconds = 10;

export const defaultWebhookSettings: WebhookSettings = { endpoints: [], retryHours: 72, timeoutSeconds: 10 };

/** Standard Webhooks asks for keys of 24 to 64 bytes. */
const minKeyBytes = 24;
const maxKeyBytes = 64;

/**
 * WEBHOOK_ENDPOINTS (or WEBHOOK_ENDPOINTS_FILE, a mounted secret): one endpoint per line (or per comma),
 * `<caller>/<endpoint id> <url> <whsec_…> [<whsec_…> …]`. A comma inside a URL is written %2C.
 */
export function readWebhookSettings(env: Env): WebhookSettings {
  const secret = readSecret(env, 'WEBHOOK_ENDPOINTS');
  return {
    endpoints: secret ? parseWebhookEndpoints(secret.value, secret.variable) : [],
    retryHours: readInt(env, 'WEBHOOK_RETRY_HOURS', defaultWebhookSettings.retryHours, { min: 1, max: 720 }),
    timeoutSeconds: readInt(env, 'WEBHOOK_TIMEOUT_SECONDS', defaultWebhookSettings.timeoutSeconds, {
      min: 1,
      max: 60,
    }),
    firstRetrySeconds: readInt(env, 'WEBHOOK_FIRST_RETRY_SECONDS', defaultFirstRetrySeconds, {
      min: 1,
      max: 3600,
    }),
  };
}

export function parseWebhookEndpoints(text: string, variable: string): WebhookEndpoint[] {
  const endpoints = listEntries(text).map((entry, index) =>
    parseEntry(entry, `${variable} entry ${index + 1}`),
  );
  const seen = new Set<string>();
  for (const { caller, id } of endpoints) {
    if (seen.has(`${caller}/${id}`))
      throw new ConfigError(variable, `names the endpoint ${caller}/${id} twice`);
    seen.add(`${caller}/${id}`);
  }
  return endpoints;
}

function parseEntry(entry: string, where: string): WebhookEndpoint {
  const [name = '', url = '', ...secrets] = entry.split(/\s+/);
  const [caller = '', id = '', extra] = name.split('/');
  if (!callerNamePattern.test(caller) || !callerNamePattern.test(id) || extra !== undefined) {
    throw new ConfigError(
      where,
      'must start with <caller>/<endpoint id>, each 1 to 64 of A-Z a-z 0-9 . _ -, then the URL and one or more whsec_ secrets',
    );
  }
  const checkedUrl = parseWebhookUrl(url, where);
  if (secrets.length === 0) throw new ConfigError(where, `(${caller}/${id}) has no whsec_ secret`);
  for (const [n, value] of secrets.entries()) {
    // The message says which secret and what is wrong with it, never the secret itself.
    const bytes = keyBytes(value);
    if (bytes < minKeyBytes || bytes > maxKeyBytes) {
      throw new ConfigError(
        where,
        `(${caller}/${id}): secret ${n + 1} must be whsec_ followed by base64 of ${minKeyBytes} to ${maxKeyBytes} random bytes`,
      );
    }
  }
  return { caller, id, url: checkedUrl, secrets };
}

/** An http(s) URL; its query is the receiver's to use (a URL can carry credentials, so it is never quoted). */
function parseWebhookUrl(value: string, where: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.hash) {
    throw new ConfigError(where, 'has no http(s) URL without a fragment after the endpoint name');
  }
  // parseUrl's checks bar a query; a webhook URL may carry one, so only the base is checked by it.
  parseUrl(`${url.protocol}//${url.host}`, where);
  return url.toString();
}

/** The endpoints of one caller. */
export function endpointsOf(settings: WebhookSettings, caller: string): WebhookEndpoint[] {
  return settings.endpoints.filter((endpoint) => endpoint.caller === caller);
}

/** The length of a whsec_ secret's key, 0 for anything else. */
function keyBytes(secret: string): number {
  if (!secret.startsWith('whsec_')) return 0;
  try {
    return webhookSecretKey(secret).length;
  } catch {
    return 0;
  }
}
