/**
 * The one data converter of the project: the worker, the client library and the HTTP service all build
 * theirs here, so whatever one side encrypts the others can read.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, type AesGcmCodecOptions } from './aes-gcm-codec.js';
import { holdsOnlyDevKeys, type KeyRing } from './keyring.js';

/**
 * Path of the module exporting `failureConverter`. A worker that builds its workflow bundle itself must
 * pass it to `bundleWorkflowCode({ failureConverterPath })`; one given `workflowsPath` does it alone.
 * The extension follows this file's, so the path works both under tsx (.ts) and once compiled (.js).
 */
export const failureConverterPath = fileURLToPath(
  new URL(`./failure-converter${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

export function createDataConverter(keyRing: KeyRing, options: AesGcmCodecOptions = {}): DataConverter {
  return {
    payloadCodecs: [new AesGcmPayloadCodec(keyRing, options)],
    failureConverterPath,
  };
}

/**
 * The worker's converter: with a real key it refuses unencrypted payloads, so only holders of the key can
 * start or signal a flow; with the local dev key only (the embedded default) it lets them through, as the
 * rest of local development does (codec/README.md, "Plaintext payloads").
 */
export function workerDataConverter(keyRing: KeyRing, devKeysPath?: string): DataConverter {
  return createDataConverter(keyRing, { refusePlaintext: !holdsOnlyDevKeys(keyRing, devKeysPath) });
}
