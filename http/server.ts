/**
 * The HTTP service started and stopped as one unit: the app, its port and (unless one is handed in)
 * its own Temporal connection. `npm run http` (./main.ts) and `npm start` run it.
 * Configuration: ./config.ts (HTTP_*), the standard TEMPORAL_* connection settings, the limits' store
 * (LIMITS_REDIS_*, ../limits/config.ts), the operator's policy (VERIFICATION_POLICY_*,
 * ../config/verification-policy.ts) and, for the /codec endpoint, CODEC_AUTH_TOKEN[_FILE] and
 * CODEC_UI_ORIGIN.
 */
import type { DataConverter } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { AesGcmPayloadCodec } from '../codec/aes-gcm-codec.js';
import {
  codecServerConfigFromEnv,
  DEFAULT_UI_ORIGIN,
  type CodecServerOptions,
} from '../codec/codec-server.js';
import type { KeyRing } from '../codec/keyring.js';
import { decideLocalUiAccess, type LocalUiAccessDecision } from '../codec/local-ui-access.js';
import type { Env } from '../config/settings.js';
import { temporalTargetFromEnv } from '../config/temporal.js';
import { loadVerificationPolicy } from '../config/verification-policy.js';
import { VerificationClient } from '@dws-verify/client';
import { createLimitsStore, describeLimitsStore } from '../limits/config.js';
import { LimitsStoreUnavailableError, type LimitsStore } from '../limits/store.js';
import { tracingClientInterceptors } from '../observability/temporal.js';
import type { Tracing } from '../observability/tracing.js';
import { buildHttpApp } from './app.js';
import { HttpMetrics, startMetricsListener, type MetricsListener } from './metrics.js';
import { loadHttpConfig, type HttpConfig } from './config.js';
import type { HttpLoggerOption } from './logging.js';

export interface HttpServiceOptions {
  /** where settings are read from; default process.env */
  env?: Env;
  /** already-loaded settings; default loadHttpConfig(env) */
  config?: HttpConfig;
  /**
   * an existing client (tests, a host process), whose own bound applies; otherwise one is connected from
   * env with `config.answerWithinSeconds` and closed on close()
   */
  verifications?: VerificationClient;
  /** the encrypting data converter for the connected client; required when `verifications` is not given */
  dataConverter?: DataConverter;
  /** mounts /codec, decrypting with this key ring; its tokens come from CODEC_AUTH_TOKEN[_FILE] */
  codecKeyRing?: KeyRing;
  /** when no codec token is configured, use the local dev token (.temporal/codec-token); default false */
  allowDevCodecToken?: boolean;
  /**
   * the embedded default: let the local UI decode without a sign-in, if decideLocalUiAccess agrees (dev
   * key only, loopback only, no proxy); default false
   */
  allowLocalUiAccess?: boolean;
  /** default true: JSON request logs on stdout, redacted */
  logger?: HttpLoggerOption;
  /** where the limits count; default the store `config.limits` names (opened here, closed on close()) */
  limitsStore?: LimitsStore;
  /**
   * started tracing (observability/tracing.ts): a server span per request and, on the connection opened
   * here, a span per Temporal call; default off. A `verifications` handed in brings its own interceptors.
   */
  tracing?: Tracing;
}

export interface RunningHttpService {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  verifications: VerificationClient;
  /** whether the local UI decodes without a sign-in, and if not, why; absent without /codec */
  codecLocalUiAccess?: LocalUiAccessDecision;
  /** the Prometheus endpoint, e.g. http://127.0.0.1:9465/metrics; absent while HTTP_METRICS_ADDRESS is unset */
  metricsUrl?: string;
  /**
   * The graceful stop: /readyz answers 503 for `config.drainSeconds` while everything else is still
   * served, then the port stops accepting, in-flight requests finish, and the Temporal connection closes
   * if this opened it
   */
  close(): Promise<void>;
}

