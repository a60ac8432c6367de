/**
 * The operator's webhook tool (docs/webhooks.md, "Operating deliveries"): `npm run webhooks -- status <delivery
 * id>`, `npm run webhooks -- redeliver <delivery id>`, `npm run webhooks -- gave-up`. It
 * reads the same TEMPORAL_* settings and codec keys (TEMPORAL_CODEC_KEYS) as the worker.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { createDataConverter } from '../codec/data-converter.js';
import { loadKeyRing } from '../codec/keyring.js';
import { exitForStartFailure } from '../config/errors.js';
import { isLocalDevelopment, temporalTargetFromEnv } from '../config/temporal.js';
import { nothingToRedeliver } from '../workflows/failures.js';
import { redeliverUpdate, webhookDeliveryQuery } from '../workflows/messages.js';
import { webhookDeliveryKey } from '../workflows/search-attributes.js';
import type { WebhookDeliveryInput, WebhookDeliveryState } from '../workflows/types.js';

/** An attempt in progress, as the server reports its pending activity (retries leave no history event). */
export interface PendingAttempt {
  activityId: string;
  attempt: number;
  lastFailure?: string;
  nextAttemptAt?: string;
}

export interface DeliveryReport {
  deliveryId: string;
  /** Temporal's status of the delivery workflow */
  status: string;
  state: WebhookDeliveryState;
  pending: PendingAttempt[];
}

/** The delivery's state (its query) and, while it runs, each attempt in progress. */
export async function deliveryReport(client: Client, deliveryId: string): Promise<DeliveryReport> {
  const handle = client.workflow.getHandle(deliveryId);
  const [description, state] = await Promise.all([handle.describe(), handle.query(webhookDeliveryQuery)]);
  const pending = (description.raw.pendingActivities ?? []).map((activity) => ({
    activityId: activity.activityId ?? '',
    attempt: activity.attempt ?? 0,
    ...(activity.lastFailure?.message ? { lastFailure: activity.lastFailure.message } : {}),
    ...(activity.scheduledTime?.seconds
      ? { nextAttemptAt: new Date(Number(activity.scheduledTime.seconds) * 1000).toISOString() }
      : {}),
  }));
  return { deliveryId, status: description.status.name, state, pending };
}

/**
 * Delivers again what gave up (or met 410). A delivery still open takes the `redeliver` update; one that
 * has closed (its wait for an operator ran out) runs again under its id with the same events, so the
 * receiver sees the same event ids either way.
 */
export async function redeliver(client: Client, deliveryId: string): Promise<{ queued: number }> {
  const handle = client.workflow.getHandle(deliveryId);
  const description = await handle.describe();
  if (description.status.name === 'RUNNING') {
    const queued = await handle.executeUpdate(redeliverUpdate).catch((err: unknown) => {
      // Read by type: a failure's message reaches a client without the codec only as "Encoded failure".
      if (
        err instanceof WorkflowUpdateFailedError &&
        (err.cause as ApplicationFailure)?.type === nothingToRedeliver
      ) {
        throw new Error(`${deliveryId} is delivering: there is nothing to redeliver`, { cause: err });
      }
      // The run closed between the describe and the update (it had just delivered, or its wait for an
      // operator ran out): answered below from how it ended, like a delivery found closed.
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    });
    if (queued) return queued;
  }
  const ended = (await handle.result().catch(() => undefined)) as WebhookDeliveryState | undefined;
  if (ended?.status !== 'GAVE_UP') {
    throw new Error(
      `${deliveryId} ended ${ended?.status ?? description.status.name}: there is nothing to redeliver`,
    );
  }
  const history = await handle.fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const [input] = (await decodeArrayFromPayloads(
    client.options.loadedDataConverter,
    started?.input?.payloads,
  )) as [WebhookDeliveryInput];
  await client.workflow.start('deliverWebhooks', {
    workflowId: deliveryId,
    taskQueue: description.taskQueue,
    args: [input],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: [{ key: webhookDeliveryKey, value: 'REDELIVERING' }],
    staticSummary: `Redelivery of the webhook events of ${input.verificationId}`,
  });
  return { queued: input.endpoints.length * input.events.length };
}

/** Deliveries that gave up and wait for an operator, from visibility (a few seconds behind). */
export async function gaveUpDeliveries(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for await (const run of client.workflow.list({ query: `${webhookDeliveryKey.name} = "GAVE_UP"` })) {
    ids.push(run.workflowId);
  }
  return ids;
}

const usage = `usage: npm run webhooks -- status <delivery id> | redeliver <delivery id> | gave-up`;

async function main(args: string[]): Promise<void> {
  const [command, deliveryId] = args;
  if (!['status', 'redeliver', 'gave-up'].includes(command ?? '') || (command !== 'gave-up' && !deliveryId)) {
    console.error(usage);
    process.exit(2);
  }
  let client: Client;
  try {
    const target = temporalTargetFromEnv(process.env);
    const keyRing = loadKeyRing(process.env, { allowDevKey: isLocalDevelopment(target) });
    const connection = await Connection.connect(
      target.connectConfig.connectionOptions as Parameters<typeof Connection.connect>[0],
    );
    client = new Client({
      connection,
      namespace: target.namespace,
      dataConverter: createDataConverter(keyRing),
    });
  } catch (err) {
    return exitForStartFailure(err);
  }
  try {
    if (command === 'gave-up') {
      for (const id of await gaveUpDeliveries(client)) console.log(id);
    } else if (command === 'redeliver') {
      const { queued } = await redeliver(client, deliveryId!);
      console.log(`${queued} deliveries queued again under ${deliveryId}`);
    } else {
      console.log(JSON.stringify(await deliveryReport(client, deliveryId!), null, 2));
    }
  } finally {
    await client.connection.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error((err as Error).message);
    process.exit(1);
  });
}
