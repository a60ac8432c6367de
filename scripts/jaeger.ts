/**
 * Jaeger, the trace backend a newcomer can run here: `npm run jaeger` beside `npm start`.
 *
 * Built once per machine with the machine's Go from the Go module proxy (`github.com/jaegertracing/jaeger`
 * at `jaegerVersion`, its `cmd/jaeger`: the v2 binary, an OpenTelemetry Collector with Jaeger's storage
 * and query), kept outside the clone beside the cluster's builds, so every clone and CI run on the machine
 * shares it. Its module requires a `replace`d dependency, which `go install pkg@version` refuses, so the
 * build is a small module of our own that names Jaeger as a tool (`go get -tool`), then `go build`.
 *
 * The Jaeger module does not hold its web UI (a separate JavaScript project, built into the binary by
 * Jaeger's release process and published by no package registry these machines reach), so the binary
 * alone serves a placeholder page. The query service serves a folder of assets instead
 * (`ui.assets_path`): `JAEGER_UI_ASSETS` names an official Jaeger UI build if you have one; otherwise
 * observability/jaeger-ui/, this project's one-page trace view over the same query API (search by
 * verification id or trace id, the span tree with its timings and attributes).
 *
 * Everything runs in memory on loopback: traces are gone when it stops.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterCacheRoot, ClusterSetupError, findGo, withLock } from './cluster/provision.js';
import { pollUntil, projectRoot, readyOrExit, spawnLogged, stopProcess } from './processes.js';

export const jaegerVersion = 'v1.75.0';

/** This project's trace view, served by Jaeger's query service when no official UI build is named. */
export const projectJaegerUi = join(projectRoot, 'observability', 'jaeger-ui');

