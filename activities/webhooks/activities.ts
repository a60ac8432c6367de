/**
 * The webhook activities: `webhookEndpoints` (a local activity the verification runs as it starts, beside
 * the consult: whether its caller has any endpoint), `prepareWebhookEvents` (a local activity the
 * verification runs as it finishes, when the caller had one: which of the caller's endpoints exist, and
 * the events, masked) and `deliverWebhookEvent` (one POST,
 * signed per Standard Webhooks; the delivery workflow's retry policy makes the attempts). One POST per
 * attempt, got's own retry off: Temporal owns retries, one layer only.
 */
import http from 'node:http';
import https from 'node:https';
import { ApplicationFailure, Context } from '@temporalio/activity';
import got, { RequestError, TimeoutError } from 'got';
import { signWebhook } from '@dws-verify/client';
import { defaultFirstRetrySeconds, endpointsOf, type WebhookSettings } from './config.js';
import { webhookEvents } from './events.js';
import {
  webhookFailureTypes,
  type DeliverWebhookInput,
  type PreparedWebhookEvents,
  type WebhookActivities,
  type WebhookAttemptDetails,
  type WebhookDelivered,
  type WebhookEventsInput,
} from './types.js';

export function createWebhookActivities(settings: WebhookSettings): WebhookActivities {
  const agent = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  const client = got.extend({
    retry: { limit: 0 },
    timeout: { request: settings.timeoutSeconds * 1000 },
    agent,
    throwHttpErrors: false,
    // A redirect is not the receiver's answer: it counts as a failed attempt, like Standard Webhooks senders do.
    followRedirect: false,
    responseType: 'text',
  });

  return {
    async webhookEndpoints({ caller }: { caller: string }): Promise<string[]> {
      return endpointsOf(settings, caller).map((endpoint) => endpoint.id);
    },

    async prepareWebhookEvents(input: WebhookEventsInput): Promise<PreparedWebhookEvents> {
      const endpoints = endpointsOf(settings, input.caller).map((endpoint) => endpoint.id);
      return {
        endpoints,
        // No endpoint, no events: nothing of them needs to enter history.
        events: endpoints.length > 0 ? webhookEvents(input) : [],
        retryHours: settings.retryHours,
        timeoutSeconds: settings.timeoutSeconds,
        firstRetrySeconds: settings.firstRetrySeconds ?? defaultFirstRetrySeconds,
      };
    },

    async deliverWebhookEvent({
      caller,
      endpoint: id,
      event,
    }: DeliverWebhookInput): Promise<WebhookDelivered> {
      const { attempt } = Context.current().info;
      const endpoint = endpointsOf(settings, caller).find((candidate) => candidate.id === id);
      if (!endpoint) {
        throw ApplicationFailure.nonRetryable(
          `endpoint ${caller}/${id} is no longer configured (WEBHOOK_ENDPOINTS)`,
          webhookFailureTypes.removed,
        );
      }
      const body = JSON.stringify(event);
      // Signed at each attempt: a receiver refuses a timestamp older than its tolerance (5 minutes).
      const timestamp = Math.floor(Date.now() / 1000);
      const failed = (answer: WebhookAttemptDetails['answer'], message: string, cause?: Error) =>
        ApplicationFailure.create({
          type: answer === 410 ? webhookFailureTypes.gone : webhookFailureTypes.failed,
          message: `endpoint ${caller}/${id}, attempt ${attempt}: ${message}`,
          nonRetryable: answer === 410,
          details: [{ attempt, answer } satisfies WebhookAttemptDetails],
          ...(cause ? { cause } : {}),
        });
      let status: number;
      try {
        const response = await client.post(endpoint.url, {
          body,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'dws-verify-webhooks',
            'webhook-id': event.id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signWebhook(endpoint.secrets, event.id, timestamp, body),
          },
          signal: Context.current().cancellationSignal,
        });
        status = response.statusCode;
      } catch (err) {
        if (err instanceof TimeoutError) {
          throw failed('timeout', `no answer within ${settings.timeoutSeconds} s`);
        }
        if (err instanceof RequestError) throw failed('unreachable', `not reached (${err.code})`);
        throw err;
      }
      if (status >= 200 && status < 300) return { attempt, status };
      throw failed(
        status,
        status === 410 ? 'answered 410 Gone: no more attempts' : `answered HTTP ${status}`,
      );
    },
  };
}
