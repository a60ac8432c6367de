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
import { secretNotSet, type Env } from '../config/settings.js';
import { checkTokens, parseTokens, readTokens } from '../config/tokens.js';
import { devSecretPath, readOrCreateSecretFile } from './dev-secret-file.js';

export const SESSION_COOKIE = 'temporal-codec-session';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export class TokenVerifier {
  readonly #tokenDigests: Buffer[];
  readonly #sessionDigests: Buffer[];

  constructor(tokens: readonly string[]) {
    // Tokens read from the environment are checked already; these may come straight from code.
    checkTokens(tokens, 'CODEC_AUTH_TOKEN');
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

/** Tokens from `CODEC_AUTH_TOKEN` or `CODEC_AUTH_TOKEN_FILE`, or undefined when neither is set. */
export function codecAuthTokensFromEnv(env: Env = process.env): string[] | undefined {
  return readTokens(env, 'CODEC_AUTH_TOKEN');
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
  if (!options.allowDevToken) throw secretNotSet('CODEC_AUTH_TOKEN');
  return [devCodecAuthToken(options.devTokenPath)];
}
