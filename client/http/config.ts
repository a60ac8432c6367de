/**
 * The HTTP service's settings, read once at start. A wrong value stops the service with one sentence
 * naming the variable; token values are never echoed.
 */
import { ConfigError, readBool, readInt, readSecret, readString, type Env } from '../settings.js';

/** `max` requests per `windowSeconds`, counted per key. */
export interface RateLimit {
  max: number;
  windowSeconds: number;
}

/**
 * The outer wall against hammering. The workflow itself caps wrong codes (5 by default) and resends
 * (3, with a cooldown); these limits stop a caller from flooding Temporal with updates regardless.
 */
export interface HttpRateLimits {
  otpPerVerification: RateLimit;
  otpPerCaller: RateLimit;
  resendPerVerification: RateLimit;
  resendPerCaller: RateLimit;
}

export const defaultRateLimits: HttpRateLimits = {
  otpPerVerification: { max: 10, windowSeconds: 600 },
  otpPerCaller: { max: 30, windowSeconds: 60 },
  resendPerVerification: { max: 5, windowSeconds: 600 },
  resendPerCaller: { max: 10, windowSeconds: 60 },
};

/** Every request body here is a few hundred bytes; anything near this size is not a real caller. */
export const defaultBodyLimitBytes = 16 * 1024;

export const MIN_AUTH_TOKEN_LENGTH = 16;

export interface HttpConfig {
  port: number;
  host: string;
  /** bearer tokens accepted on the /verifications routes (any one of them) */
  authTokens: string[];
  rateLimits: HttpRateLimits;
  bodyLimitBytes: number;
  /** true behind a reverse proxy, so per-caller limits key on the client address it forwards */
  trustProxy: boolean;
}

export interface LoadHttpConfigOptions {
  /** Used when neither HTTP_AUTH_TOKENS nor HTTP_AUTH_TOKENS_FILE is set (the embedded default only). */
  devAuthToken?: string;
}

const rateLimitVariables: Record<keyof HttpRateLimits, string> = {
  otpPerVerification: 'HTTP_LIMIT_OTP_PER_VERIFICATION',
  otpPerCaller: 'HTTP_LIMIT_OTP_PER_CALLER',
  resendPerVerification: 'HTTP_LIMIT_RESEND_PER_VERIFICATION',
  resendPerCaller: 'HTTP_LIMIT_RESEND_PER_CALLER',
};

export function loadHttpConfig(env: Env = process.env, options: LoadHttpConfigOptions = {}): HttpConfig {
  return {
    port: readInt(env, 'HTTP_PORT', 8080, { min: 0, max: 65535 }),
    host: readString(env, 'HTTP_HOST', '127.0.0.1'),
    authTokens: readAuthTokens(env, options.devAuthToken),
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
    trustProxy: readBool(env, 'HTTP_TRUST_PROXY', false),
  };
}

function readAuthTokens(env: Env, devAuthToken: string | undefined): string[] {
  const raw = readSecret(env, 'HTTP_AUTH_TOKENS');
  if (raw === undefined) {
    if (devAuthToken) return [devAuthToken];
    throw new ConfigError('No HTTP auth token is configured: set HTTP_AUTH_TOKENS or HTTP_AUTH_TOKENS_FILE.');
  }
  const source = env.HTTP_AUTH_TOKENS ? 'HTTP_AUTH_TOKENS' : 'HTTP_AUTH_TOKENS_FILE';
  return parseAuthTokens(raw, source);
}

/** Comma- or newline-separated, so a new token can be added before the old one is withdrawn. */
export function parseAuthTokens(text: string, source: string): string[] {
  const tokens = text
    .split(/[,\n]/)
    .map((token) => token.trim())
    .filter((token) => token !== '');
  if (tokens.length === 0) throw new ConfigError(`${source} holds no token.`);
  if (tokens.some((token) => token.length < MIN_AUTH_TOKEN_LENGTH || /\s/.test(token))) {
    throw new ConfigError(
      `${source} holds a token shorter than ${MIN_AUTH_TOKEN_LENGTH} characters or containing spaces.`,
    );
  }
  return tokens;
}

/** `<max>/<window seconds>`, e.g. `10/600`. */
function readRateLimit(env: Env, name: string, fallback: RateLimit): RateLimit {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const match = /^(\d{1,6})\/(\d{1,6})$/.exec(raw);
  const max = Number(match?.[1]);
  const windowSeconds = Number(match?.[2]);
  if (!match || max < 1 || windowSeconds < 1) {
    throw new ConfigError(`${name} must be <max>/<window seconds> such as 10/600, got "${raw}".`);
  }
  return { max, windowSeconds };
}
