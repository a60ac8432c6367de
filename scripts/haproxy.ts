/**
 * HAProxy in front of the HTTP service's replicas, as a team would run it: round robin, each replica
 * health-checked on /readyz?scope=replica (a stopping replica answers 503 there first and is taken out
 * before it stops listening), and a request whose connection to a replica failed sent to another one. Debian's `haproxy`
 * (scripts/debian-tool.ts installs it when run as root). Used by the live-traffic run and its bench case.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { debianToolPath, type DebianTool } from './debian-tool.js';
import { freePort, pollUntil, readyOrExit, spawnLogged, stopProcess } from './processes.js';

export const haproxyTool: DebianTool = {
  label: 'HAProxy',
  pathVariable: 'HAPROXY_PATH',
  command: 'haproxy',
  debianPath: '/usr/sbin/haproxy',
  aptPackage: 'haproxy',
};

export interface HaproxyBackend {
  name: string;
  port: number;
}

export interface HaproxyOptions {
  backends: readonly HaproxyBackend[];
  /** where haproxy.cfg and haproxy.log go */
  dir: string;
  /** default: a free one */
  port?: number;
  /** between two readiness checks of a replica; default 500 ms */
  checkIntervalMs?: number;
  /** longest answer a replica may take (past the service's own bound); default 30 s */
  serverTimeoutMs?: number;
}

export interface RunningHaproxy {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Two failed checks take a replica out, two good ones put it back. */
const fall = 2;
const rise = 2;

export function haproxyConfig(options: HaproxyOptions & { port: number }): string {
  const inter = options.checkIntervalMs ?? 500;
  return [
    'global',
    '  maxconn 4096',
    '',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    `  timeout server ${options.serverTimeoutMs ?? 30_000}ms`,
    '  timeout http-keep-alive 10s',
    // A refused or reset connection never carried the request: trying another replica is safe for any
    // method. Answers (a 503 included) are passed on as they are: only the app knows what is safe to retry.
    '  retries 3',
    '  retry-on conn-failure',
    '  option redispatch 1',
    '',
    'frontend verifications',
    `  bind 127.0.0.1:${options.port}`,
    '  default_backend replicas',
    '',
    'backend replicas',
    '  balance roundrobin',
    // The replica's own readiness: Temporal away is every replica at once, and each answers that itself.
    '  option httpchk GET /readyz?scope=replica',
    '  http-check expect status 200',
    `  default-server inter ${inter}ms fall ${fall} rise ${rise}`,
    ...options.backends.map((backend) => `  server ${backend.name} 127.0.0.1:${backend.port} check`),
    '',
  ].join('\n');
}

/** How long a replica that started failing its check keeps getting requests, at most. */
export function haproxyTakeOutMs(checkIntervalMs = 500): number {
  return checkIntervalMs * fall;
}

export async function startHaproxy(options: HaproxyOptions): Promise<RunningHaproxy> {
  const binary = debianToolPath(haproxyTool);
  const port = options.port || (await freePort());
  const configFile = join(options.dir, 'haproxy.cfg');
  const logFile = join(options.dir, 'haproxy.log');
  writeFileSync(configFile, haproxyConfig({ ...options, port }));
  // -db: in the foreground, so stopping the child stops haproxy.
  const child: ChildProcess = spawnLogged(binary, ['-f', configFile, '-db'], { logFile });
  const url = `http://127.0.0.1:${port}`;
  try {
    await readyOrExit(
      child,
      pollUntil(
        async () => (await fetch(`${url}/healthz`)).status === 200,
        30_000,
        `HAProxy did not pass a request to a replica on ${url}`,
      ),
      'HAProxy',
      logFile,
    );
  } catch (err) {
    await stopProcess(child, { graceMs: 5_000 });
    throw err;
  }
  return {
    url,
    pid: child.pid,
    stop: () => stopProcess(child, { signal: 'SIGUSR1', graceMs: 10_000 }),
  };
}
