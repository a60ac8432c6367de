/**
 * Wonder answers and transport errors mapped, in one place, to a value or to an ApplicationFailure whose
 * retryability Temporal acts on (got's own retry is off: one retry layer only).
 *
 * Success code. The public reference pages give `code` as a number, and every response example for the
 * customer, order and list APIs shows `"code": 0`; error bodies carry strings such as "E000002". So 0 is
 * success, and the sandbox answers 0. 200 is accepted as success too: some gateways echo the HTTP status
 * there, and failing an applied update for that reason would be worse than the (unseen) alternative. The
 * older envelope's `error_code` counts as success when it is absent, "" or one of those values.
 *
 *   HTTP 200 + success code                 -> the data
 *   HTTP 200 + any other code               -> non-retryable, type WONDER_<code>
 *   HTTP 200 + unreadable body              -> retryable WONDER_MALFORMED_ANSWER (a retry reuses X-Request-ID)
 *   400                                     -> non-retryable WONDER_INVALID_PARAMETERS
 *   401, 403                                -> non-retryable WONDER_UNAUTHORIZED
 *   404                                     -> non-retryable WONDER_NOT_FOUND
 *   409 (X-Request-ID reused, other body)   -> non-retryable WONDER_REQUEST_ID_CONFLICT
 *   408                                     -> retryable WONDER_HTTP_408
 *   429                                     -> retryable WONDER_RATE_LIMITED (Retry-After honoured)
 *   5xx                                     -> retryable WONDER_SERVER_ERROR
 *   other 4xx                               -> non-retryable WONDER_HTTP_<status>
 *   no answer (timeouts, connection errors) -> activities/shared/errors.ts, shared with DWS: retryable
 *                                              TIMEOUT / NETWORK_ERROR, non-retryable TLS_ERROR
 *
 * The ownership read before a PUT (GET /customers/ref/:id) adds one refusal of ours: the record found
 * under the merchant's reference_number is not the uuid about to be written, or no record carries that
 * reference (a 404 in Wonder's envelope) -> non-retryable WONDER_CUSTOMER_MISMATCH, and no PUT is sent.
 *
 * Messages carry the provider's message with anything that looks like an email address or a phone
 * number masked (activities/shared/mask.ts): they end up in workflow history and logs.
 */
import { ApplicationFailure } from '@temporalio/common';
import { redactContacts } from '../shared/mask.js';
import type { Outcome } from '../shared/provider-call.js';
import type { PutWonderCustomerResult, WonderCustomer, WonderCustomerUpdate } from './types.js';
import { describeUpdate } from './update.js';

export const wonderFailureTypes = {
  /** refused locally, before any request: the update, the customer uuid or the request id */
  invalidInput: 'WONDER_INVALID_INPUT',
  invalidParameters: 'WONDER_INVALID_PARAMETERS',
  unauthorized: 'WONDER_UNAUTHORIZED',
  notFound: 'WONDER_NOT_FOUND',
  requestIdConflict: 'WONDER_REQUEST_ID_CONFLICT',
  rateLimited: 'WONDER_RATE_LIMITED',
  serverError: 'WONDER_SERVER_ERROR',
  malformedAnswer: 'WONDER_MALFORMED_ANSWER',
  /** ours: the record at the uuid does not carry the customer's reference_number; nothing was written */
  customerMismatch: 'WONDER_CUSTOMER_MISMATCH',
} as const;

/** The non-retryable types a workflow's retry policy can list; `WONDER_<code>` and `WONDER_HTTP_<n>` add to it. */
export const nonRetryableWonderFailureTypes: readonly string[] = [
  wonderFailureTypes.invalidInput,
  wonderFailureTypes.invalidParameters,
  wonderFailureTypes.unauthorized,
  wonderFailureTypes.notFound,
  wonderFailureTypes.requestIdConflict,
  wonderFailureTypes.customerMismatch,
];

