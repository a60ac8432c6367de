/**
 * Runs the provider sandbox on its own: `npx tsx sandbox/main.ts`.
 * SANDBOX_PORT (default 0, a free port), SANDBOX_HOST (default 127.0.0.1),
 * SANDBOX_CLIENT_ID (default MERCHANT_SANDBOX_CLIENT).
 */
import { startSandbox } from './server.js';

function portFrom(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error('SANDBOX_PORT must be an integer from 0 to 65535');
  }
  return port;
}

const sandbox = await startSandbox({
  port: portFrom(process.env.SANDBOX_PORT),
  ...(process.env.SANDBOX_HOST ? { host: process.env.SANDBOX_HOST } : {}),
  ...(process.env.SANDBOX_CLIENT_ID ? { clientId: process.env.SANDBOX_CLIENT_ID } : {}),
});
console.log(`DWS sandbox listening on ${sandbox.url} (client id ${sandbox.clientId})`);
console.log(
  `control API: ${sandbox.url}/sandbox/outbox, /sandbox/ledger, /sandbox/faults, /sandbox/requests`,
);

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  console.log(`${signal}: closing the sandbox`);
  await sandbox.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
