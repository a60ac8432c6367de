/**
 * The webhook events in the OpenAPI document: each payload's JSON Schema under components.schemas and
 * the requests a receiver gets under `x-webhooks` (the OpenAPI 3.0 form of 3.1's `webhooks`, read by
 * Redoc and kept as-is by other tools). The schemas are wire-schemas.ts's, written once, with `const`
 * written as the one-value `enum` OpenAPI 3.0 knows (as @fastify/swagger does for the routes' schemas).
 */
import { contactChangedEventSchema, verificationCompletedEventSchema } from '../workflows/wire-schemas.js';

/** `const: x` → `enum: [x]`, everywhere in a schema. */
function openApi30(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(openApi30);
  if (typeof schema !== 'object' || schema === null) return schema;
  const converted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'const') converted.enum = [value];
    else converted[key] = openApi30(value);
  }
  return converted;
}

const events = {
  'verification.completed': {
    component: 'VerificationCompletedEvent',
    schema: verificationCompletedEventSchema,
    summary: 'A verification finished, whatever its outcome',
    description:
      'Sent once for every outcome (MODIFIED, REJECTED, EXPIRED, CANCELLED, ATTEMPTS_EXCEEDED) to each endpoint of the caller that started the verification.',
  },
  'contact.changed': {
    component: 'ContactChangedEvent',
    schema: contactChangedEventSchema,
    summary: 'A contact was changed at DWS: notify the old address',
    description:
      'Sent beside verification.completed when the outcome is MODIFIED. Read the old address from your own records before you update them, and tell its owner it was replaced.',
  },
} as const;

const signatureHeaders = [
  {
    name: 'webhook-id',
    in: 'header',
    required: true,
    description: "the event's id, the same on every attempt: deduplicate by it",
    schema: { type: 'string' },
  },
  {
    name: 'webhook-timestamp',
    in: 'header',
    required: true,
    description:
      'when this attempt was signed, in seconds since the epoch: refuse one more than 5 minutes off',
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
  {
    name: 'webhook-signature',
    in: 'header',
    required: true,
    description:
      'space-separated `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, one per secret the endpoint has (Standard Webhooks)',
    schema: { type: 'string' },
  },
];

export function withWebhookEvents<Document extends { components?: object }>(document: Document): Document {
  const components = (document.components ?? {}) as { schemas?: Record<string, unknown> };
  components.schemas = {
    ...components.schemas,
    ...Object.fromEntries(Object.values(events).map((e) => [e.component, openApi30(e.schema)])),
  };
  const webhooks = Object.fromEntries(
    Object.entries(events).map(([type, event]) => [
      type,
      {
        post: {
          summary: event.summary,
          description: `${event.description} Signed per Standard Webhooks; see docs/webhooks.md.`,
          parameters: signatureHeaders,
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${event.component}` } } },
          },
          responses: {
            '2XX': { description: 'received: no more attempts' },
            '410': { description: 'gone: no more attempts to this endpoint for this event' },
            default: { description: 'any other answer, or none within the timeout: tried again later' },
          },
        },
      },
    ]),
  );
  return { ...document, components, 'x-webhooks': webhooks };
}
