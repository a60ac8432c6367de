/**
 * Where Temporal is, for the worker, the client library and the HTTP service alike: the standard
 * environment configuration (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*,
 * TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE), read by the SDK's own envconfig so a profile that works for
 * the `temporal` CLI works here too.
 */
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import { ConfigError } from './errors.js';
import type { Env } from './settings.js';

export interface TemporalTarget {
  connectConfig: ClientConnectConfig;
  address: string;
  namespace: string;
}

export function temporalTargetFromEnv(env: Env = process.env): TemporalTarget {
  let connectConfig: ClientConnectConfig;
  try {
    const overrideEnvVars = Object.fromEntries(
      Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
    connectConfig = loadClientConnectConfig({ overrideEnvVars });
  } catch (err) {
    // envconfig does not say which variable it choked on; its own words usually do.
    const reason = (err as Error).message.replace(/\.$/, '');
    throw new ConfigError('TEMPORAL_*', `settings cannot be read (${reason})`);
  }
  const address = connectConfig.connectionOptions.address ?? 'localhost:7233';
  connectConfig.connectionOptions.address = address;
  return { connectConfig, address, namespace: connectConfig.namespace ?? 'default' };
}
