/**
 * The AES-256 keys that protect workflow history. The first key (the primary) encrypts; every key
 * decrypts, so a key can be rotated by putting a new one first and keeping the old ones behind it until
 * no history written under them is still needed.
 *
 * Key material is held as `KeyObject`s, which print as `SecretKeyObject { symmetricKeySize: 32 }`: a
 * stray log line or error cannot show the bytes. Key ids travel in clear in payload metadata, so they
 * must be labels chosen by the operator, never derived from the key.
 */
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from '../config/errors.js';
import { listEntries, readSecret, secretNotSet, type Env } from '../config/settings.js';
import { devSecretPath, readOrCreateSecretFile } from './dev-secret-file.js';

export const KEY_BYTES = 32;

export interface CodecKey {
  readonly id: string;
  readonly key: KeyObject;
}

export interface RawCodecKey {
  readonly id: string;
  readonly key: Uint8Array;
}

const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// Standard or URL-safe base64 of exactly 32 bytes (43 significant characters, optional padding).
const KEY_BASE64 = /^[A-Za-z0-9+/_-]{43}=?$/;

export class KeyRing {
  readonly primary: CodecKey;
  readonly #byId: ReadonlyMap<string, CodecKey>;

  constructor(keys: readonly RawCodecKey[], source = 'The key ring') {
    if (keys.length === 0) throw new ConfigError(source, 'holds no key');
    const byId = new Map<string, CodecKey>();
    keys.forEach(({ id, key }, index) => {
      const entry = `entry ${index + 1}`;
      if (!KEY_ID.test(id)) {
        throw new ConfigError(
          source,
          `has an invalid key id at ${entry}: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
        );
      }
      if (key.length !== KEY_BYTES) {
        throw new ConfigError(
          source,
          `has a key of ${key.length} bytes at ${entry} (key id ${id}); AES-256 needs ${KEY_BYTES}`,
        );
      }
      if (id.length >= 12 && Buffer.from(key).toString('base64').includes(id)) {
        throw new ConfigError(
          source,
          `uses part of its own key as its id at ${entry}; choose an id unrelated to the key`,
        );
      }
      if (byId.has(id)) {
        throw new ConfigError(source, `repeats key id ${id} at ${entry}; key ids must be unique`);
      }
      byId.set(id, { id, key: createSecretKey(Buffer.from(key)) });
    });
    this.#byId = byId;
    this.primary = byId.get(keys[0]!.id)!;
  }

  get(id: string): CodecKey | undefined {
    return this.#byId.get(id);
  }

  /** In ring order, primary first. */
  get ids(): string[] {
    return [...this.#byId.keys()];
  }
}

/**
 * Parses `<id>:<base64 of 32 bytes>` entries separated by commas or newlines (a file may also hold
 * blank lines and `#` comments). `source` names the variable or file in errors, which never quote the
 * entry itself since it may hold key bytes.
 */
export function parseKeyRing(text: string, source: string): KeyRing {
  const entries = listEntries(text);
  if (entries.length === 0) {
    throw new ConfigError(
      source,
      'holds no key; expected <key id>:<base64 of 32 bytes>[,<key id>:<base64>...]',
    );
  }
  const keys = entries.map((entry, index): RawCodecKey => {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon).trim() : '';
    const encoded = colon > 0 ? entry.slice(colon + 1).trim() : '';
    if (!id || !KEY_BASE64.test(encoded)) {
      throw new ConfigError(
        source,
        `is malformed at entry ${index + 1}: expected <key id>:<base64 of ${KEY_BYTES} bytes>`,
      );
    }
    // Node's base64 decoder reads the URL-safe alphabet too.
    return { id, key: Buffer.from(encoded, 'base64') };
  });
  return new KeyRing(keys, source);
}

/** One `<id>:<base64>` entry, for writing a key file. */
export function formatKeyEntry(id: string, key: Uint8Array): string {
  return `${id}:${Buffer.from(key).toString('base64')}`;
}

/**
 * The key ring configured by `TEMPORAL_CODEC_KEYS` or `TEMPORAL_CODEC_KEYS_FILE` (same format, in a
 * file), or undefined when neither is set.
 */
export function keyRingFromEnv(env: Env = process.env): KeyRing | undefined {
  const secret = readSecret(env, 'TEMPORAL_CODEC_KEYS');
  return secret && parseKeyRing(secret.value, secret.variable);
}

export const DEV_KEYS_PATH = devSecretPath('codec-keys');

/**
 * The embedded default's key ring: one key made on first use and kept in `.temporal/codec-keys`
 * (git-ignored), so the worker, the client and a restarted `npm start` all read the same history.
 * Processes starting together agree on one key.
 */
export function devKeyRing(path: string = DEV_KEYS_PATH): KeyRing {
  const text = readOrCreateSecretFile(path, () => {
    const id = `dev-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`;
    return `# Codec key for the local dev server only; never use it for real data.\n${formatKeyEntry(id, randomBytes(KEY_BYTES))}\n`;
  });
  return parseKeyRing(text, path);
}

export interface LoadKeyRingOptions {
  /** True only for the embedded default (local dev server): then a missing configuration means the dev key. */
  allowDevKey: boolean;
  devKeysPath?: string;
}

/** The configured key ring; without configuration, the dev key if allowed, else an error naming the variables. */
export function loadKeyRing(env: Env, options: LoadKeyRingOptions): KeyRing {
  const configured = keyRingFromEnv(env);
  if (configured) return configured;
  if (!options.allowDevKey) throw secretNotSet('TEMPORAL_CODEC_KEYS');
  return devKeyRing(options.devKeysPath);
}

/**
 * Whether the ring holds the local dev key only (`.temporal/codec-keys`). Compared by key material, not
 * by id: a real key labelled `dev-...`, or beside the dev key, makes it a real ring.
 */
export function holdsOnlyDevKeys(keyRing: KeyRing, devKeysPath: string = DEV_KEYS_PATH): boolean {
  if (!existsSync(devKeysPath)) return false;
  let devRing: KeyRing;
  try {
    devRing = parseKeyRing(readFileSync(devKeysPath, 'utf8'), devKeysPath);
  } catch {
    return false;
  }
  const devKeys = devRing.ids.map((id) => devRing.get(id)!.key);
  return keyRing.ids.every((id) => devKeys.some((dev) => dev.equals(keyRing.get(id)!.key)));
}
