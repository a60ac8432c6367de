/**
 * `npm run http`: the HTTP service as its own process. Settings are listed in ./server.ts; against a
 * local dev server (isLocalDevelopment) the dev key and dev tokens are allowed, and nowhere else.
 */
import { exitForStartFailure, loadOrExit } from '../config/errors.js';
import { readBool } from '../config/settings.js';
import { stopOnSignals } from '../config/shutdown.js';
import { isLocalDevelopment, temporalTargetFromEnv } from '../config/temporal.js';
import { createDataConverter } from '../codec/data-converter.js';
import { loadKeyRing } from '../codec/keyring.js';
import { describeTracing, startTracing } from '../observability/tracing.js';
import { loadHttpConfig } from './config.js';
import { startHttpService } from './server.js';

const env = process.env;
const local = loadOrExit(() => isLocalDevelopment(temporalTargetFromEnv(env)));
const { config, keyRing, withCodec } = loadOrExit(() => ({
  config: loadHttpConfig(env, { allowDevToken: local }),
  keyRing: loadKeyRing(env, { allowDevKey: local }),
  withCodec: readBool(env, 'HTTP_CODEC_ENDPOINT', local),
}));
const tracing = loadOrExit(() => startTracing(env, { serviceName: 'dws-verify-http' }));
const service = await startHttpService({
  env,
  config,
  dataConverter: createDataConverter(keyRing),
  tracing,
  ...(withCodec ? { codecKeyRing: keyRing, allowDevCodecToken: local, allowLocalUiAccess: local } : {}),
}).catch(exitForStartFailure);
service.app.log.info(
  {
    url: service.url,
    codecLocalUiAccess: service.codecLocalUiAccess,
    metrics: service.metricsUrl ?? 'off',
    tracing: describeTracing(tracing),
  },
  'HTTP service listening',
);

stopOnSignals(
  async (signal) => {
    service.app.log.info({ signal }, 'HTTP service stopping');
    await service.close();
    await tracing.shutdown();
  },
  (err) => service.app.log.error({ err }, 'HTTP service did not stop cleanly'),
);
