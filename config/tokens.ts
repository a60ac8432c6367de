/**
 * Bearer tokens (the HTTP API's and the codec endpoint's): comma- or newline-separated, so a new token
 * can be added before the old one is withdrawn. Errors name where the tokens came from, never a token.
 */
import { ConfigError } from './errors.js';
import { listEntries, readSecret, type Env } from './settings.js';

/** Long enough that guessing is hopeless at any rate limit. */
export const MIN_TOKEN_LENGTH = 16;

export function checkTokens(tokens: readonly string[], variable: string): string[] {
  if (tokens.length === 0) throw new ConfigError(variable, 'holds no token');
  if (tokens.some((token) => token.length < MIN_TOKEN_LENGTH || /\s/.test(token))) {
    throw new ConfigError(
      variable,
      `holds a token shorter than ${MIN_TOKEN_LENGTH} characters or containing spaces`,
    );
  }
  return [...tokens];
}

export function parseTokens(text: string, variable: string): string[] {
  return checkTokens(listEntries(text), variable);
}

/** The tokens of `NAME` or `NAME_FILE`, undefined when neither is set. */
export function readTokens(env: Env, name: string): string[] | undefined {
  const secret = readSecret(env, name);
  return secret && parseTokens(secret.value, secret.variable);
}
