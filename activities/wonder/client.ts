/**
 * The Wonder HTTP client: one got instance per config, with the request signing as a beforeRequest hook,
 * per-phase timeouts, keep-alive agents and got's own retry off (Temporal retries the activity; one
 * layer only). Bodies are serialised once and sent as that exact string, which is what the hook signs.
 *
 * Like the DWS client, each method resolves with the provider's answer or rejects with the
 * ApplicationFailure of an exchange without one. Wonder says "no" with an HTTP status and a code rather
 * than with a result the caller may act on, so here every answer but a success is such a failure
 * (outcomes.ts). Inputs are checked by the activity (validate.ts), not here.
 */
import { randomUUID } from 'node:crypto';
import type { Got, Method } from 'got';
import { transportFailure } from '../shared/errors.js';
import { providerHttp, type ProviderHttp } from '../shared/provider-http.js';
import type { WonderConfig } from './config.js';
import { generateNonce, signRequest } from './signing.js';
import { interpretWonderAnswer, isNoSuchCustomer, readCustomer, type WonderHttpAnswer } from './outcomes.js';
import { toPutCustomerBody } from './update.js';
import {
  wonderPaths,
  type EchoRequestBody,
  type WonderCustomer,
  type WonderCustomerUpdate,
  type WonderRequestOptions,
} from './types.js';

export interface WonderClientDeps {
  /** the clock the Credential time is read from */
  now?: () => Date;
  nonce?: () => string;
}

/** The shared provider transport (activities/shared/provider-http.ts) extended with Wonder's signing hook. */
export class WonderClient {
  readonly appId: string;
  readonly #transport: ProviderHttp;
  readonly #http: Got;

  constructor(config: WonderConfig, deps: WonderClientDeps = {}) {
    this.appId = config.appId;
    const now = deps.now ?? (() => new Date());
    const nonce = deps.nonce ?? generateNonce;
    this.#transport = providerHttp('Wonder', config.baseUrl, config.timeouts);
    this.#http = this.#transport.got.extend({
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      hooks: {
        beforeRequest: [
          (options) => {
            const body = options.body;
            if (body !== undefined && typeof body !== 'string') {
              throw new TypeError(
                'Wonder requests must carry their body as the serialised string that is signed',
              );
            }
            const { signedUri } = options.context as { signedUri?: string };
            if (!signedUri) throw new TypeError('a Wonder request must name the API path it signs');
            const auth = signRequest({
              method: options.method,
              uri: signedUri,
              body,
              appId: config.appId,
              privateKey: config.privateKey,
              now: now(),
              nonce: nonce(),
            });
            options.headers.credential = auth.Credential;
            options.headers.nonce = auth.Nonce;
            options.headers.signature = auth.Signature;
          },
        ],
      },
    });
  }

  /** PUT /customers/:uuid. */
  async putCustomer(
    uuid: string,
    update: WonderCustomerUpdate,
    options: WonderRequestOptions,
  ): Promise<WonderCustomer> {
    const body = JSON.stringify(toPutCustomerBody(update));
    const answer = await this.send('PUT', wonderPaths.customer(uuid), body, options, 'putCustomer');
    return readCustomer(interpretWonderAnswer(answer, 'putCustomer'), 'putCustomer');
  }

  /** GET /customers/ref/:id (a read: the request id is made here when not given). */
  async getCustomerByReference(
    referenceNumber: string,
    options: Partial<WonderRequestOptions> = {},
  ): Promise<WonderCustomer> {
    const answer = await this.readByReference(referenceNumber, options);
    return readCustomer(interpretWonderAnswer(answer, 'getCustomerByRef'), 'getCustomerByRef');
  }

  /**
   * GET /customers/ref/:id, answering undefined when the gateway says no customer carries the reference:
   * for the ownership check before a PUT, where that is an answer (the uuid is not this customer's record),
   * not a failure of the call.
   */
  async findCustomerByReference(
    referenceNumber: string,
    options: Partial<WonderRequestOptions> = {},
  ): Promise<WonderCustomer | undefined> {
    const answer = await this.readByReference(referenceNumber, options);
    if (isNoSuchCustomer(answer)) return undefined;
    return readCustomer(interpretWonderAnswer(answer, 'getCustomerByRef'), 'getCustomerByRef');
  }

  /** Signed POST /echo: checks the credential and signature without side effects; answers the data. */
  async echo(message: string, options: Partial<WonderRequestOptions> = {}): Promise<unknown> {
    const body: EchoRequestBody = { message };
    const full = { ...options, requestId: options.requestId ?? randomUUID() };
    const answer = await this.send('POST', wonderPaths.echo, JSON.stringify(body), full, 'echo');
    return interpretWonderAnswer(answer, 'echo');
  }

  private readByReference(
    referenceNumber: string,
    options: Partial<WonderRequestOptions>,
  ): Promise<WonderHttpAnswer> {
    // A read of its own X-Request-ID, never the PUT's: the gateway's idempotency on that header is not
    // documented, and a PUT answered from a remembered GET would be a write silently not made.
    const full = { ...options, requestId: options.requestId ?? randomUUID() };
    const path = wonderPaths.customerByRef(referenceNumber);
    return this.send('GET', path, undefined, full, 'getCustomerByRef');
  }

  /** Closes the keep-alive sockets. */
  close(): void {
    this.#transport.close();
  }

  /** One signed request: its answer, whatever its status, or the failure of an exchange without one. */
  private async send(
    method: Method,
    path: string,
    body: string | undefined,
    options: WonderRequestOptions,
    operation: string,
  ): Promise<WonderHttpAnswer> {
    const headers: Record<string, string> = { 'x-request-id': options.requestId };
    if (options.lang) headers['x-i18n-lang'] = options.lang;
    try {
      // Signed as the API path alone, as Wonder's SDK does: a prefix in the base URL belongs to whatever
      // sits in front of the gateway and strips it, so the gateway never sees it.
      const response = await this.#http(path.replace(/^\/+/, ''), {
        method,
        headers,
        context: { signedUri: path },
        ...(body !== undefined ? { body } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return { statusCode: response.statusCode, headers: response.headers, body: response.body };
    } catch (err) {
      throw transportFailure(`Wonder ${operation}`, err);
    }
  }
}

export function createWonderClient(config: WonderConfig, deps: WonderClientDeps = {}): WonderClient {
  return new WonderClient(config, deps);
}
