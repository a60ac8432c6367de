/**
 * Loaded by path, not imported: the SDK `require()`s it in the worker and client, and bundles it into the
 * workflow sandbox, where workflow failures are converted. Moving messages and stack traces into an
 * encoded attributes payload lets the payload codec encrypt them; history then shows "Encoded failure".
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