export async function startHttpService(options: HttpServiceOptions = {}): Promise<RunningHttpService> {
  const env = options.env ?? process.env;
  const config = options.config ?? loadHttpConfig(env);
  // The operator's, applied to every start by the client library; read before anything connects.
  const policy = loadVerificationPolicy(env);
  const codec = options.codecKeyRing
    ? codecOptions(env, options.codecKeyRing, options.allowDevCodecToken ?? false)
    : undefined;
  const codecLocalUiAccess =
    codec && options.codecKeyRing
      ? localUiAccess(options.allowLocalUiAccess ?? false, codec, options.codecKeyRing, config)
      : undefined;
  if (codec && codecLocalUiAccess?.allowed) codec.localUiAccess = true;

  let verifications = options.verifications;
  const ownsConnection = !verifications;
  if (!verifications) {
    if (!options.dataConverter)
      throw new Error('startHttpService needs either verifications or a dataConverter.');
    const interceptors = options.tracing ? tracingClientInterceptors(options.tracing) : undefined;
    verifications = await VerificationClient.connect(
      temporalTargetFromEnv(env),
      options.dataConverter,
      undefined,
      {
        answerWithinMs: config.answerWithinSeconds * 1000,
        policy,
        ...(interceptors ? { interceptors } : {}),
      },
    );
  }
  const client = verifications;
  const limitsStore = options.limitsStore ?? createLimitsStore(config.limits);
  const metrics = config.metricsAddress ? new HttpMetrics() : undefined;
  let metricsListener: MetricsListener | undefined;
  const closeConnection = async () => {
    await metricsListener?.close();
    if (!options.limitsStore) await limitsStore.close();
    if (ownsConnection) await client.client.connection.close();
  };

  let app: FastifyInstance;
  let draining = false;
  try {
    app = await buildHttpApp({
      draining: () => draining,
      verifications: client,
      callers: config.callers,
      rateLimits: config.rateLimits,
      limitsStore,
      bodyLimitBytes: config.bodyLimitBytes,
      trustedProxies: config.trustedProxies,
      ...(codec ? { codec } : {}),
      logger: options.logger ?? true,
      traced: options.tracing?.enabled ?? false,
      ...(metrics ? { metrics } : {}),
    });
    // Said at every start, so an operator running replicas on the in-memory default sees each counts alone.
    if (!options.limitsStore) app.log.info(describeLimitsStore(config.limits));
    if (!(await storeAnswers(limitsStore))) {
      app.log.warn(
        'the limits store does not answer: codes, resends and starts are refused (503) until it does',
      );
    }
    await app.listen({ port: config.port, host: config.host });
    if (metrics && config.metricsAddress) {
      metricsListener = await startMetricsListener(metrics, config.metricsAddress);
    }
  } catch (err) {
    await closeConnection();
    throw err;
  }

  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    app,
    url: `http://${host}:${port}`,
    verifications: client,
    ...(codecLocalUiAccess ? { codecLocalUiAccess } : {}),
    ...(metricsListener ? { metricsUrl: metricsListener.url } : {}),
    close: () => {
      closing ??= (async () => {
        draining = true;
        if (config.drainSeconds > 0) {
          app.log.info({ drainSeconds: config.drainSeconds }, 'HTTP service draining: /readyz answers 503');
          await new Promise((resolve) => setTimeout(resolve, config.drainSeconds * 1000));
        }
        await app.close();
      })().finally(closeConnection);
      return closing;
    },
  };
}

const storeWaitAtStartMs = 5000;

/**
 * Whether the store answers, tried for a few seconds: a replica whose first connection attempt is slow
 * (a busy host at start) would otherwise refuse its first requests. A store that stays away does not stop
 * the service from starting: the routes then answer as documented for an outage.
 */
async function storeAnswers(store: LimitsStore): Promise<boolean> {
  const deadline = Date.now() + storeWaitAtStartMs;
  for (;;) {
    try {
      await store.peek('http:start-up', [{ limit: 1, windowSeconds: 1 }]);
      return true;
    } catch (err) {
      if (!(err instanceof LimitsStoreUnavailableError) || Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function codecOptions(env: Env, keyRing: KeyRing, allowDevToken: boolean): CodecServerOptions {
  const { uiOrigin, authTokens } = codecServerConfigFromEnv(env, { allowDevToken });
  return { codec: new AesGcmPayloadCodec(keyRing), uiOrigin, authTokens };
}

function localUiAccess(
  allowed: boolean,
  codec: CodecServerOptions,
  keyRing: KeyRing,
  config: HttpConfig,
): LocalUiAccessDecision {
  if (!allowed) return { allowed: false, reason: 'not the embedded default' };
  return decideLocalUiAccess({
    keyRing,
    listenHost: config.host,
    uiOrigin: codec.uiOrigin ?? DEFAULT_UI_ORIGIN,
    trustProxy: config.trustedProxies.length > 0,
  });
}
