/**
 * Who may ask the codec server to decrypt: holders of a configured bearer token. Tokens are compared
 * through fixed-length digests with `timingSafeEqual`, against every configured token, so neither the
 * length nor the prefix of a guess changes how long the answer takes.
 *
 * A browser that cannot send the token as a header (the local dev server's UI has no login, so it has
 * no access token to forward) signs in once on the codec server's own /session page and then sends a
 * cookie; the cookie holds an HMAC derived from the token, not the token.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { devSecretPath, readOrCreateSecretFile } from './dev-secret-file.js';
import type { Env } from './keyring.js';

export const MIN_TOKEN_LENGTH = 16;
export const SESSION_COOKIE = 'temporal-codec-session';

export class CodecAuthConfigError extends Error {
  override readonly name = 'CodecAuthConfigError';
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export class TokenVerifier {
  readonly #tokenDigests: Buffer[];
  readonly #sessionDigests: Buffer[];

  constructor(tokens: readonly string[]) {
    if (tokens.length === 0)
      throw new CodecAuthConfigError('The codec server needs at least one auth token.');
    if (tokens.some((token) => token.length < MIN_TOKEN_LENGTH)) {
      throw new CodecAuthConfigError(
        `Every codec auth token must be at least ${MIN_TOKEN_LENGTH} characters long.`,
      );
    }
    this.#tokenDigests = tokens.map(digest);
    this.#sessionDigests = tokens.map((token) => digest(sessionValue(token)));
  }

  matchesToken(candidate: string): boolean {
    return matchesAny(this.#tokenDigests, digest(candidate));
  }

  matchesSession(candidate: string): boolean {
    return matchesAny(this.#sessionDigests, digest(candidate));
  }
}

function matchesAny(known: readonly Buffer[], candidate: Buffer): boolean {
  let matched = false;
  for (const value of known) matched = timingSafeEqual(value, candidate) || matched;
  return matched;
}

/** The cookie value that stands for a token: useless anywhere but this codec server. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('temporal-codec-ui-session').digest('base64url');
}

function parseTokens(text: string, source: string): string[] {
  const tokens = text
    .split(/[,\n]/)
    .map((token) => token.trim())
    .filter((token) => token !== '');
  if (tokens.length === 0) throw new CodecAuthConfigError(`${source} holds no token.`);
  if (tokens.some((token) => token.length < MIN_TOKEN_LENGTH)) {
    throw new CodecAuthConfigError(`${source} holds a token shorter than ${MIN_TOKEN_LENGTH} characters.`);
  }
  return tokens;
}

/**
 * Tokens from `CODEC_AUTH_TOKEN` or `CODEC_AUTH_TOKEN_FILE` (comma- or newline-separated, so a new token
 * can be added before the old one is withdrawn), or undefined when neither is set.
 */
export function codecAuthTokensFromEnv(env: Env = process.env): string[] | undefined {
  const inline = env.CODEC_AUTH_TOKEN?.trim();
  const file = env.CODEC_AUTH_TOKEN_FILE?.trim();
  if (inline && file) {
    throw new CodecAuthConfigError(
      'CODEC_AUTH_TOKEN and CODEC_AUTH_TOKEN_FILE are both set; set only one of them.',
    );
  }
  if (inline) return parseTokens(inline, 'CODEC_AUTH_TOKEN');
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new CodecAuthConfigError(`CODEC_AUTH_TOKEN_FILE is set to ${file}, which cannot be read.`);
    }
    return parseTokens(text, `CODEC_AUTH_TOKEN_FILE (${file})`);
  }
  return undefined;
}

export const DEV_TOKEN_PATH = devSecretPath('codec-token');

/** The embedded default's token: made on first use and kept in `.temporal/codec-token` (git-ignored). */
export function devCodecAuthToken(path: string = DEV_TOKEN_PATH): string {
  const text = readOrCreateSecretFile(path, () => `${randomBytes(24).toString('base64url')}\n`);
  return parseTokens(text, path)[0]!;
}

export interface LoadCodecAuthOptions {
  /** True only for the embedded default: then a missing configuration means the dev token. */
  allowDevToken: boolean;
  devTokenPath?: string;
}

export function loadCodecAuthTokens(env: Env, options: LoadCodecAuthOptions): string[] {
  const configured = codecAuthTokensFromEnv(env);
  if (configured) return configured;
  if (!options.allowDevToken) {
    throw new CodecAuthConfigError(
      'No codec auth token is configured: set CODEC_AUTH_TOKEN or CODEC_AUTH_TOKEN_FILE.',
    );
  }
  return [devCodecAuthToken(options.devTokenPath)];
}
