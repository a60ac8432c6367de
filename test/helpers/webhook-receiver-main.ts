/**
 * A backend's webhook receiver as its own process on loopback, the way a receiver is written with an
 * existing library: every delivery is checked with the `standardwebhooks` package against each secret it
 * was given (WEBHOOK_RECEIVER_SECRETS, space-separated), recorded, and answered as the test scripted
 * (`POST /control/answers`: a list consumed one per delivery, then a default). Deduplicates by webhook-id
 * as a receiver must. Port: WEBHOOK_RECEIVER_PORT (0 for any); prints `listening on <port>`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';

type Answer = number | 'hang';

interface Delivery {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** per configured secret, in order: did the standardwebhooks package verify it with that secret */
  verified: boolean[];
  answered: Answer;
}

const secrets = (process.env.WEBHOOK_RECEIVER_SECRETS ?? '').split(' ').filter(Boolean);
const verifiers = secrets.map((secret) => new Webhook(secret));
const deliveries: Delivery[] = [];
/** ids answered 2xx: the receiver's dedup store */
const processed = new Set<string>();
let script: Answer[] = [];
let fallback: Answer = 204;

async function read(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const server = createServer((request, response) => {
  void (async () => {
    const body = await read(request);
    if (request.url === '/control/answers' && request.method === 'POST') {
      const asked = JSON.parse(body) as { answers?: Answer[]; then?: Answer };
      script = asked.answers ?? [];
      fallback = asked.then ?? fallback;
      return json(response, 200, { ok: true });
    }
    if (request.url === '/control/deliveries') {
      return json(response, 200, { deliveries, processed: [...processed] });
    }
    const headers = {
      'webhook-id': String(request.headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
    };
    const verified = verifiers.map((verifier) => {
      try {
        verifier.verify(body, headers);
        return true;
      } catch {
        return false;
      }
    });
    const answer = script.shift() ?? fallback;
    deliveries.push({
      id: headers['webhook-id'],
      timestamp: headers['webhook-timestamp'],
      signature: headers['webhook-signature'],
      body,
      verified,
      answered: answer,
    });
    // Never answered: the sender's timeout must cut it off (the socket stays open until it does).
    if (answer === 'hang') return;
    if (answer >= 200 && answer < 300) {
      if (!verified.some(Boolean)) return json(response, 400, { error: 'signature' });
      processed.add(headers['webhook-id']);
    }
    response.writeHead(answer).end();
  })();
});

server.listen(Number(process.env.WEBHOOK_RECEIVER_PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on ${typeof address === 'object' && address ? address.port : 0}`);
});
