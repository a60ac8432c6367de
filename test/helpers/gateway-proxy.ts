/**
 * A gateway in front of a provider, on loopback: it strips a path prefix before forwarding (what a
 * reverse proxy mounted under /gateway does), and can alter the provider's answers on the way back (what
 * a proxy that drops headers or serves its own error page does). Headers and body go through byte for
 * byte otherwise, so a signature over them still verifies.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedAnswer {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface GatewayProxyOptions {
  /** the provider's base URL, e.g. the sandbox's */
  target: string;
  /** removed from the front of every path before forwarding, e.g. '/gateway' */
  prefix: string;
  /** called with each answer and the 1-based number of the call; returns what the caller gets */
  alter?: (answer: ProxiedAnswer, call: number) => ProxiedAnswer;
}

export interface GatewayProxy {
  /** the proxy's URL including the prefix: the base URL a client is configured with */
  url: string;
  /** the paths the provider received, in order */
  forwarded: string[];
  close(): Promise<void>;
}

export async function startGatewayProxy(options: GatewayProxyOptions): Promise<GatewayProxy> {
  const target = new URL(options.target);
  const forwarded: string[] = [];
  let calls = 0;
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (!url.startsWith(`${options.prefix}/`)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not under the gateway prefix');
      return;
    }
    const path = url.slice(options.prefix.length);
    forwarded.push(path);
    const call = ++calls;
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const received: ProxiedAnswer = {
            statusCode: answer.statusCode ?? 502,
            headers: answer.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          };
          const sent = options.alter ? options.alter(received, call) : received;
          const headers = { ...sent.headers };
          // The body may have changed length; node sets it again.
          delete headers['content-length'];
          delete headers['transfer-encoding'];
          res.writeHead(sent.statusCode, headers).end(sent.body);
        });
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${options.prefix}`,
    forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An answer as a gateway that drops the provider's signature headers passes it on. */
export function withoutSignature(answer: ProxiedAnswer): ProxiedAnswer {
  const headers = { ...answer.headers };
  delete headers['signature'];
  delete headers['response-time'];
  return { ...answer, headers };
}

/** What a gateway serves in place of the provider's answer: its own page, unsigned, whatever happened behind it. */
export function gatewayErrorPage(statusCode: number): ProxiedAnswer {
  return {
    statusCode,
    headers: { 'content-type': 'text/html' },
    body: `<html><body><h1>${statusCode}</h1>Request blocked by the gateway</body></html>`,
  };
}
