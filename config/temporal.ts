/**
 * Where Temporal is, for the worker, the client library and the HTTP service alike: the standard
 * environment configuration (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*,
 * TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE), read by the SDK's own envconfig so a profile that works for
 * the `temporal` CLI works here too.
 */
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import { ConfigError } from './errors.js';
import { hostOfAddress, isLoopbackHost } from './loopback.js';
import type { Env } from './settings.js';

export interface TemporalTarget {
  connectConfig: ClientConnectConfig;
  address: string;
  namespace: string;
  /**
   * true when neither the environment nor a CLI profile named an address, so localhost:7233 is assumed:
   * the embedded default then starts its own dev server there
   */
  addressAssumed?: boolean;
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
  const configured = connectConfig.connectionOptions.address;
  const address = configured ?? 'localhost:7233';
  connectConfig.connectionOptions.address = address;
  return {
    connectConfig,
    address,
    namespace: connectConfig.namespace ?? 'default',
    ...(configured === undefined ? { addressAssumed: true } : {}),
  };
}

/**
 * The one place "local development" is decided: whether the worker may encrypt with the throwaway dev
 * key, and the HTTP service may fall back to the dev codec token and the published HTTP dev token.
 *
 * Decided from what the connection resolved to (environment, CLI profile and config file together), never
 * from TEMPORAL_ADDRESS being unset: a developer's default profile can point at a shared cluster, whose
 * history must not be written with a key that lives in a laptop's `.temporal/`. Local means a loopback
 * address spoken to in clear without an API key, which is what the dev server the project starts (npm
 * start, npm run temporal) is; TLS or an API key means somebody else's server, even through a tunnel.
 * A shared cluster reached through a plain tunnel on loopback (kubectl port-forward) cannot be told
 * apart: a configured TEMPORAL_CODEC_KEYS always wins over the dev key, so set it there.
 */
export function isLocalDevelopment(target: TemporalTarget): boolean {
  const { tls, apiKey } = target.connectConfig.connectionOptions;
  return isLoopbackHost(hostOfAddress(target.address)) && !tls && !apiKey;
}
