/**
 * The PIN challenge as a provider models it: each triggerChallenge of a PIN challenge mints a fresh RSA
 * key pair and salt, hands out the public half (`encryptionInfo`), and keeps the private half to decrypt
 * the app's `passwordValue`. The scheme is ours (the public pages do not give DWS's), documented in
 * sandbox/README.md and implemented for the app side by client/pin-encryption.ts:
 *
 *   passwordValue = base64(RSA-OAEP(SHA-256, MGF1-SHA-256, no label)(UTF-8(salt + PIN)))
 *
 * The salt inside the ciphertext binds it to this challenge; a clear PIN, or one encrypted with another
 * challenge's key, does not decrypt here and is a wrong answer.
 */
import { generateKeyPairSync, privateDecrypt, randomBytes, constants, type KeyObject } from 'node:crypto';
import type { EncryptionInfo } from '../../activities/dws/types.js';

export const PIN_ENCRYPTION_ALGORITHM = 'RSA-OAEP-256';

export interface PinKey {
  privateKey: KeyObject;
  salt: string;
}

export function issuePinKey(): { pinKey: PinKey; encryptionInfo: EncryptionInfo } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const salt = randomBytes(16).toString('hex');
  return {
    pinKey: { privateKey, salt },
    encryptionInfo: {
      algorithm: PIN_ENCRYPTION_ALGORITHM,
      publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
      salt,
    },
  };
}

/** The PIN inside a passwordValue made for this key, or undefined for anything else. */
export function decryptPin(pinKey: PinKey, passwordValue: string): string | undefined {
  let plain: string;
  try {
    plain = privateDecrypt(
      { key: pinKey.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from(passwordValue, 'base64'),
    ).toString('utf8');
  } catch {
    return undefined;
  }
  return plain.startsWith(pinKey.salt) ? plain.slice(pinKey.salt.length) : undefined;
}
