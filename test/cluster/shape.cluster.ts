/**
 * The suite really runs on a production-shaped cluster, not on a dev server under another name: the
 * server reports PostgreSQL for persistence and visibility and more than one history shard, and the
 * search attributes reach a namespace the way they would on any team's cluster, through the worker's
 * own registration on the operator API.
 */
import assert from 'node:assert/strict';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { temporalTargetFromEnv } from '../../config/temporal.js';
import { ensureSearchAttributes } from '../../worker/search-attributes.js';
import { verificationSearchAttributes } from '../../workflows/search-attributes.js';
import { uniqueName } from '../helpers/temporal.js';
import { theCluster } from './fixtures.js';

describe('the cluster the suite runs on', function () {
  let connection: Connection;

  before(async () => {
    connection = await Connection.connect({ address: theCluster().address });
  });
  after(async () => connection?.close());

  it('is Temporal Server 1.31 on PostgreSQL (persistence and visibility) with 4 history shards', async function () {
    const info = await connection.workflowService.getClusterInfo({});
    assert.equal(info.serverVersion, '1.31.0');
    assert.equal(info.persistenceStore, 'postgres12');
    assert.equal(info.visibilityStore, 'postgres12');
    assert.equal(info.historyShardCount, 4);
    assert.ok(!/sqlite/i.test(JSON.stringify(info)), 'nothing of the dev server SQLite');
  });

  it('has the search attributes registered in the namespace the tests use', async function () {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({
      namespace: theCluster().namespace,
    });
    for (const key of verificationSearchAttributes) {
      assert.ok(customAttributes?.[key.name], `${key.name} is registered`);
    }
  });

  it('lets the worker register its search attributes itself in a namespace that has none', async function () {
    const namespace = uniqueName('ops');
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    // A new namespace is seen by every service once their namespace caches refresh.
    const deadline = Date.now() + 30_000;
    let before: Record<string, unknown> | undefined;
    for (;;) {
      try {
        before =
          (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    for (const key of verificationSearchAttributes) assert.equal(before[key.name], undefined);

    await ensureSearchAttributes(
      temporalTargetFromEnv({ TEMPORAL_ADDRESS: theCluster().address, TEMPORAL_NAMESPACE: namespace }),
    );

    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    for (const key of verificationSearchAttributes) {
      assert.ok(customAttributes?.[key.name], `${key.name} was registered by the worker's start-up call`);
    }
  });
});
