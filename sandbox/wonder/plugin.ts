/**
 * The Wonder simulator as a Fastify plugin. Register it at the root (no prefix: the paths are the
 * provider's own):
 *
 *   const simulator = new WonderSimulator();
 *   await app.register(wonderSimulator, { simulator, faults: new FaultController<WonderApi>() });
 *
 * Provider routes (signed; see README.md):
 *   PUT  /svc/payment/api/v1/openapi/customers/:uuid
 *   POST /svc/payment/api/v1/openapi/customers
 *   GET  /svc/payment/api/v1/openapi/customers/ref/:id
 *   POST /svc/payment/api/v1/openapi/echo   (and /svc/payment/api/v1/echo, the path the get-started page shows)
 * Control routes (unsigned, the sandbox's own):
 *   GET  /sandbox/wonder/customers/:uuid, GET /sandbox/wonder/ledger[?uuid=], GET /sandbox/wonder/requests,
 *   POST /sandbox/wonder/reset, and GET/POST /sandbox/wonder/faults when a fault controller is given.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { wonderPaths } from '../../activities/wonder/types.js';
import {
  injectedFaultOf,
  registerFaultInjection,
  registerFaultRoutes,
  type FaultController,
  type RenderedAnswer,
} from '../faults.js';
import {
  WonderSimulator,
  wonderApis,
  wonderErrorCodes,
  type WonderAnswer,
  type WonderApi,
} from './simulator.js';

export interface WonderSimulatorPluginOptions {
  /** pass one to keep a handle on the state; a fresh, seeded one otherwise */
  simulator?: WonderSimulator;
  /** fault injection on the provider routes, and its control routes */
  faults?: FaultController<WonderApi>;
}

type ResolvedOptions = WonderSimulatorPluginOptions & { simulator: WonderSimulator };

const LEGACY_ECHO_PATH = '/svc/payment/api/v1/echo';

interface RequestState {
  rawBody: string;
  invalidJson: boolean;
  appId?: string;
  replayed?: boolean;
}

/** Per-request facts the hooks share, without decorating Fastify's request type. */
const states = new WeakMap<FastifyRequest, RequestState>();

function stateOf(request: FastifyRequest): RequestState {
  let state = states.get(request);
  if (!state) {
    state = { rawBody: '', invalidJson: false };
    states.set(request, state);
  }
  return state;
}

function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const apiByRoute = new Map<string, WonderApi>([
  [`PUT ${wonderPaths.customers}/:uuid`, 'putCustomer'],
  [`POST ${wonderPaths.customers}`, 'createCustomer'],
  [`GET ${wonderPaths.customers}/ref/:id`, 'getCustomerByRef'],
  [`POST ${wonderPaths.echo}`, 'echo'],
  [`POST ${LEGACY_ECHO_PATH}`, 'echo'],
]);

function apiOf(request: FastifyRequest): WonderApi | undefined {
  return apiByRoute.get(`${request.method} ${request.routeOptions.url ?? ''}`);
}

function send(reply: FastifyReply, request: FastifyRequest, answer: WonderAnswer): FastifyReply {
  if (answer.replayed) stateOf(request).replayed = true;
  return reply.code(answer.statusCode).send(answer.body);
}

/** What an injected 'unknown' or 'trafficLimit' fault answers: Wonder has no U status, so a 504. */
function renderFault(kind: 'unknown' | 'trafficLimit'): RenderedAnswer {
  const json = { 'content-type': 'application/json; charset=utf-8' };
  return kind === 'trafficLimit'
    ? {
        statusCode: 429,
        headers: { ...json, 'retry-after': '1' },
        body: JSON.stringify({ code: 'E000429', message: 'Too Many Requests.', data: null }),
      }
    : {
        statusCode: 504,
        headers: json,
        body: JSON.stringify({ code: 'E000504', message: 'Gateway Timeout.', data: null }),
      };
}

