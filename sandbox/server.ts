/**
 * The provider sandbox as one HTTP server: the DWS API (under /ams/api/v1 and, for SANDBOX_ client ids,
 * /ams/sandbox/api/v1), the Wonder OpenAPI (under /svc/payment/api/v1/openapi) and their control APIs
 * under /sandbox/ and /sandbox/wonder/.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { SANDBOX_CLIENT_ID } from '../activities/dws/config.js';
import type { DwsApi } from '../activities/dws/types.js';
import { FaultController, parseFaultSettings, type FaultSettings } from './faults.js';
import { dwsApis, dwsControlRoutes } from './dws/control-routes.js';
import { loadDwsKeys, type DwsKeyMaterial } from './dws/envelope.js';
import { dwsRoutes } from './dws/routes.js';
import { DwsSimulator, type DwsSimulatorOptions } from './dws/simulator.js';
import { wonderSimulator } from './wonder/plugin.js';
import { WonderSimulator, type WonderApi } from './wonder/simulator.js';

export interface SandboxOptions extends DwsSimulatorOptions {
  /** default 0: a free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** the one merchant client id accepted; default the one sandboxDwsConfig() signs with */
  clientId?: string;
  /** default: the pairs in sandbox/keys */
  keys?: DwsKeyMaterial;
  /** how far a request-time may be from the sandbox clock; default 5 minutes */
  signatureSkewMs?: number;
  /** the DWS faults at start (and after POST /sandbox/reset) */
  faults?: Partial<FaultSettings<DwsApi>>;
  /** Fastify's logger; default off */
  logger?: boolean;
}

export interface SandboxApp {
  /** not listening: use app.inject(), or listen yourself */
  app: FastifyInstance;
  dws: DwsSimulator;
  faults: FaultController<DwsApi>;
  wonder: WonderSimulator;
  wonderFaults: FaultController<WonderApi>;
  clientId: string;
}

export interface RunningSandbox {
  /** e.g. http://127.0.0.1:43121, without a trailing slash */
  url: string;
  port: number;
  close(): Promise<void>;
  dws: DwsSimulator;
  faults: FaultController<DwsApi>;
  wonder: WonderSimulator;
  wonderFaults: FaultController<WonderApi>;
  clientId: string;
}

export async function buildSandboxApp(options: SandboxOptions = {}): Promise<SandboxApp> {
  // Validated like settings posted over HTTP, so a typo in the options fails at start.
  const initialFaults = parseFaultSettings(options.faults ?? {}, dwsApis);
  const clientId = options.clientId ?? SANDBOX_CLIENT_ID;
  const dws = new DwsSimulator(options);
  const faults = new FaultController<DwsApi>(initialFaults);
  const app = Fastify({ logger: options.logger ?? false });

  await app.register(dwsRoutes, {
    simulator: dws,
    faults,
    envelope: {
      clientId,
      keys: loadDwsKeys(options.keys),
      signatureSkewMs: options.signatureSkewMs ?? 5 * 60_000,
      now: () => dws.now(),
    },
  });
  await app.register(dwsControlRoutes, { simulator: dws, faults, initialFaults });
  const wonder = new WonderSimulator({ now: () => dws.now() });
  const wonderFaults = new FaultController<WonderApi>();
  await app.register(wonderSimulator, { simulator: wonder, faults: wonderFaults });
  return { app, dws, faults, wonder, wonderFaults, clientId };
}

export async function startSandbox(options: SandboxOptions = {}): Promise<RunningSandbox> {
  const { app, dws, faults, wonder, wonderFaults, clientId } = await buildSandboxApp(options);
  const host = options.host ?? '127.0.0.1';
  await app.listen({ port: options.port ?? 0, host });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the sandbox is not listening on TCP');
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const urlHost = reachable.includes(':') ? `[${reachable}]` : reachable;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    close: () => app.close(),
    dws,
    faults,
    wonder,
    wonderFaults,
    clientId,
  };
}
