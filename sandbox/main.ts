/**
 * Runs the provider sandbox on its own: `npx tsx sandbox/main.ts`.
 * SANDBOX_PORT (default 0, a free port), SANDBOX_HOST (default 127.0.0.1),
 * SANDBOX_CLIENT_ID (default MERCHANT_SANDBOX_CLIENT).
 */
import { loadOrExit } from '../config/errors.js';
import { readInt, readString } from '../config/settings.js';
import { stopOnSignals } from '../config/shutdown.js';
import { startSandbox } from './server.js';

const { port, host, clientId } = loadOrExit(() => ({
  port: readInt(process.env, 'SANDBOX_PORT', 0, { max: 65535 }),
  host: readString(process.env, 'SANDBOX_HOST'),
  clientId: readString(process.env, 'SANDBOX_CLIENT_ID'),
}));
const sandbox = await startSandbox({ port, ...(host ? { host } : {}), ...(clientId ? { clientId } : {}) });
console.log(`DWS sandbox listening on ${sandbox.url} (client id ${sandbox.clientId})`);
console.log(
  `control API: ${sandbox.url}/sandbox/outbox, /sandbox/ledger, /sandbox/faults, /sandbox/requests`,
);

stopOnSignals(async (signal) => {
  console.log(`${signal}: closing the sandbox`);
  await sandbox.close();
});
