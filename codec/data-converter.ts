/**
 * The one data converter of the project: the worker, the client library and the HTTP service all build
 * theirs here, so whatever one side encrypts the others can read.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from './aes-gcm-codec.js';
import type { KeyRing } from './keyring.js';

/**
 * Path of the module exporting `failureConverter`. A worker that builds its workflow bundle itself must
 * pass it to `bundleWorkflowCode({ failureConverterPath })`; one given `workflowsPath` does it alone.
 * The extension follows this file's, so the path works both under tsx (.ts) and once compiled (.js).
 */
export const failureConverterPath = fileURLToPath(
  new URL(`./failure-converter${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

export function createDataConverter(keyRing: KeyRing): DataConverter {
  return {
    payloadCodecs: [new AesGcmPayloadCodec(keyRing)],
    failureConverterPath,
  };
}
