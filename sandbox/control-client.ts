/**
 * The client of the sandbox's DWS control API (dws/control-routes.ts), for everything that drives a
 * sandbox over HTTP: tests, the demo and the bench. The answers are typed with the sandbox's own types, so
 * a change to a route's answer breaks its callers at compile time rather than at run time.
 */
import { randomInt } from 'node:crypto';
import got, { type Got } from 'got';
import type { DwsApi } from '../activities/dws/types.js';
import type { CustomerSeed, CustomerView } from './dws/customers.js';
import type { CustomerLedger } from './dws/ledger.js';
import type { OutboxFilter, OutboxMessage } from './dws/outbox.js';
import type { RequestLogEntry } from './dws/request-log.js';
import type { FaultSettings } from './fault-settings.js';

/** The customer as added: the seed posted, with the contact data a test or the demo reads back. */
export type AddedCustomer = CustomerSeed & Required<Pick<CustomerSeed, 'email' | 'mobileNoInfo'>>;

/** 19 digits like the sandbox's seeded customers, fresh each time so a run never meets an earlier one's flow. */
function newCustomerId(): string {
  return `2188${String(randomInt(1e9)).padStart(9, '0')}${String(randomInt(1e6)).padStart(6, '0')}`;
}

export class SandboxControlClient {
  readonly #http: Got;

  /** `baseUrl`: the sandbox's root, e.g. RunningSandbox.url */
  constructor(readonly baseUrl: string) {
    this.#http = got.extend({
      prefixUrl: baseUrl,
      responseType: 'json',
      // The control API is never faulted: a failure is a bug to show at once, not to retry.
      retry: { limit: 0 },
      timeout: { request: 10_000 },
      hooks: {
        beforeError: [
          (error) => {
            const { response } = error;
            // The route and the sandbox's own sentence (it names the field), not just "Response code 400".
            if (response) {
              const body = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
              error.message = `${error.options.method} ${response.requestUrl.pathname} answered ${response.statusCode}: ${body}`;
            }
            return error;
          },
        ],
      },
    });
  }

  /** Adds (or replaces) a customer; what is not given is a fresh id and an sms customer with a phone. */
  async addCustomer(seed: Partial<CustomerSeed> = {}): Promise<AddedCustomer> {
    const customer: AddedCustomer = {
      customerId: newCustomerId(),
      email: 'old@example.com',
      mobileNoInfo: { countryCode: '65', phoneNo: '81234567' },
      challengeType: 'sms',
      ...seed,
    };
    await this.#http.post('sandbox/customers', { json: customer });
    return customer;
  }

  /** The customer's record now, contact data in clear (the control API is the sandbox's own). */
  customer(customerId: string): Promise<CustomerView> {
    return this.#http.get(`sandbox/customers/${encodeURIComponent(customerId)}`).json<CustomerView>();
  }

  /** The codes the simulated SMS gateway sent, newest first. */
  outbox(filter: OutboxFilter = {}): Promise<OutboxMessage[]> {
    return this.#http.get('sandbox/outbox', { searchParams: { ...filter } }).json<OutboxMessage[]>();
  }

  /** The newest code sent to the customer: what the user reads on their phone. */
  async latestOtp(customerId: string): Promise<string> {
    const [message] = await this.outbox({ customerId });
    if (!message) throw new Error(`no OTP in the sandbox outbox for ${customerId}`);
    return message.code;
  }

  /** The changes applied to one customer (count 0 when none was). */
  ledger(customerId: string): Promise<CustomerLedger> {
    return this.#http.get('sandbox/ledger', { searchParams: { customerId } }).json<CustomerLedger>();
  }

  /** Every customer's ledger, by customer id. */
  ledgers(): Promise<Record<string, CustomerLedger>> {
    return this.#http.get('sandbox/ledger').json<Record<string, CustomerLedger>>();
  }

  /** The provider calls the sandbox saw, oldest first (its last 1000). */
  requests(filter: { api?: DwsApi } = {}): Promise<RequestLogEntry[]> {
    return this.#http.get('sandbox/requests', { searchParams: { ...filter } }).json<RequestLogEntry[]>();
  }

  /** Replaces the fault settings given, keeps the others; answers the settings now in force. */
  setFaults(patch: Partial<FaultSettings<DwsApi>>): Promise<FaultSettings<DwsApi>> {
    return this.#http.post('sandbox/faults', { json: patch }).json<FaultSettings<DwsApi>>();
  }

  /** Customers, codes, ledger, log and idempotency store as at start, and the faults the sandbox began with. */
  async reset(): Promise<void> {
    await this.#http.post('sandbox/reset', { json: {} });
  }
}
