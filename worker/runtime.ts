/**
 * The Temporal Runtime (SDK Core, its logger and metrics) is a process-wide singleton that can be
 * installed once, before the first worker or native connection. The worker process, the embedded
 * default and the test run each install it here; whoever comes first wins, so a host that installed
 * its own (tests) can start the embedded default without a second install throwing.
 */
import type { LogLevel } from '@temporalio/common';
import { Runtime, type Logger } from '@temporalio/worker';
import { createJsonLogger } from './logging.js';

export interface RuntimeSettings {
  /** for the default logger (JSON lines on stdout); default INFO */
  logLevel?: LogLevel;
  /** replaces the default logger */
  logger?: Logger;
  /** forward SDK Core's own log lines to the logger from this level on; default: the SDK's default */
  coreLogLevel?: LogLevel;
  /** e.g. 0.0.0.0:9464; the SDK's Prometheus endpoint is off when unset */
  metricsAddress?: string;
}

let installed = false;

export function installRuntime(settings: RuntimeSettings = {}): void {
  if (installed) return;
  installed = true;
  const { logLevel = 'INFO', logger = createJsonLogger(logLevel), coreLogLevel, metricsAddress } = settings;
  Runtime.install({
    logger,
    telemetryOptions: {
      ...(coreLogLevel ? { logging: { filter: { core: coreLogLevel }, forward: {} } } : {}),
      ...(metricsAddress ? { metrics: { prometheus: { bindAddress: metricsAddress } } } : {}),
    },
  });
}
