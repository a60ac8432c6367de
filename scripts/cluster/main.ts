/**
 * `npm run cluster`: the production-shaped cluster in the foreground until Ctrl-C (or SIGTERM), with its
 * Web UI. Its workflows are kept across restarts in the cache's state folder.
 *
 *   npm run cluster -- [--hosts single|multi] [--port 7233] [--ui-port 8233] [--db-port 15432] [--no-ui]
 *                      [--codec-endpoint URL]
 */
import { parseArgs } from 'node:util';
import { stopOnSignals } from '../../config/shutdown.js';
import { startCluster, type RunningCluster } from './cluster.js';
import { clusterShapes, type ClusterShape } from './hosts.js';
import { ClusterSetupError, temporalServerVersion } from './provision.js';

function port(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) {
    throw new ClusterSetupError(`--${flag} must be a port number (0 picks a free one), not ${value}`);
  }
  return parsed;
}

function shape(value: string): ClusterShape {
  if (!(clusterShapes as readonly string[]).includes(value)) {
    throw new ClusterSetupError(`--hosts must be ${clusterShapes.join(' or ')}, not ${value}`);
  }
  return value as ClusterShape;
}

async function main(): Promise<void> {
  let cluster: RunningCluster;
  try {
    const { values } = parseArgs({
      options: {
        hosts: { type: 'string', default: 'single' },
        port: { type: 'string' },
        'ui-port': { type: 'string' },
        'db-port': { type: 'string' },
        'no-ui': { type: 'boolean', default: false },
        'codec-endpoint': { type: 'string', default: 'http://localhost:8080/codec' },
      },
    });
    // The dev server's ports: one runs or the other, and the codec endpoint's default UI origin fits.
    cluster = await startCluster({
      shape: shape(values.hosts),
      frontendPort: port(values.port, 7233, 'port'),
      postgresPort: port(values['db-port'], 15432, 'db-port'),
      ...(values['no-ui'] ? {} : { uiPort: port(values['ui-port'], 8233, 'ui-port') }),
      codecEndpoint: values['codec-endpoint'],
      log: (line) => console.log(line),
    });
  } catch (err) {
    process.stderr.write(
      `${err instanceof ClusterSetupError || err instanceof TypeError ? err.message : String(err)}\n`,
    );
    process.exit(1);
  }
  console.log(`
Temporal cluster ready: Temporal Server ${temporalServerVersion}, ${cluster.historyShards} history shards, PostgreSQL persistence and visibility.
  Frontend    ${cluster.address}   namespace ${cluster.namespace}${
    cluster.shape === 'multi'
      ? `\n  Hosts       ${cluster
          .hosts()
          .map((host) => `${host.name} ${host.address}`)
          .join(', ')}   (logs/<host>.log)`
      : ''
  }
  Web UI      ${cluster.uiUrl ?? '(not started: --no-ui)'}
  PostgreSQL  ${cluster.postgres.host}:${cluster.postgres.port}   databases temporal, temporal_visibility
  Metrics     ${cluster.metricsUrl}
  Profiler    ${cluster.pprofUrl}   (Go pprof, e.g. go tool pprof ${cluster.pprofUrl}/profile?seconds=10)
  State       ${cluster.stateDir}   (logs in logs/)
Run the project on it (off the dev server the codec key and the codec token are yours to set and keep):
  TEMPORAL_ADDRESS=${cluster.address} TEMPORAL_CODEC_KEYS="k1:$(openssl rand -base64 32)" \\
    CODEC_AUTH_TOKEN="$(openssl rand -hex 16)" npm start
Ctrl-C stops everything; workflows are kept for the next npm run cluster.`);

  stopOnSignals(async () => {
    console.log('Stopping the cluster ...');
    await cluster.stop();
  });
}

void main();
