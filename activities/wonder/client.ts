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
import { ApplicationFailure } from '@temporalio/common';
import type { Got, Method } from 'got';
import { providerHttp, type ProviderHttp } from '../shared/provider-http.js';
import type { WonderConfig } from './config.js';
import { generateNonce, signRequest } from './signing.js';
import {
  interpretWonderAnswer,
  wonderFailureTypes,
  wonderTransportFailure,
  type WonderHttpAnswer,
} from './outcomes.js';
import { toPutCustomerBody } from './update.js';
import {
  wonderPaths,
  type EchoRequestBody,
  type WonderCustomer,
  type WonderCustomerUpdate,
  type WonderLang,
} from './types.js';

export interface WonderRequestOptions {
  /** X-Request-ID: the idempotency key, made once per logical call and reused by every retry */
  requestId: string;
  /** x-i18n-lang: the language of the provider's messages */
  lang?: WonderLang;
  /** aborts the exchange, e.g. the activity's cancellation signal */
  signal?: AbortSignal | undefined;
}

export interface WonderClientDeps {
  /** the clock the Credential time is read from */
  now?: () => Date;
  nonce?: () => string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** data.customer with the fields the workflow relies on; a success without them is a malformed answer. */
function readCustomer(data: unknown, operation: string): WonderCustomer {
  const customer = isRecord(data) ? data.customer : undefined;
  if (
    isRecord(customer) &&
    typeof customer.uuid === 'string' &&
    typeof customer.reference_number === 'string'
  ) {
    return customer as unknown as WonderCustomer;
  }
  throw ApplicationFailure.create({
    message: `Wonder ${operation}: success answer without data.customer.uuid and reference_number`,
    type: wonderFailureTypes.malformedAnswer,
    nonRetryable: false,
    details: [{ operation, httpStatus: 200 }],
  });
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
    this.#transport = providerHttp(config.baseUrl, config.timeouts);
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
    const full = { ...options, requestId: options.requestId ?? randomUUID() };
    const path = wonderPaths.customerByRef(referenceNumber);
    const answer = await this.send('GET', path, undefined, full, 'getCustomer');
    return readCustomer(interpretWonderAnswer(answer, 'getCustomer'), 'getCustomer');
  }

  /** Signed POST /echo: checks the credential and signature without side effects; answers the data. */
  async echo(message: string, options: Partial<WonderRequestOptions> = {}): Promise<unknown> {
    const body: EchoRequestBody = { message };
    const full = { ...options, requestId: options.requestId ?? randomUUID() };
    const answer = await this.send('POST', wonderPaths.echo, JSON.stringify(body), full, 'echo');
    return interpretWonderAnswer(answer, 'echo');
  }

  /** Closes the keep-alive sockets. */
  close(): void {
    this.#transport.close();
  }

  /** One signed request; a transport error comes back as an ApplicationFailure (shared rules). */
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
      throw wonderTransportFailure(err, operation);
    }
  }
}

export function createWonderClient(config: WonderConfig, deps: WonderClientDeps = {}): WonderClient {
  return new WonderClient(config, deps);
}
