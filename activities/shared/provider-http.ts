/**
 * What every provider client shares: one got instance with keep-alive agents, per-phase timeouts, no
 * redirects and no retries of its own (Temporal retries the activity, with the same idempotency key).
 * Each provider extends it with its own signing hooks.
 *
 * Each exchange is an OpenTelemetry client span (a no-op while tracing is off), a child of the activity's
 * span: method, path, host and status, never a header or a body (they hold codes, PINs, phone numbers and
 * signatures). No trace header is sent: the providers take none, and our trace ids are not theirs to keep.
 */
import http from 'node:http';
import https from 'node:https';
import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import got, { type Got, type Hooks } from 'got';
import { spanAttributes, tracer } from '../../observability/tracing.js';

/** got's per-phase limits in milliseconds; `request` caps the whole exchange below the activity's start-to-close. */
export interface ProviderTimeouts {
  lookup: number;
  connect: number;
  secureConnect: number;
  send: number;
  response: number;
  request: number;
}

// The whole exchange stays under 15 s so a 20 s activity start-to-close always sees our own timeout first.
export const defaultProviderTimeouts: ProviderTimeouts = {
  lookup: 2_000,
  connect: 3_000,
  secureConnect: 3_000,
  send: 5_000,
  response: 10_000,
  request: 15_000,
};

export interface ProviderHttp {
  got: Got;
  /** releases the keep-alive sockets */
  close(): void;
}

/** `provider`: 'DWS', 'Wonder', the name on each exchange's span. */
export function providerHttp(provider: string, baseUrl: string, timeouts: ProviderTimeouts): ProviderHttp {
  const agent = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  return {
    got: got.extend({
      prefixUrl: baseUrl,
      retry: { limit: 0 },
      timeout: { ...timeouts },
      agent,
      // Every status is read by the provider's own mapping, not thrown by got.
      throwHttpErrors: false,
      // A redirect is not an answer, and would change the path the signature covers.
      followRedirect: false,
      responseType: 'text',
      hooks: exchangeSpans(provider),
    }),
    close() {
      agent.http.destroy();
      agent.https.destroy();
    },
  };
}

// A path segment that is an id (a Wonder customer uuid): one span name per endpoint, not per customer.
const uuidSegment = /\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?=\/|$)/gi;

/**
 * The span of each exchange, kept by the request's own options object (one per request, so concurrent
 * calls on one instance never share a span). Signing hooks added by `extend` run after this one.
 */
function exchangeSpans(provider: string): Partial<Hooks> {
  const spans = new WeakMap<object, Span>();
  const end = (options: object | undefined, fn: (span: Span) => void) => {
    const span = options && spans.get(options);
    if (!span) return;
    spans.delete(options);
    fn(span);
    span.end();
  };
  return {
    beforeRequest: [
      (options) => {
        const url = options.url instanceof URL ? options.url : undefined;
        const path = url?.pathname ?? '';
        const method = options.method.toUpperCase();
        spans.set(
          options,
          tracer().startSpan(`${provider} ${method} ${path.replace(uuidSegment, '/{uuid}')}`, {
            kind: SpanKind.CLIENT,
            attributes: {
              [spanAttributes.provider]: provider,
              [ATTR_HTTP_REQUEST_METHOD]: method,
              [ATTR_URL_PATH]: path,
              ...(url
                ? {
                    [ATTR_SERVER_ADDRESS]: url.hostname,
                    [ATTR_SERVER_PORT]: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
                  }
                : {}),
            },
          }),
        );
      },
    ],
    afterResponse: [
      (response) => {
        end(response.request.options, (span) => {
          span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, response.statusCode);
          if (response.statusCode >= 400) {
            span.setAttribute(ATTR_ERROR_TYPE, String(response.statusCode));
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
        });
        return response;
      },
    ],
    beforeError: [
      (error) => {
        // The error's name and code only: got's messages quote the URL, and the cause may quote the body.
        end(error.options, (span) => {
          span.setAttribute(ATTR_ERROR_TYPE, error.code || error.name);
          span.setStatus({ code: SpanStatusCode.ERROR, message: error.name });
        });
        return error;
      },
    ],
  };
}
