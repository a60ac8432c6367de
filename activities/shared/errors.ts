/**
 * What an HTTP call to any provider can throw, mapped once to Temporal's retry decision. The got instances
 * retry nothing (Temporal owns retries, one layer only), so every failure leaving an activity must say
 * whether another attempt can help. Each provider call carries an idempotency key that every retry reuses,
 * which is what makes retrying after a timeout safe even when the provider may already have acted.
 */
import { ApplicationFailure } from '@temporalio/common';
import { HTTPError, RequestError, TimeoutError } from 'got';

export const transportFailureTypes = {
  timeout: 'TIMEOUT',
  network: 'NETWORK_ERROR',
  tls: 'TLS_ERROR',
  aborted: 'ABORTED',
  unexpected: 'UNEXPECTED_ERROR',
} as const;

/** Statuses that are never a provider's answer but a busy or broken path to it, so a retry can help. */
export function isTransientHttpStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** An HTTP status that came without a provider result: retryable when transient, final otherwise. */
export function httpStatusFailure(label: string, status: number): ApplicationFailure {
  const type = `HTTP_${status}`;
  const message = `${label} answered HTTP ${status} without a result`;
  return isTransientHttpStatus(status)
    ? ApplicationFailure.retryable(message, type, { httpStatus: status })
    : ApplicationFailure.nonRetryable(message, type, { httpStatus: status });
}

// A certificate that does not verify is a configuration problem or an interception, not a hiccup.
const TLS_CERTIFICATE_CODES =
  /^(ERR_TLS_CERT|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/;

/**
 * Maps anything a got call rejected with. `label` names the call in messages (e.g. `DWS modifyCustomer`);
 * messages never carry the request, only what failed and where.
 */
export function transportFailure(label: string, error: unknown): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof RequestError) {
    if (error instanceof HTTPError) return httpStatusFailure(label, error.response.statusCode);
    if (error instanceof TimeoutError) {
      return ApplicationFailure.retryable(
        `${label} timed out waiting for ${error.event}`,
        transportFailureTypes.timeout,
        { phase: error.event },
      );
    }
    if (error.name === 'AbortError') {
      return ApplicationFailure.retryable(`${label} was aborted`, transportFailureTypes.aborted);
    }
    if (TLS_CERTIFICATE_CODES.test(error.code)) {
      return ApplicationFailure.nonRetryable(
        `${label} failed: the server certificate does not verify (${error.code})`,
        transportFailureTypes.tls,
        { code: error.code },
      );
    }
    return ApplicationFailure.retryable(
      `${label} failed before an answer arrived (${error.code})`,
      transportFailureTypes.network,
      { code: error.code },
    );
  }
  return unexpectedFailure(label, error);
}

/** Our own bug or an unforeseen error: retryable, so a fix can be deployed while the workflow waits. */
export function unexpectedFailure(label: string, error: unknown): ApplicationFailure {
  const name = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return ApplicationFailure.retryable(
    `${label} failed unexpectedly (${name})`,
    transportFailureTypes.unexpected,
  );
}
