/**
 * `npm start`: the embedded default in the foreground until Ctrl-C. With TEMPORAL_ADDRESS, DWS_BASE_URL
 * or WONDER_BASE_URL set, those are used instead of the local ones.
 */
import { stopOnSignals } from '../config/shutdown.js';
import { startEmbedded } from './embedded.js';

async function main(): Promise<void> {
  let embedded;
  try {
    embedded = await startEmbedded({ httpLogs: false });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const token = embedded.httpToken || '<one of HTTP_AUTH_TOKENS>';
  console.log(`
Ready. Try it:
  npm run demo                        one full verification, step by step
  curl -s ${embedded.httpUrl}/healthz
  curl -s -H 'authorization: Bearer ${token}' -H 'content-type: application/json' \\
       -d '{"customerId":"2188000000000000001","change":{"email":"new@example.com"}}' ${embedded.httpUrl}/verifications
${embedded.uiUrl ? `Temporal UI: ${embedded.uiUrl}/namespaces/${embedded.namespace}/workflows` : ''}
Ctrl-C stops everything (Temporal state is kept in .temporal/data).`);

  stopOnSignals(async () => {
    console.log('Stopping ...');
    await embedded.stop();
  });
}

void main();
