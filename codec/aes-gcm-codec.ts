/**
 * Encrypts every payload before it leaves the process (workflow inputs, signals, activity arguments and
 * results, failure messages once the failure converter encodes them), so Temporal's history holds only
 * ciphertext.
 *
 * Wire format of an encrypted payload: metadata `encoding: binary/encrypted` and
 * `encryption-key-id: <id>`; data = 12-byte random IV || AES-256-GCM ciphertext || 16-byte tag, where
 * the plaintext is the original Payload in its protobuf encoding (metadata included, so the original
 * `encoding` is hidden as well). The key id is authenticated as associated data.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { KeyRing } from './keyring.js';

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA_KEY = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export class PayloadDecryptionError extends Error {
  override readonly name: string = 'PayloadDecryptionError';
}

/** A payload that arrived unencrypted where only encrypted ones are taken (see AesGcmCodecOptions). */
export class PlaintextPayloadError extends PayloadDecryptionError {
  override readonly name = 'PlaintextPayloadError';
}

export interface AesGcmCodecOptions {
  /**
   * Refuse to decode a payload that is not encrypted, instead of passing it through: the worker's setting
   * with a real key (workerDataConverter), so a flow can be started or signalled only by a holder of the
   * key. A refused payload fails the workflow task: the flow does nothing until an operator ends it.
   */
  refusePlaintext?: boolean;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const encryptedEncoding = utf8.encode(ENCRYPTED_ENCODING);

function metadataText(payload: Payload, key: string): string | undefined {
  const value = payload.metadata?.[key];
  return value ? fromUtf8.decode(value) : undefined;
}

export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(
    private readonly keyRing: KeyRing,
    private readonly options: AesGcmCodecOptions = {},
  ) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keyRing.primary;
    const keyId = utf8.encode(id);
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(keyId);
      const plaintext = PayloadMessage.encode(payload).finish();
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return {
        metadata: { [METADATA_ENCODING_KEY]: encryptedEncoding, [KEY_ID_METADATA_KEY]: keyId },
        data: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decodeOne(payload));
  }

  private decodeOne(payload: Payload): Payload {
    const encoding = metadataText(payload, METADATA_ENCODING_KEY);
    if (encoding !== ENCRYPTED_ENCODING) {
      // The encoding name only: the payload itself may be personal data.
      if (this.options.refusePlaintext) {
        throw new PlaintextPayloadError(
          `A payload arrived unencrypted (encoding ${JSON.stringify(encoding ?? '(none)')}) and this worker takes encrypted payloads only: ` +
            'start and signal flows through the client library, the HTTP service or the codec endpoint (codec/README.md, "Plaintext payloads").',
        );
      }
      // History written before encryption was switched on stays readable where plaintext is allowed.
      return payload;
    }
    const keyId = metadataText(payload, KEY_ID_METADATA_KEY);
    if (!keyId) {
      throw new PayloadDecryptionError(`An encrypted payload has no ${KEY_ID_METADATA_KEY} metadata.`);
    }
    const codecKey = this.keyRing.get(keyId);
    if (!codecKey) {
      throw new PayloadDecryptionError(
        `A payload is encrypted with key id ${keyId}, which is not in the key ring (${this.keyRing.ids.join(', ')}); ` +
          'add that key behind the primary in TEMPORAL_CODEC_KEYS to read it.',
      );
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(
        `An encrypted payload under key id ${keyId} is too short to be valid.`,
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', codecKey.key, data.subarray(0, IV_BYTES));
    decipher.setAAD(utf8.encode(keyId));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new PayloadDecryptionError(
        `A payload under key id ${keyId} failed authentication: it was altered, or that id names a different key here.`,
      );
    }
    return PayloadMessage.decode(plaintext);
  }
}
