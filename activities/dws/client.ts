/**
 * The DWS HTTP client: one got instance per configuration, with the request signature added by a
 * beforeRequest hook and the response signature checked by an afterResponse hook, so no call can skip
 * either. got retries nothing: Temporal owns retries, and each call's idempotency key is the caller's.
 */
import type { AfterResponseHook, BeforeRequestHook, Got, Response } from 'got';
import { isTransientHttpStatus } from '../shared/errors.js';
import { providerHttp, type ProviderHttp } from '../shared/provider-http.js';
import type { DwsConfig } from './config.js';
import {
  dwsOutcome,
  invalidResponseSignature,
  parseDwsAnswer,
  successOrThrow,
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
  readonly #transport: ProviderHttp;
  readonly #verified = new WeakSet<Response>();
  readonly #http: Got;

  constructor(config: DwsConfig) {
    this.clientId = config.clientId;
    this.#transport = providerHttp(config.baseUrl, config.timeouts);
    this.#http = this.#transport.got.extend({
      method: 'POST',
      hooks: {
        beforeRequest: [signRequest(config)],
        afterResponse: [checkResponseSignature(config, this.#verified)],
      },
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
    let response: Response<string>;
    try {
      response = await post(this.#http, pathFor(api, this.clientId), body, api, options);
    } catch (error) {
      return successOrThrow(dwsOutcome<T>(api, { kind: 'error', error }));
    }
    const answer =
      this.#verified.has(response) && !isTransientHttpStatus(response.statusCode)
        ? parseDwsAnswer<T>(response.body)
        : undefined;
    if (answer) return answer;
    return successOrThrow(dwsOutcome<T>(api, { kind: 'http', statusCode: response.statusCode }));
  }
}

function post(
  instance: Got,
  path: string,
  body: string,
  api: DwsApi,
  options: DwsCallOptions | undefined,
): Promise<Response<string>> {
  // prefixUrl requires a relative url; the leading slash comes back when got joins them.
  return instance.post(path.replace(/^\//, ''), {
    body,
    context: { api },
    ...(options?.signal ? { signal: options.signal } : {}),
  }) as Promise<Response<string>>;
}

/** The path as actually called (any path prefix in the base URL included): what DWS verifies against. */
function calledPath(url: URL | string | undefined): string {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  if (!parsed) throw new TypeError('a DWS request has no URL');
  return parsed.pathname + parsed.search;
}

function signRequest(config: DwsConfig): BeforeRequestHook {
  return (options) => {
    if (typeof options.body !== 'string') throw new TypeError('a DWS request body must be a JSON string');
    const time = String(Date.now());
    options.headers['content-type'] = 'application/json; charset=UTF-8';
    options.headers['client-id'] = config.clientId;
    options.headers['request-time'] = time;
    options.headers['signature'] = signMessage({
      method: options.method,
      path: calledPath(options.url),
      clientId: config.clientId,
      time,
      body: options.body,
      privateKey: config.privateKey,
      keyVersion: config.keyVersion,
    });
  };
}

function checkResponseSignature(config: DwsConfig, verified: WeakSet<Response>): AfterResponseHook {
  return (response) => {
    // A 5xx, 408 or 429 is never read as an answer, signed or not: dwsOutcome retries it by its status.
    if (isTransientHttpStatus(response.statusCode)) return response;
    const body = typeof response.body === 'string' ? response.body : '';
    const signed = verifyMessage({
      method: response.request.options.method,
      path: calledPath(response.requestUrl),
      clientId: config.clientId,
      time: headerValue(response.headers['response-time']),
      body,
      signatureHeader: headerValue(response.headers['signature']) || undefined,
      publicKey: config.providerPublicKey,
    });
    if (signed) {
      verified.add(response);
      return response;
    }
    const claimed = parseDwsAnswer(body);
    // An unsigned 4xx page that does not pretend to be DWS's answer is mapped by its status instead.
    if (claimed || response.statusCode < 400) {
      const api = (response.request.options.context as { api?: DwsApi }).api;
      throw invalidResponseSignature(api, response.statusCode, claimed?.result);
    }
    return response;
  };
}

function headerValue(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? '';
}