/** `<cache>/jaeger-<version>/bin/jaeger`, built on first use (about 8 minutes on an idle 2-core machine). */
export async function provisionJaeger(
  log: (line: string) => void = (line) => console.error(line),
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const dir = join(clusterCacheRoot(env), '..', `jaeger-${jaegerVersion}`);
  const binary = join(dir, 'bin', 'jaeger');
  const marker = join(dir, 'complete');
  if (existsSync(marker)) return binary;
  const go = findGo(env);
  await withLock(dir, log, async () => {
    if (existsSync(marker)) return;
    mkdirSync(join(dir, 'bin'), { recursive: true });
    const logFile = join(dir, 'go-build.log');
    log(
      `Building Jaeger ${jaegerVersion} with go build (once per machine; about 8 minutes on an idle 2-core machine; log: ${logFile}) ...`,
    );
    const started = Date.now();
    writeFileSync(join(dir, 'go.mod'), 'module dwsverify/jaeger-tool\n\ngo 1.26\n');
    const goEnv = { ...env, GOFLAGS: '-buildvcs=false' };
    for (const args of [
      ['get', '-tool', `github.com/jaegertracing/jaeger/cmd/jaeger@${jaegerVersion}`],
      ['build', '-o', binary, 'github.com/jaegertracing/jaeger/cmd/jaeger'],
    ]) {
      const out = openSync(logFile, 'a');
      const code = await new Promise<number | null>((done, reject) => {
        const child = spawn(go, args, { cwd: dir, env: goEnv, stdio: ['ignore', out, out] });
        child.once('error', reject);
        child.once('exit', done);
      }).finally(() => closeSync(out));
      if (code !== 0) {
        const tail = (await readFile(logFile, 'utf8')).trim().split('\n').slice(-3).join(' / ');
        throw new ClusterSetupError(
          `go ${args[0]} for Jaeger ${jaegerVersion} failed (${tail}); full log: ${logFile}`,
        );
      }
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    await writeFile(marker, `${new Date().toISOString()} built in ${seconds} s\n`);
    log(`Jaeger ${jaegerVersion} built in ${seconds} s.`);
  });
  return binary;
}

export interface JaegerPorts {
  /** the UI and the query API (/api/...) */
  ui: number;
  /** OTLP over HTTP: what OTEL_EXPORTER_OTLP_ENDPOINT points at */
  otlpHttp: number;
  /** the query service's gRPC API (Jaeger needs one) */
  queryGrpc: number;
}

export interface RunningJaeger {
  /** e.g. http://127.0.0.1:16686 */
  uiUrl: string;
  /** e.g. http://127.0.0.1:4318: set as OTEL_EXPORTER_OTLP_ENDPOINT */
  otlpEndpoint: string;
  logFile: string;
  stop(): Promise<void>;
}

export interface StartJaegerOptions {
  ports: JaegerPorts;
  /** an official Jaeger UI build (its folder with index.html); default the project's trace view */
  uiAssets?: string;
  logFile?: string;
  log?: (line: string) => void;
}

/** Jaeger's v2 configuration: OTLP/HTTP in, memory storage, the query service and UI, all on loopback. */
export function jaegerConfig(ports: JaegerPorts, uiAssets: string): string {
  return `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    traces:
      level: none
    logs:
      level: info
extensions:
  jaeger_storage:
    backends:
      memory_store:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memory_store
    ui:
      assets_path: ${JSON.stringify(uiAssets)}
    http:
      endpoint: 127.0.0.1:${ports.ui}
    grpc:
      endpoint: 127.0.0.1:${ports.queryGrpc}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${ports.otlpHttp}
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memory_store
`;
}

export async function startJaeger(options: StartJaegerOptions): Promise<RunningJaeger> {
  const log = options.log ?? ((line: string) => console.error(line));
  const binary = await provisionJaeger(log);
  const folder = join(tmpdir(), `dws-verify-jaeger-${process.pid}-${options.ports.ui}`);
  mkdirSync(folder, { recursive: true });
  const configFile = join(folder, 'config.yaml');
  writeFileSync(configFile, jaegerConfig(options.ports, resolve(options.uiAssets ?? projectJaegerUi)));
  const logFile = options.logFile ?? join(folder, 'jaeger.log');
  // Jaeger's own spans would go to an OTLP endpoint of its own (4317, or ours if the caller's environment
  // names one): not what anyone here wants to read.
  const child = spawnLogged(binary, ['--config', configFile], {
    logFile,
    env: { ...process.env, OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'none' },
  });
  const uiUrl = `http://127.0.0.1:${options.ports.ui}`;
  const otlpEndpoint = `http://127.0.0.1:${options.ports.otlpHttp}`;
  const stop = () => stopProcess(child, { graceMs: 5_000 });
  try {
    await readyOrExit(
      child,
      pollUntil(
        async () => {
          const [query, otlp] = await Promise.all([
            fetch(`${uiUrl}/api/services`),
            // The receiver answers a GET on its path with 405: it is listening.
            fetch(`${otlpEndpoint}/v1/traces`),
          ]);
          return query.ok && otlp.status === 405;
        },
        30_000,
        'Jaeger did not answer',
      ),
      'Jaeger',
      logFile,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { uiUrl, otlpEndpoint, logFile, stop };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const ports: JaegerPorts = {
    ui: Number(process.env.JAEGER_UI_PORT ?? 16686),
    otlpHttp: Number(process.env.JAEGER_OTLP_PORT ?? 4318),
    queryGrpc: Number(process.env.JAEGER_QUERY_GRPC_PORT ?? 16685),
  };
  const jaeger = await startJaeger({
    ports,
    ...(process.env.JAEGER_UI_ASSETS ? { uiAssets: process.env.JAEGER_UI_ASSETS } : {}),
    logFile: join(projectRoot, '.temporal', 'jaeger.log'),
  }).catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
  console.log(
    `Jaeger ${jaegerVersion}  UI ${jaeger.uiUrl}   OTLP/HTTP ${jaeger.otlpEndpoint}   (log: ${jaeger.logFile})`,
  );
  console.log(`Now, in another terminal: OTEL_EXPORTER_OTLP_ENDPOINT=${jaeger.otlpEndpoint} npm start`);
  console.log(
    'then `npm run demo`, and search the verification id it prints. Ctrl-C stops Jaeger (traces are in memory).',
  );
  const stopOnSignal = () => void jaeger.stop().then(() => process.exit(0));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, stopOnSignal);
}