async function providerRoutes(app: FastifyInstance, options: ResolvedOptions) {
  const { simulator } = options;

  // The signature covers the exact bytes sent, so keep them; scoped to this plugin's routes only.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const state = stateOf(request);
    state.rawBody = body as string;
    if (state.rawBody === '') return done(null, undefined);
    try {
      done(null, JSON.parse(state.rawBody));
    } catch {
      // Answered after authentication, so an unsigned caller learns nothing about its body.
      state.invalidJson = true;
      done(null, undefined);
    }
  });

  app.addHook('preValidation', async (request, reply) => {
    const state = stateOf(request);
    const auth = simulator.authenticate({
      method: request.method,
      uri: request.raw.url ?? request.url,
      body: state.rawBody,
      credential: headerValue(request, 'credential'),
      nonce: headerValue(request, 'nonce'),
      signature: headerValue(request, 'signature'),
    });
    if (!auth.ok) return reply.code(401).send({ code: auth.code, message: auth.message, data: null });
    state.appId = auth.appId;
    if (state.invalidJson) {
      return reply
        .code(400)
        .send({ code: wonderErrorCodes.invalidParameters, message: 'body is not valid JSON', data: null });
    }
  });

  if (options.faults) {
    registerFaultInjection(app, options.faults, { apiOf, render: renderFault });
  }

  app.addHook('onResponse', async (request, reply) => {
    const fault = injectedFaultOf(request);
    const requestId = headerValue(request, 'x-request-id');
    const lang = headerValue(request, 'x-i18n-lang');
    const api = apiOf(request);
    simulator.logRequest({
      ...(api ? { api } : {}),
      method: request.method,
      path: request.url,
      ...(requestId ? { requestId } : {}),
      ...(lang ? { lang } : {}),
      statusCode: reply.statusCode,
      ...(states.get(request)?.replayed ? { replayed: true } : {}),
      ...(fault ? { fault: `${fault.kind}/${fault.phase}` } : {}),
      at: new Date(simulator.now()).toISOString(),
    });
  });

  const appIdOf = (request: FastifyRequest) => stateOf(request).appId ?? '';

  app.put<{ Params: { uuid: string } }>(`${wonderPaths.customers}/:uuid`, async (request, reply) =>
    send(
      reply,
      request,
      simulator.putCustomer(
        appIdOf(request),
        request.params.uuid,
        request.body,
        headerValue(request, 'x-request-id'),
      ),
    ),
  );

  app.post(wonderPaths.customers, async (request, reply) =>
    send(
      reply,
      request,
      simulator.createCustomer(appIdOf(request), request.body, headerValue(request, 'x-request-id')),
    ),
  );

  app.get<{ Params: { id: string } }>(`${wonderPaths.customers}/ref/:id`, async (request, reply) =>
    send(reply, request, simulator.getCustomerByReference(request.params.id)),
  );

  for (const path of [wonderPaths.echo, LEGACY_ECHO_PATH]) {
    app.post(path, async (request, reply) => send(reply, request, simulator.echo(request.body)));
  }
}

async function controlRoutes(app: FastifyInstance, options: ResolvedOptions) {
  const { simulator } = options;

  app.get<{ Params: { uuid: string } }>('/sandbox/wonder/customers/:uuid', async (request, reply) => {
    const customer = simulator.customer(request.params.uuid);
    return customer ? { customer } : reply.code(404).send({ error: 'no such customer' });
  });

  app.get<{ Querystring: { uuid?: string } }>('/sandbox/wonder/ledger', async (request) => {
    const { uuid } = request.query;
    return uuid ? { ledger: { [uuid]: simulator.ledger(uuid) } } : { ledger: simulator.ledgers() };
  });

  app.get('/sandbox/wonder/requests', async () => ({ requests: simulator.requests() }));

  app.post('/sandbox/wonder/reset', async () => {
    simulator.reset();
    options.faults?.reset();
    return { reset: true };
  });

  if (options.faults)
    registerFaultRoutes(app, options.faults, { path: '/sandbox/wonder/faults', apis: wonderApis });
}

export const wonderSimulator: FastifyPluginAsync<WonderSimulatorPluginOptions> = async (app, options) => {
  const resolved = { ...options, simulator: options.simulator ?? new WonderSimulator() };
  await app.register(providerRoutes, resolved);
  await app.register(controlRoutes, resolved);
};
