/**
 * The wallet app's side of a PAYMENT_PASSWORD challenge, as a reference: encrypt the PIN the user typed
 * with the challenge's `encryptionInfo` (from `GET /verifications/:id` or the state query) and post the
 * result as `code`. The orchestrator passes it to DWS untouched and never sees the PIN.
 *
 * The scheme is the sandbox's (sandbox/README.md, "The PIN challenge"): RSA-OAEP with SHA-256 (MGF1
 * SHA-256, no label) over the UTF-8 bytes of salt + PIN, with the SPKI public key from encryptionInfo,
 * base64. Web Crypto only, so the same code runs in a browser, a React Native shim or Node 20.
 */

export interface PinEncryptionInfo {
  /** RSA-OAEP-256 */
  algorithm?: string;
  /** base64 of the SPKI (DER) public key */
  publicKey?: string;
  salt?: string;
}

export const PIN_ENCRYPTION_ALGORITHM = 'RSA-OAEP-256';

export async function encryptPin(pin: string, info: PinEncryptionInfo): Promise<string> {
  if (info.algorithm !== undefined && info.algorithm !== PIN_ENCRYPTION_ALGORITHM) {
    throw new Error(`encryptionInfo.algorithm ${info.algorithm} is not ${PIN_ENCRYPTION_ALGORITHM}`);
  }
  if (!info.publicKey || info.salt === undefined) {
    throw new Error('encryptionInfo must carry publicKey and salt');
  }
  const key = await crypto.subtle.importKey(
    'spki',
    fromBase64(info.publicKey),
    { name: 'RSA-OAEP', hash: 'SHA-256' },
    false,
    ['encrypt'],
  );
  const plain = new TextEncoder().encode(info.salt + pin);
  return toBase64(new Uint8Array(await crypto.subtle.encrypt({ name: 'RSA-OAEP' }, key, plain)));
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