const SUCCESS_CODES: ReadonlySet<unknown> = new Set([0, '0', 200, '200']);
const MAX_RETRY_AFTER_MS = 5 * 60_000;
const MAX_MESSAGE_LENGTH = 200;

/** What the client hands over: status, headers and the raw text (not yet parsed). */
export interface WonderHttpAnswer {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface NormalizedEnvelope {
  code: unknown;
  message: string;
  data: unknown;
}

/** Details attached to every failure: enough to find the call in the provider's logs, nothing personal. */
export interface WonderFailureDetails {
  operation: string;
  httpStatus?: number;
  providerCode?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Either envelope, or undefined when the text is not a JSON object carrying one of them. */
export function parseEnvelope(text: string): NormalizedEnvelope | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed)) return undefined;
  if ('code' in parsed) {
    return { code: parsed.code, message: String(parsed.message ?? ''), data: parsed.data };
  }
  if ('error_code' in parsed || 'error_message' in parsed) {
    const code = parsed.error_code;
    // The older envelope leaves error_code empty on success.
    return {
      code: code === undefined || code === null || code === '' ? 0 : code,
      message: String(parsed.error_message ?? ''),
      data: parsed.data,
    };
  }
  return undefined;
}

export function isSuccessCode(code: unknown): boolean {
  return SUCCESS_CODES.has(code);
}

/** The provider's message with contact data masked and its length capped. */
export function redactProviderMessage(message: string): string {
  const masked = redactContacts(message);
  return masked.length > MAX_MESSAGE_LENGTH ? `${masked.slice(0, MAX_MESSAGE_LENGTH)}…` : masked;
}

/** WONDER_<code> with the code reduced to [A-Z0-9_], so it is a usable retry-policy type. */
export function failureTypeForCode(code: unknown): string {
  const cleaned = String(code)
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return `WONDER_${cleaned || 'UNKNOWN_CODE'}`;
}

