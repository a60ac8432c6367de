/**
 * The sandbox's own control API under /sandbox/: unsigned JSON, never faulted. Tests and the demo read
 * the outbox (the user's phone), the ledger and the customers, and set faults.
 */
import type { FastifyInstance } from 'fastify';
import { dwsPaths, type DwsApi } from '../../activities/dws/types.js';
import { registerFaultRoutes, type FaultController, type FaultSettings } from '../faults.js';
import { parseCustomerSeed } from './customers.js';
import { FieldError } from './field-rules.js';
import type { DwsSimulator } from './simulator.js';

export interface DwsControlOptions {
  simulator: DwsSimulator;
  faults: FaultController<DwsApi>;
  /** what POST /sandbox/reset restores */
  initialFaults: Partial<FaultSettings<DwsApi>>;
}

export const dwsApis = Object.keys(dwsPaths) as DwsApi[];

type Query = Record<string, string | string[] | undefined>;

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function withDefined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export async function dwsControlRoutes(app: FastifyInstance, options: DwsControlOptions): Promise<void> {
  const { simulator, faults } = options;

  /** newest first */
  app.get<{ Querystring: Query }>('/sandbox/outbox', async (request) =>
    simulator.outbox.list(
      withDefined({
        customerId: single(request.query, 'customerId'),
        authenticationId: single(request.query, 'authenticationId'),
      }),
    ),
  );

  app.get<{ Querystring: Query }>('/sandbox/ledger', async (request) => {
    const customerId = single(request.query, 'customerId');
    return customerId ? simulator.ledger.forCustomer(customerId) : simulator.ledger.snapshot();
  });

  app.get<{ Params: { customerId: string } }>('/sandbox/customers/:customerId', async (request, reply) => {
    const view = simulator.customers.view(request.params.customerId);
    return view ?? reply.code(404).send({ error: 'customer not found', field: 'customerId' });
  });

  app.post('/sandbox/customers', async (request, reply) => {
    try {
      const seed = parseCustomerSeed(request.body);
      const created = simulator.customers.upsert(seed);
      return reply.code(created ? 201 : 200).send(simulator.customers.view(seed.customerId));
    } catch (err) {
      if (err instanceof FieldError) return reply.code(400).send({ error: err.message, field: err.field });
      throw err;
    }
  });

  /** oldest first */
  app.get<{ Querystring: Query }>('/sandbox/requests', async (request) =>
    simulator.requests.list(withDefined({ api: single(request.query, 'api') })),
  );

  registerFaultRoutes(app, faults, { path: '/sandbox/faults', apis: dwsApis });

  app.post('/sandbox/reset', async () => {
    simulator.reset();
    faults.reset(options.initialFaults);
    return { reset: true };
  });
}
