/**
 * Where Temporal is: the standard environment configuration (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE), read by the SDK's own
 * envconfig so a profile that works for the `temporal` CLI works here too.
 */
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import { ConfigError, type Env } from './settings.js';

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
    throw new ConfigError(`The Temporal connection settings could not be read: ${(err as Error).message}`);
  }
  const address = connectConfig.connectionOptions.address ?? 'localhost:7233';
  connectConfig.connectionOptions.address = address;
  return { connectConfig, address, namespace: connectConfig.namespace ?? 'default' };
}
