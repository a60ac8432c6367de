/**
 * The provider sandbox as the bench's child process: its own CPU, its own memory figure. Two additions
 * for the bench only, over IPC so they cost the providers' HTTP path nothing:
 * - every code the simulated SMS gateway sends is pushed to the bench the moment it enters the outbox,
 *   so the "user" answers without polling (no poll interval inflates a latency, no poll load skews one);
 * - the count of TCP connections that carried provider calls, which shows whether the clients reuse them.
 */
import { stopOnSignals } from '../config/shutdown.js';
import { buildSandboxApp } from '../sandbox/server.js';
import type { OutboxMessage } from '../sandbox/dws/outbox.js';
import type { SandboxMessage, SandboxRequest } from './sandbox-messages.js';

function send(message: SandboxMessage): void {
  process.send?.(message);
}

const { app, dws } = await buildSandboxApp({
  // The capacity case keeps thousands of codes waiting for minutes before it answers them.
  otpTtlMs: 3_600_000,
});

const outbox = dws.outbox;
const deliver = outbox.send.bind(outbox);
outbox.send = (message: OutboxMessage) => {
  deliver(message);
  send({ kind: 'otp', customerId: message.customerId, code: message.code });
};

// Only connections that carried a provider call: the bench's own control calls come on others.
let connections = 0;
const providerSockets = new WeakSet<object>();
app.addHook('onRequest', async (request) => {
  const socket = request.raw.socket;
  if (!request.url.startsWith('/ams/') || providerSockets.has(socket)) return;
  providerSockets.add(socket);
  connections += 1;
});

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
if (address === null || typeof address === 'string') throw new Error('the sandbox is not listening on TCP');

process.on('message', (request: SandboxRequest) => {
  if (request.kind === 'connections') send({ kind: 'connections', accepted: connections });
});
stopOnSignals(() => app.close());
// The bench going away (even killed) closes the IPC channel: do not outlive it.
process.on('disconnect', () => void app.close().then(() => process.exit(0)));

send({ kind: 'ready', url: `http://127.0.0.1:${address.port}` });
