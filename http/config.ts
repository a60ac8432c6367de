/**
 * The HTTP service's settings, read once at start. A wrong value stops the service with one sentence
 * naming the variable; token values are never echoed.
 */
import { isIP } from 'node:net';
import { callerNamePattern, defaultCallerName } from '@dws-verify/client';
import { ConfigError } from '../config/errors.js';
import { isLoopbackHost } from '../config/loopback.js';
import {
  listEntries,
  readBool,
  readHostPort,
  readInt,
  readSecret,
  readString,
  type Env,
} from '../config/settings.js';
import { checkTokens, readTokens } from '../config/tokens.js';
import { readLimitsSettings, type LimitsSettings } from '../limits/config.js';

/** `max` requests per `windowSeconds`, counted per key. */
export interface RateLimit {
  max: number;
  windowSeconds: number;
}

/**
 * The outer wall against hammering. The workflow itself caps wrong codes (5 by default) and resends
 * (3, with a cooldown), and the worker's send budget caps codes per customer; these limits stop a caller
 * from flooding Temporal regardless. Every count belongs to one named caller (all its tokens together),
 * so one caller can never spend another's. Guessing is stopped per verification, start/cancel loops per
 * customer. A caller is usually a backend relaying many users, so its own limit is sized for a service;
 * the per-user limits apply to the end user it names (`X-End-User-Id`), or to the client address a
 * trusted proxy forwards. docs/http-api.md has the table.
 */
export interface HttpRateLimits {
  otpPerVerification: RateLimit;
  otpPerUser: RateLimit;
  otpPerCaller: RateLimit;
  resendPerVerification: RateLimit;
  resendPerUser: RateLimit;
  resendPerCaller: RateLimit;
  startPerCustomer: RateLimit;
  startPerUser: RateLimit;
  startPerCaller: RateLimit;
  cancelPerCustomer: RateLimit;
  cancelPerUser: RateLimit;
  cancelPerCaller: RateLimit;
}

export const defaultRateLimits: HttpRateLimits = {
  otpPerVerification: { max: 10, windowSeconds: 600 },
  otpPerUser: { max: 30, windowSeconds: 60 },
  otpPerCaller: { max: 6000, windowSeconds: 60 },
  resendPerVerification: { max: 5, windowSeconds: 600 },
  resendPerUser: { max: 10, windowSeconds: 60 },
  resendPerCaller: { max: 2000, windowSeconds: 60 },
  // A user who abandons and retries a change a few times is normal; ten runs in ten minutes is a loop.
  startPerCustomer: { max: 10, windowSeconds: 600 },
  startPerUser: { max: 20, windowSeconds: 60 },
  startPerCaller: { max: 3000, windowSeconds: 60 },
  cancelPerCustomer: { max: 10, windowSeconds: 600 },
  cancelPerUser: { max: 20, windowSeconds: 60 },
  cancelPerCaller: { max: 3000, windowSeconds: 60 },
};

/**
 * A backend (or a tool) that calls the service, known by its name, with one or more tokens: two tokens
 * for one caller are a rotation, not two callers. What a caller starts belongs to it (docs/http-api.md).
 */
export interface CallerConfig {
  /** 1 to 64 of [A-Za-z0-9._-]: recorded on each verification it starts, and the key of its limits */
  name: string;
  tokens: string[];
  /** may read and cancel every caller's verifications (support tools); never answer codes for them */
  operator: boolean;
}

/** The caller HTTP_AUTH_TOKENS configures, and the owner of verifications started before callers had names. */
export { defaultCallerName };

/** How long any route may take to answer when Temporal is slow or away, unless HTTP_ANSWER_WITHIN_SECONDS says. */
export const defaultAnswerWithinSeconds = 10;

/** Every request body here is a few hundred bytes; anything near this size is not a real caller. */
export const defaultBodyLimitBytes = 16 * 1024;

export interface HttpConfig {
  port: number;
  host: string;
  /** who may call /verifications, by name (HTTP_CALLERS, HTTP_AUTH_TOKENS as the caller "default") */
  callers: CallerConfig[];
  /** every token of every caller: what the dev-token checks and the start-up banner look at */
  authTokens: string[];
  rateLimits: HttpRateLimits;
  bodyLimitBytes: number;
  /** every route answers within this (503 with Retry-After when Temporal or every worker is away) */
  answerWithinSeconds: number;
  /**
   * On SIGTERM, how long /readyz answers 503 (draining) while the service still serves everything, so the
   * load balancer takes the replica out before it stops listening; then in-flight requests finish and the
   * process exits. Set it above the balancer's check interval times its fall count (docs/deploying.md).
   */
  drainSeconds: number;
  /**
   * The reverse proxies whose X-Forwarded-For is believed (addresses, CIDRs, or proxy-addr's names
   * `loopback`, `linklocal`, `uniquelocal`): the client address is the right-most one not among them,
   * so a forged left-most entry changes nothing. Empty: X-Forwarded-For is ignored.
   */
  trustedProxies: string[];
  /** where the request limits count (LIMITS_REDIS_URL) */
  limits: LimitsSettings;
  /** HTTP_METRICS_ADDRESS, e.g. 0.0.0.0:9465: Prometheus metrics on a listener of their own; off when unset */
  metricsAddress?: string;
}

