/**
 * The embedded default: everything a newcomer needs on one laptop, in one process tree. Temporal and the
 * providers are started here only when no real ones are configured (TEMPORAL_ADDRESS or a CLI profile,
 * DWS_BASE_URL, WONDER_BASE_URL). The dev key and dev tokens are used only when Temporal is local
 * (isLocalDevelopment); rate-limit counts are kept in this one process.
 */
import { mkdirSync } from 'node:fs';
import type { LogLevel } from '@temporalio/common';
import { createDataConverter, workerDataConverter } from '../codec/data-converter.js';
import { loadKeyRing } from '../codec/keyring.js';
import { devHttpToken, loadHttpConfig } from '../http/config.js';
import { startHttpService, type RunningHttpService } from '../http/server.js';
import { readInt, type Env } from '../config/settings.js';
import { isLocalDevelopment, temporalTargetFromEnv } from '../config/temporal.js';
import { startSandbox, type RunningSandbox } from '../sandbox/server.js';
import { loadWorkerConfig } from '../worker/config.js';
import { createSendBudget, createWorker } from '../worker/run.js';
import { describeLimitsStore } from '../limits/config.js';
import { installRuntime } from '../worker/runtime.js';
import { workerTracing } from '../observability/temporal.js';
import { describeTracing, startTracing } from '../observability/tracing.js';
import { ensureSearchAttributes } from '../worker/search-attributes.js';
import { verificationSearchAttributes } from '../workflows/search-attributes.js';
import { defaultDevServerDbFile, startDevServer, type RunningDevServer } from './dev-server.js';
import { freePort } from './processes.js';
import { temporalFolder } from './temporal-binaries.js';

export interface EmbeddedOptions {
  env?: Env;
  /** 0 picks free ports (tests); the defaults are the documented ones */
  temporalPort?: number;
  uiPort?: number;
  sandboxPort?: number;
  httpPort?: number;
  dbFile?: string;
  log?: (line: string) => void;
  /** the HTTP service's request log lines; default on */
  httpLogs?: boolean;
  /** the worker's log level; default INFO */
  workerLogLevel?: LogLevel;
}

export interface Embedded {
  temporalAddress: string;
  uiUrl?: string;
  sandboxUrl?: string;
  httpUrl: string;
  httpToken: string;
  namespace: string;
  stop(): Promise<void>;
}

export async function startEmbedded(options: EmbeddedOptions = {}): Promise<Embedded> {
  const env: Env = { ...(options.env ?? process.env) };
  const log = options.log ?? ((line: string) => console.log(line));
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => undefined);
  };

  try {
    const pick = async (port: number) => (port === 0 ? freePort() : port);
    const httpPort = await pick(options.httpPort ?? readInt(env, 'HTTP_PORT', 8080));
    let devServer: RunningDevServer | undefined;
    if (temporalTargetFromEnv(env).addressAssumed) {
      const port = await pick(options.temporalPort ?? 7233);
      const uiPort = await pick(options.uiPort ?? 8233);
      mkdirSync(temporalFolder, { recursive: true });
      devServer = await startDevServer({
        port,
        uiPort,
        dbFile: options.dbFile ?? defaultDevServerDbFile,
        searchAttributes: verificationSearchAttributes,
        extraArgs: [
          // The UI asks the HTTP service's codec endpoint to show encrypted payloads in clear.
          '--ui-codec-endpoint',
          `http://localhost:${httpPort}/codec`,
        ],
      });
      stops.push(() => devServer!.stop());
      env.TEMPORAL_ADDRESS = devServer.address;
      log(`Temporal dev server  ${devServer.address}   UI ${devServer.uiUrl}`);
    }

    let sandbox: RunningSandbox | undefined;
    if (!env.DWS_BASE_URL || !env.WONDER_BASE_URL) {
      sandbox = await startSandbox({ port: options.sandboxPort ?? readInt(env, 'SANDBOX_PORT', 8090) });
      stops.push(() => sandbox!.close());
      log(`Provider sandbox     ${sandbox.url}   (OTP outbox: ${sandbox.url}/sandbox/outbox)`);
    }

    const config = loadWorkerConfig(env, { sandboxUrl: sandbox?.url });
    const local = isLocalDevelopment(config.temporal);
    const keyRing = loadKeyRing(env, { allowDevKey: local });
    const dataConverter = createDataConverter(keyRing);
    installRuntime({ logLevel: options.workerLogLevel, metricsAddress: config.metricsAddress });
    // One process here: the worker's and the HTTP service's spans go out under one service name.
    const tracing = startTracing(env, { serviceName: 'dws-verify' });
    stops.push(() => tracing.shutdown());
    await ensureSearchAttributes(config.temporal);
    const { sendBudget, store } = createSendBudget(config.limits);
    stops.push(() => store.close());
    const traced = workerTracing(tracing);
    const worker = await createWorker(config, {
      dataConverter: workerDataConverter(keyRing),
      sendBudget,
      ...(traced ? { tracing: traced } : {}),
    });
    const running = worker.run();
    stops.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });
    log(`Worker               task queue ${config.taskQueue}; ${describeLimitsStore(config.limits)}`);

    const httpEnv: Env = {
      // The codec endpoint answers the UI of the dev server started here, whatever port it got.
      ...(devServer ? { CODEC_UI_ORIGIN: devServer.uiUrl } : {}),
      ...env,
      HTTP_PORT: String(httpPort),
    };
    const httpConfig = loadHttpConfig(httpEnv, { allowDevToken: local });
    const httpToken = httpConfig.authTokens.includes(devHttpToken) ? devHttpToken : '';
    const http: RunningHttpService = await startHttpService({
      env: httpEnv,
      config: httpConfig,
      dataConverter,
      codecKeyRing: keyRing,
      allowDevCodecToken: local,
      allowLocalUiAccess: local,
      logger: options.httpLogs ?? true,
      tracing,
    });
    stops.push(() => http.close());
    if (devServer) {
      const access = http.codecLocalUiAccess;
      log(
        access?.allowed
          ? `Temporal UI          shows payloads decoded (local dev key, loopback only)`
          : `Temporal UI          payloads stay encrypted until you sign in at ${http.url}/codec/session (${access?.reason ?? 'no codec endpoint'})`,
      );
    }
    log(`HTTP service         ${http.url}   (token: ${httpToken || 'from HTTP_AUTH_TOKENS'})`);
    if (http.metricsUrl) log(`HTTP metrics         ${http.metricsUrl}`);
    if (tracing.enabled) log(`Tracing              ${describeTracing(tracing)}`);

    return {
      temporalAddress: config.temporal.address,
      ...(devServer ? { uiUrl: devServer.uiUrl } : {}),
      ...(sandbox ? { sandboxUrl: sandbox.url } : {}),
      httpUrl: http.url,
      httpToken,
      namespace: config.temporal.namespace,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