function header(answer: WonderHttpAnswer, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

function failure(args: {
  operation: string;
  type: string;
  retryable: boolean;
  message: string;
  httpStatus?: number;
  providerCode?: unknown;
  nextRetryDelayMs?: number | undefined;
}): ApplicationFailure {
  const details: WonderFailureDetails = { operation: args.operation };
  if (args.httpStatus !== undefined) details.httpStatus = args.httpStatus;
  if (args.providerCode !== undefined && args.providerCode !== null)
    details.providerCode = String(args.providerCode);
  return ApplicationFailure.create({
    message: `Wonder ${args.operation}: ${args.message}`,
    type: args.type,
    nonRetryable: !args.retryable,
    details: [details],
    ...(args.nextRetryDelayMs !== undefined ? { nextRetryDelay: args.nextRetryDelayMs } : {}),
  });
}

/** The `data` of a successful answer; throws the mapped ApplicationFailure for anything else. */
export function interpretWonderAnswer(answer: WonderHttpAnswer, operation: string): unknown {
  const { statusCode } = answer;
  const envelope = parseEnvelope(answer.body);
  const providerMessage = envelope?.message ? redactProviderMessage(envelope.message) : undefined;
  const said = (fallback: string) => providerMessage || fallback;
  const base = { operation, httpStatus: statusCode, providerCode: envelope?.code };

  if (statusCode === 200) {
    if (!envelope) {
      return fail({
        ...base,
        type: wonderFailureTypes.malformedAnswer,
        retryable: true,
        message: 'unreadable answer',
      });
    }
    if (isSuccessCode(envelope.code)) return envelope.data;
    return fail({
      ...base,
      type: failureTypeForCode(envelope.code),
      retryable: false,
      message: said(`refused with code ${String(envelope.code)}`),
    });
  }
  if (statusCode === 400) {
    return fail({
      ...base,
      type: wonderFailureTypes.invalidParameters,
      retryable: false,
      message: said('invalid parameters'),
    });
  }
  if (statusCode === 401 || statusCode === 403) {
    return fail({
      ...base,
      type: wonderFailureTypes.unauthorized,
      retryable: false,
      message: said('credential or signature refused'),
    });
  }
  if (statusCode === 404) {
    return fail({ ...base, type: wonderFailureTypes.notFound, retryable: false, message: said('not found') });
  }
  if (statusCode === 409) {
    return fail({
      ...base,
      type: wonderFailureTypes.requestIdConflict,
      retryable: false,
      message: said('X-Request-ID already used for different content'),
    });
  }
  if (statusCode === 408) {
    return fail({
      ...base,
      type: 'WONDER_HTTP_408',
      retryable: true,
      message: said('request timeout'),
    });
  }
  if (statusCode === 429) {
    return fail({
      ...base,
      type: wonderFailureTypes.rateLimited,
      retryable: true,
      message: said('rate limited'),
      nextRetryDelayMs: retryAfterMs(header(answer, 'retry-after')),
    });
  }
  if (statusCode >= 500) {
    return fail({
      ...base,
      type: wonderFailureTypes.serverError,
      retryable: true,
      message: said(`HTTP ${statusCode}`),
    });
  }
  return fail({
    ...base,
    type: `WONDER_HTTP_${statusCode}`,
    retryable: false,
    message: said(`HTTP ${statusCode}`),
  });
}

function fail(args: Parameters<typeof failure>[0]): never {
  throw failure(args);
}

/** data.customer with the fields the workflow relies on; a success without them is a malformed answer. */
export function readCustomer(data: unknown, operation: string): WonderCustomer {
  const customer = isRecord(data) ? data.customer : undefined;
  if (
    isRecord(customer) &&
    typeof customer.uuid === 'string' &&
    typeof customer.reference_number === 'string'
  ) {
    return customer as unknown as WonderCustomer;
  }
  return fail({
    operation,
    httpStatus: 200,
    type: wonderFailureTypes.malformedAnswer,
    retryable: true,
    message: 'success answer without data.customer.uuid and reference_number',
  });
}

/**
 * A 404 in Wonder's own envelope: the gateway looked and no customer carries the reference. A bare 404 (a
 * wrong base URL or a proxy) is not that, and stays WONDER_NOT_FOUND, so a misconfiguration never reads
 * as a wrong customer.
 */
export function isNoSuchCustomer(answer: WonderHttpAnswer): boolean {
  return answer.statusCode === 404 && parseEnvelope(answer.body) !== undefined;
}

/**
 * The ownership read as a verdict on the write it guards: the request itself when the record Wonder keeps
 * under the reference_number is the uuid to be written, WONDER_CUSTOMER_MISMATCH otherwise. The message
 * names the uuid the caller gave and never the uuid that does carry the reference: a caller must not learn
 * another customer's record by guessing references.
 */
export function ownershipOutcome<Request extends { uuid: string; referenceNumber: string }>(
  holder: WonderCustomer | undefined,
  request: Request,
): Outcome<Request> {
  if (holder?.uuid === request.uuid && holder.reference_number === request.referenceNumber) {
    return { ok: true, value: request };
  }
  const why = holder
    ? `the Wonder customer ${request.uuid} does not carry the reference_number named for this customer`
    : 'no Wonder customer carries the reference_number named for this customer';
  return {
    ok: false,
    failure: failure({
      operation: 'getCustomerByRef',
      type: wonderFailureTypes.customerMismatch,
      retryable: false,
      message: `${why}; nothing was written`,
      httpStatus: holder ? 200 : 404,
    }),
  };
}

/** The activity's value: identifiers and field names only, since it enters workflow history. */
export function putCustomerOutcome(
  customer: WonderCustomer,
  update: WonderCustomerUpdate,
): Outcome<PutWonderCustomerResult> {
  const { changed, cleared } = describeUpdate(update);
  return {
    ok: true,
    value: {
      customer: { uuid: customer.uuid, reference_number: customer.reference_number, changed, cleared },
    },
  };
}
