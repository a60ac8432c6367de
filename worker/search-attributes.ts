import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { TemporalTarget } from '../config/temporal.js';
import { verificationSearchAttributes } from '../workflows/search-attributes.js';

/**
 * The workflow upserts these on every step; an unregistered one would fail its workflow tasks. The
 * worker registers them if it may, and otherwise stops with the one command that fixes it.
 */
export async function ensureSearchAttributes(target: TemporalTarget): Promise<void> {
  const connection = await Connection.connect(
    target.connectConfig.connectionOptions as Parameters<typeof Connection.connect>[0],
  );
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({
      namespace: target.namespace,
    });
    const missing = verificationSearchAttributes.filter((key) => !customAttributes?.[key.name]);
    if (missing.length === 0) return;
    try {
      await connection.operatorService.addSearchAttributes({
        namespace: target.namespace,
        searchAttributes: Object.fromEntries(
          missing.map((key) => [
            key.name,
            proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
          ]),
        ),
      });
    } catch (err) {
      const names = missing.map((key) => `--name ${key.name} --type Keyword`).join(' ');
      throw new Error(
        `Search attributes ${missing.map((k) => k.name).join(', ')} are not registered in namespace ${target.namespace} and could not be added (${(err as Error).message}); run: temporal operator search-attribute create --namespace ${target.namespace} ${names}`,
        { cause: err },
      );
    }
  } finally {
    await connection.close();
  }
}