/**
 * The published token of local development (the README's examples use it). It is accepted only where local
 * development was decided (isLocalDevelopment) and only on a loopback listener, where nobody but this
 * machine's users can present it.
 */
export const devHttpToken = 'local-dev-http-token';

export interface LoadHttpConfigOptions {
  /** Temporal is a local dev server: the dev token is the default when no token is configured. */
  allowDevToken?: boolean;
}

const rateLimitVariables: Record<keyof HttpRateLimits, string> = {
  otpPerVerification: 'HTTP_LIMIT_OTP_PER_VERIFICATION',
  otpPerUser: 'HTTP_LIMIT_OTP_PER_USER',
  otpPerCaller: 'HTTP_LIMIT_OTP_PER_CALLER',
  resendPerVerification: 'HTTP_LIMIT_RESEND_PER_VERIFICATION',
  resendPerUser: 'HTTP_LIMIT_RESEND_PER_USER',
  resendPerCaller: 'HTTP_LIMIT_RESEND_PER_CALLER',
  startPerCustomer: 'HTTP_LIMIT_START_PER_CUSTOMER',
  startPerUser: 'HTTP_LIMIT_START_PER_USER',
  startPerCaller: 'HTTP_LIMIT_START_PER_CALLER',
  cancelPerCustomer: 'HTTP_LIMIT_CANCEL_PER_CUSTOMER',
  cancelPerUser: 'HTTP_LIMIT_CANCEL_PER_USER',
  cancelPerCaller: 'HTTP_LIMIT_CANCEL_PER_CALLER',
};

export function loadHttpConfig(env: Env = process.env, options: LoadHttpConfigOptions = {}): HttpConfig {
  const host = readString(env, 'HTTP_HOST', '127.0.0.1');
  const callers = readCallers(env, host, options.allowDevToken ?? false);
  return {
    port: readInt(env, 'HTTP_PORT', 8080, { min: 0, max: 65535 }),
    host,
    callers,
    authTokens: callers.flatMap((caller) => caller.tokens),
    rateLimits: Object.fromEntries(
      Object.entries(rateLimitVariables).map(([key, name]) => [
        key,
        readRateLimit(env, name, defaultRateLimits[key as keyof HttpRateLimits]),
      ]),
    ) as unknown as HttpRateLimits,
    bodyLimitBytes: readInt(env, 'HTTP_BODY_LIMIT_BYTES', defaultBodyLimitBytes, {
      min: 1024,
      max: 1024 * 1024,
    }),
    answerWithinSeconds: readInt(env, 'HTTP_ANSWER_WITHIN_SECONDS', defaultAnswerWithinSeconds, {
      min: 1,
      max: 120,
    }),
    drainSeconds: readInt(env, 'HTTP_DRAIN_SECONDS', 0, { min: 0, max: 300 }),
    trustedProxies: readTrustedProxies(env),
    limits: readLimitsSettings(env),
    ...metricsSection(env),
  };
}

function metricsSection(env: Env): { metricsAddress?: string } {
  const metricsAddress = readHostPort(env, 'HTTP_METRICS_ADDRESS');
  return metricsAddress ? { metricsAddress } : {};
}

/**
 * HTTP_CALLERS (or _FILE): `name:token|token` entries separated by commas or newlines; HTTP_AUTH_TOKENS
 * (or _FILE), kept for deployments from before named callers, is the caller "default". Both may be set
 * while moving from one to the other. HTTP_OPERATOR_CALLERS names the callers with the operator role.
 */
