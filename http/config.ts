/**
 * The HTTP service's settings, read once at start. A wrong value stops the service with one sentence
 * naming the variable; token values are never echoed.
 */
import { ConfigError } from '../config/errors.js';
import { isLoopbackHost } from '../config/loopback.js';
import { readBool, readInt, readString, secretNotSet, type Env } from '../config/settings.js';
import { readTokens } from '../config/tokens.js';

/** `max` requests per `windowSeconds`, counted per key. */
export interface RateLimit {
  max: number;
  windowSeconds: number;
}

/**
 * The outer wall against hammering. The workflow itself caps wrong codes (5 by default) and resends
 * (3, with a cooldown); these limits stop a caller from flooding Temporal with updates regardless.
 * Guessing is stopped per verification. A caller (a bearer token) is usually a backend relaying many
 * users, so its own limit is sized for a service; the per-user limits apply to the end user it names
 * (`X-End-User-Id`), or to the client address a trusted proxy forwards.
 */
export interface HttpRateLimits {
  otpPerVerification: RateLimit;
  otpPerUser: RateLimit;
  otpPerCaller: RateLimit;
  resendPerVerification: RateLimit;
  resendPerUser: RateLimit;
  resendPerCaller: RateLimit;
}

export const defaultRateLimits: HttpRateLimits = {
  otpPerVerification: { max: 10, windowSeconds: 600 },
  otpPerUser: { max: 30, windowSeconds: 60 },
  otpPerCaller: { max: 6000, windowSeconds: 60 },
  resendPerVerification: { max: 5, windowSeconds: 600 },
  resendPerUser: { max: 10, windowSeconds: 60 },
  resendPerCaller: { max: 2000, windowSeconds: 60 },
};

/** How long any route may take to answer when Temporal is slow or away, unless HTTP_ANSWER_WITHIN_SECONDS says. */
export const defaultAnswerWithinSeconds = 10;

/** Every request body here is a few hundred bytes; anything near this size is not a real caller. */
export const defaultBodyLimitBytes = 16 * 1024;

export interface HttpConfig {
  port: number;
  host: string;
  /** bearer tokens accepted on the /verifications routes (any one of them) */
  authTokens: string[];
  rateLimits: HttpRateLimits;
  bodyLimitBytes: number;
  /** every route answers within this (503 with Retry-After when Temporal or every worker is away) */
  answerWithinSeconds: number;
  /** true behind a reverse proxy, so per-caller limits key on the client address it forwards */
  trustProxy: boolean;
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
};

export function loadHttpConfig(env: Env = process.env, options: LoadHttpConfigOptions = {}): HttpConfig {
  const host = readString(env, 'HTTP_HOST', '127.0.0.1');
  return {
    port: readInt(env, 'HTTP_PORT', 8080, { min: 0, max: 65535 }),
    host,
    authTokens: readAuthTokens(env, host, options.allowDevToken ?? false),
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
    trustProxy: readBool(env, 'HTTP_TRUST_PROXY', false),
  };
}

function readAuthTokens(env: Env, host: string, allowDevToken: boolean): string[] {
  const configured = readTokens(env, 'HTTP_AUTH_TOKENS');
  if (!configured && !allowDevToken) throw secretNotSet('HTTP_AUTH_TOKENS');
  const tokens = configured ?? [devHttpToken];
  if (!tokens.includes(devHttpToken)) return tokens;
  if (!allowDevToken) {
    throw new ConfigError(
      'HTTP_AUTH_TOKENS',
      `holds the published dev token ${devHttpToken}, accepted only against a local Temporal dev server; set tokens of your own`,
    );
  }
  if (!isLoopbackHost(host)) {
    throw new ConfigError(
      'HTTP_HOST',
      `is ${host}, not loopback, so the published dev token ${devHttpToken} may not be used; set HTTP_AUTH_TOKENS to tokens of your own, or listen on 127.0.0.1`,
    );
  }
  return tokens;
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
