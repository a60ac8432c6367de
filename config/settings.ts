/**
 * Reading settings once, at start, from the environment (or an object standing in for it). Every
 * process reads through these, so a missing or malformed value always ends in the same one-sentence
 * `ConfigError` naming the variable.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';

/** `process.env`, or a plain object in tests and for a child process's environment. */
export type Env = Record<string, string | undefined>;

/** The trimmed value; a blank one counts as unset. */
export function readString(env: Env, name: string, fallback: string): string;
export function readString(env: Env, name: string): string | undefined;
export function readString(env: Env, name: string, fallback?: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : fallback;
}

export function requireString(env: Env, name: string): string {
  const value = readString(env, name);
  if (value === undefined) throw new ConfigError(name, 'must be set');
  return value;
}

export function readInt(
  env: Env,
  name: string,
  fallback: number,
  { min = 0, max = Number.MAX_SAFE_INTEGER } = {},
): number {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

export function readBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = readString(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

/** A listen address `host:port` (e.g. `0.0.0.0:9464`, `:9464`), or undefined when unset. */
export function readHostPort(env: Env, name: string): string | undefined {
  const value = readString(env, name);
  if (value && !/^[\w.-]*:\d{1,5}$/.test(value)) {
    throw new ConfigError(name, `must be host:port, got "${value}"`);
  }
  return value;
}

/**
 * An http(s) base URL (scheme, host, optional path prefix) without trailing slashes. A URL can carry
 * credentials, so the error does not quote it.
 */
export function parseUrl(value: string, variable: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value.trim());
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash) {
    throw new ConfigError(variable, 'must be an http(s) URL without a query or fragment');
  }
  return url.toString().replace(/\/+$/, '');
}

export function readUrl(env: Env, name: string): string | undefined {
  const raw = readString(env, name);
  return raw === undefined ? undefined : parseUrl(raw, name);
}

export function requireUrl(env: Env, name: string): string {
  return parseUrl(requireString(env, name), name);
}

/** A secret's text and where it came from (`NAME` or `NAME_FILE`), to name in errors about its content. */
export interface Secret {
  value: string;
  variable: string;
}

/**
 * A secret from `NAME` or from the file named by `NAME_FILE` (mounted secrets), trimmed, undefined when
 * neither is set. What it holds is for the caller to parse.
 */
export function readSecret(env: Env, name: string): Secret | undefined {
  const inline = readString(env, name);
  const file = readString(env, `${name}_FILE`);
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError(name, `and ${name}_FILE are both set; set only one of them`);
  }
  if (inline !== undefined) return { value: inline, variable: name };
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`${name}_FILE`, `names ${file}, which cannot be read`);
  }
  return { value: text.trim(), variable: `${name}_FILE` };
}

export function requireSecret(env: Env, name: string): Secret {
  const secret = readSecret(env, name);
  if (!secret) throw secretNotSet(name);
  return secret;
}

/** For a secret that is required unless a default applies (the embedded default's dev keys and tokens). */
export function secretNotSet(name: string): ConfigError {
  return new ConfigError(name, `or ${name}_FILE must be set`);
}

/**
 * Entries separated by commas or newlines, trimmed; blank lines and `#` comments dropped. Lists of keys
 * or tokens take this shape so a new one can be added before the old one is withdrawn.
 */
export function listEntries(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '' && !entry.startsWith('#'));
}
