/**
 * The HTTP service's Prometheus metrics (prom-client), in a registry of their own per service, served on
 * a listener of their own (HTTP_METRICS_ADDRESS, off when unset) so the public port never shows them and
 * a scraper needs no caller token. What each series means, and the rules that page on them:
 * docs/observability.md and observability/rules.yml.
 */
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export class HttpMetrics {
  readonly registry = new Registry();

  /** every answer, by route template (never the id in the path), method and status */
  readonly requests = new Counter({
    name: 'dws_http_requests_total',
    help: 'HTTP requests answered, by route template, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly duration = new Histogram({
    name: 'dws_http_request_duration_seconds',
    help: 'Time from the request until its answer was sent, by route template and method',
    labelNames: ['route', 'method'] as const,
    // A start waits for the code to be sent (hundreds of ms); the answer bound is 10 s by default.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly limitRefusals = new Counter({
    name: 'dws_http_limit_refusals_total',
    help: "Requests refused 429, by action and the scope that refused: verification, customer, user, caller, or send_budget (the customer's codes)",
    labelNames: ['action', 'scope'] as const,
    registers: [this.registry],
  });

  readonly unavailable = new Counter({
    name: 'dws_http_unavailable_total',
    help: 'Requests answered 503, by reason: LIMITS_UNAVAILABLE, or the outage the client library saw (NO_ANSWER_IN_TIME, TEMPORAL_UNREACHABLE, TEMPORAL_BUSY, NAMESPACE_UNKNOWN)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly codecCalls = new Counter({
    name: 'dws_http_codec_requests_total',
    help: 'Payload codec endpoint calls (the Temporal UI and CLI decoding history), by operation and status',
    labelNames: ['operation', 'status'] as const,
    registers: [this.registry],
  });

  constructor() {
    // Process CPU, memory, event-loop lag and handles, under the standard names, for this service alone.
    collectDefaultMetrics({ register: this.registry });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

export interface MetricsListener {
  /** e.g. http://127.0.0.1:9465/metrics */
  url: string;
  close(): Promise<void>;
}

/** `GET /metrics` on `host:port` (port 0: a free one); anything else is a 404. */
export async function startMetricsListener(metrics: HttpMetrics, address: string): Promise<MetricsListener> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator) || '0.0.0.0';
  const port = Number(address.slice(separator + 1));
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?', 1)[0] !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    metrics.text().then(
      (body) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const boundPort = typeof bound === 'object' && bound ? bound.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${boundPort}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