function readCallers(env: Env, host: string, allowDevToken: boolean): CallerConfig[] {
  const named = readSecret(env, 'HTTP_CALLERS');
  const unnamed = readTokens(env, 'HTTP_AUTH_TOKENS');
  const entries: Array<{ name: string; tokens: string[]; variable: string }> = [];
  if (named) {
    for (const entry of listEntries(named.value)) {
      const match = /^([^:\s]+):(.*)$/.exec(entry);
      const name = match?.[1] ?? '';
      if (!match || !callerNamePattern.test(name)) {
        throw new ConfigError(
          named.variable,
          'must hold <name>:<token>|<token> entries separated by commas or newlines, each name 1 to 64 of A-Z a-z 0-9 . _ -',
        );
      }
      entries.push({
        name,
        tokens: checkTokens(match[2]!.split('|'), named.variable),
        variable: named.variable,
      });
    }
    if (entries.length === 0) throw new ConfigError(named.variable, 'names no caller');
  }
  if (unnamed) entries.push({ name: defaultCallerName, tokens: unnamed, variable: 'HTTP_AUTH_TOKENS' });
  if (entries.length === 0) {
    if (!allowDevToken) {
      throw new ConfigError(
        'HTTP_AUTH_TOKENS',
        'or HTTP_AUTH_TOKENS_FILE (one unnamed caller), or HTTP_CALLERS or HTTP_CALLERS_FILE (named callers), must be set',
      );
    }
    entries.push({ name: defaultCallerName, tokens: [devHttpToken], variable: 'HTTP_AUTH_TOKENS' });
  }

  const owners = new Map<string, string>();
  for (const { name, tokens, variable } of entries) {
    if ([...owners.values()].includes(name)) {
      throw new ConfigError(
        variable,
        `names the caller "${name}" twice${name === defaultCallerName ? ' (HTTP_AUTH_TOKENS is the caller "default")' : ''}`,
      );
    }
    for (const token of tokens) {
      const owner = owners.get(token);
      // One token for two callers would make whose verification it is a matter of configuration order.
      if (owner !== undefined && owner !== name) {
        throw new ConfigError(variable, `gives one token to both "${owner}" and "${name}"`);
      }
      owners.set(token, name);
    }
    if (tokens.includes(devHttpToken)) checkDevToken(variable, host, allowDevToken);
  }

  const operators = listEntries(readString(env, 'HTTP_OPERATOR_CALLERS', ''));
  for (const name of operators) {
    if (!entries.some((entry) => entry.name === name)) {
      throw new ConfigError('HTTP_OPERATOR_CALLERS', `names "${name}", which is not a configured caller`);
    }
  }
  return entries.map(({ name, tokens }) => ({
    name,
    tokens: [...new Set(tokens)],
    operator: operators.includes(name),
  }));
}

function checkDevToken(variable: string, host: string, allowDevToken: boolean): void {
  if (!allowDevToken) {
    throw new ConfigError(
      variable,
      `holds the published dev token ${devHttpToken}, accepted only against a local Temporal dev server; set tokens of your own`,
    );
  }
  if (!isLoopbackHost(host)) {
    throw new ConfigError(
      'HTTP_HOST',
      `is ${host}, not loopback, so the published dev token ${devHttpToken} may not be used; set HTTP_AUTH_TOKENS to tokens of your own, or listen on 127.0.0.1`,
    );
  }
}

const proxyNames = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * HTTP_TRUSTED_PROXIES names the proxies; the boolean HTTP_TRUST_PROXY it replaces trusted every hop (a
 * forged X-Forwarded-For then chose the bucket), so `true` is refused rather than quietly reinterpreted.
 */
function readTrustedProxies(env: Env): string[] {
  if (readBool(env, 'HTTP_TRUST_PROXY', false)) {
    throw new ConfigError(
      'HTTP_TRUST_PROXY',
      "is replaced by HTTP_TRUSTED_PROXIES: name your proxies' addresses or CIDRs, such as HTTP_TRUSTED_PROXIES=10.0.0.0/8 (true trusted every hop, so anyone could choose their own client address)",
    );
  }
  const entries = listEntries(readString(env, 'HTTP_TRUSTED_PROXIES', ''));
  for (const entry of entries) {
    const [address = '', bits, extra] = entry.split('/');
    const family = isIP(address);
    const maxBits = family === 6 ? 128 : 32;
    const validBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits);
    if (!proxyNames.includes(entry) && (family === 0 || !validBits || extra !== undefined)) {
      throw new ConfigError(
        'HTTP_TRUSTED_PROXIES',
        `must list addresses or CIDRs (or loopback, linklocal, uniquelocal) separated by commas, got "${entry}"`,
      );
    }
  }
  return entries;
}

/** `<max>/<window seconds>`, e.g. `10/600`. */
function readRateLimit(env: Env, name: string, fallback: RateLimit): RateLimit {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  const match = /^(\d{1,7})\/(\d{1,6})$/.exec(raw);
  const max = Number(match?.[1]);
  const windowSeconds = Number(match?.[2]);
  if (!match || max < 1 || windowSeconds < 1) {
    throw new ConfigError(name, `must be <max>/<window seconds> such as 10/600, got "${raw}"`);
  }
  return { max, windowSeconds };
}
