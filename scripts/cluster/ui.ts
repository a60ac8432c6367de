/**
 * The Temporal Web UI for the cluster: the UI server module (`github.com/temporalio/ui-server/v2`, which
 * embeds the built UI), pointed at the cluster's frontend. The dev server has this built in; a cluster
 * runs it beside itself, as here.
 */
import { type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForPort } from '../dev-server.js';
import { readyOrExit, spawnLogged, stopProcess } from '../processes.js';

export interface UiServerOptions {
  binary: string;
  configDir: string;
  logFile: string;
  temporalAddress: string;
  port: number;
  namespace: string;
  /** the HTTP service's `/codec`, so an operator can read the encrypted payloads */
  codecEndpoint?: string;
}

export interface RunningUiServer {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startUiServer(options: UiServerOptions): Promise<RunningUiServer> {
  mkdirSync(options.configDir, { recursive: true });
  const config = {
    temporalGrpcAddress: options.temporalAddress,
    host: '127.0.0.1',
    port: options.port,
    enableUi: true,
    defaultNamespace: options.namespace,
    // Nothing here may reach out to the internet for news or version checks.
    disableNewsFetch: true,
    notifyOnNewVersion: false,
    ...(options.codecEndpoint
      ? { codec: { endpoint: options.codecEndpoint, includeCredentials: true } }
      : {}),
  };
  writeFileSync(join(options.configDir, 'base.yaml'), `${JSON.stringify(config, null, 2)}\n`);
  writeFileSync(join(options.configDir, 'cluster.yaml'), '{}\n');
  const child = spawnLogged(
    options.binary,
    ['--root', options.configDir, '--config', '.', '--env', 'cluster', 'start'],
    { logFile: options.logFile },
  );
  await readyOrExit(
    child,
    waitForPort('127.0.0.1', options.port, 60_000),
    'the Temporal UI server',
    options.logFile,
  );
  return {
    url: `http://localhost:${options.port}`,
    process: child,
    stop: () => stopProcess(child, { signal: 'SIGTERM', graceMs: 10_000 }),
  };
}
