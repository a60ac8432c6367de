/**
 * The DWS HTTP client: one got instance per configuration, with the request signature added by a
 * beforeRequest hook, and the response signature checked in the one method every call goes through, right
 * after the answer arrives, so no call can skip either. got retries nothing: Temporal owns retries, and
 * each call's idempotency key is the caller's.
 */
import type { BeforeRequestHook, Got, Response } from 'got';
import { httpStatusFailure, isTransientHttpStatus, transportFailure } from '../shared/errors.js';
import { providerHttp, type ProviderHttp } from '../shared/provider-http.js';
import type { DwsConfig } from './config.js';
import {
  answerWithoutResult,
  invalidResponseSignature,
  parseDwsAnswer,
  type DwsResponse,
} from './outcomes.js';
import { signMessage, verifyMessage } from './signing.js';
import {
  pathFor,
  type DwsApi,
  type ModifyCustomerRequest,
  type ModifyCustomerResponse,
  type TriggerChallengeRequest,
  type TriggerChallengeResponse,
  type VerifyAndResumeRequest,
  type VerifyAndResumeResponse,
} from './types.js';

export interface DwsCallOptions {
  /** aborts the exchange, e.g. the activity's cancellation signal */
  signal?: AbortSignal;
}

/**
 * Each method resolves with DWS's signed answer, whatever its resultStatus (S, F or U), and rejects with an
 * ApplicationFailure (see outcomes.ts) when there is no answer to trust: network errors, timeouts, HTTP
 * errors without a result, and answers whose signature does not verify.
 */
export class DwsClient {
  readonly clientId: string;
  readonly #config: DwsConfig;
  readonly #transport: ProviderHttp;
  readonly #http: Got;

  constructor(config: DwsConfig) {
    this.clientId = config.clientId;
    this.#config = config;
    this.#transport = providerHttp('DWS', config.baseUrl, config.timeouts);
    this.#http = this.#transport.got.extend({
      method: 'POST',
      hooks: { beforeRequest: [signRequest(config)] },
    });
  }

  modifyCustomer(request: ModifyCustomerRequest, options?: DwsCallOptions): Promise<ModifyCustomerResponse> {
    return this.#call('modifyCustomer', request, options);
  }

  triggerChallenge(
    request: TriggerChallengeRequest,
    options?: DwsCallOptions,
  ): Promise<TriggerChallengeResponse> {
    return this.#call('triggerChallenge', request, options);
  }

  verifyAndResume(
    request: VerifyAndResumeRequest,
    options?: DwsCallOptions,
  ): Promise<VerifyAndResumeResponse> {
    return this.#call('verifyAndResume', request, options);
  }

  /** Releases the keep-alive sockets. */
  close(): void {
    this.#transport.close();
  }

  async #call<T extends DwsResponse>(api: DwsApi, request: object, options?: DwsCallOptions): Promise<T> {
    // Serialised once: these exact bytes are signed and sent.
    const body = JSON.stringify(request);
    // The API path, not the URL's: like the official SDKs, the signature leaves out any prefix in the base
    // URL, which a gateway in front of DWS strips before DWS checks the signature.
    const path = pathFor(api, this.clientId);
    let response: Response<string>;
    try {
      response = (await this.#http.post(path.slice(1), {
        body,
        context: { signedPath: path },
        ...(options?.signal ? { signal: options.signal } : {}),
      })) as Response<string>;
    } catch (error) {
      throw transportFailure(`DWS ${api}`, error);
    }
    // A 5xx, 408 or 429 is never read as an answer, signed or not: it is retried by its status.
    if (isTransientHttpStatus(response.statusCode))
      throw httpStatusFailure(`DWS ${api}`, response.statusCode);
    const claimed = parseDwsAnswer<T>(response.body);
    if (!this.#signedByDws(path, response)) {
      throw invalidResponseSignature(api, response.statusCode, claimed?.result);
    }
    if (!claimed) throw answerWithoutResult(api, response.statusCode);
    return claimed;
  }

  #signedByDws(path: string, response: Response<string>): boolean {
    return verifyMessage({
      method: 'POST',
      path,
      clientId: this.#config.clientId,
      time: headerValue(response.headers['response-time']),
      body: response.body,
      signatureHeader: headerValue(response.headers['signature']) || undefined,
      publicKey: this.#config.providerPublicKey,
    });
  }
}

function signRequest(config: DwsConfig): BeforeRequestHook {
  return (options) => {
    if (typeof options.body !== 'string') throw new TypeError('a DWS request body must be a JSON string');
    const { signedPath } = options.context as { signedPath?: string };
    if (!signedPath) throw new TypeError('a DWS request must name the API path it signs');
    const time = String(Date.now());
    options.headers['content-type'] = 'application/json; charset=UTF-8';
    options.headers['client-id'] = config.clientId;
    options.headers['request-time'] = time;
    options.headers['signature'] = signMessage({
      method: options.method,
      path: signedPath,
      clientId: config.clientId,
      time,
      body: options.body,
      privateKey: config.privateKey,
      keyVersion: config.keyVersion,
    });
  };
}

function headerValue(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? '';
}
