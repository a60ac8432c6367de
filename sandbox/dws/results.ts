/** The `result` every DWS answer carries, and the answers the sandbox gives most often. */
import type { Result, ResultCode } from '../../activities/dws/types.js';

export type DwsAnswer = { result: Result } & Record<string, unknown>;

export function success(): Result {
  return { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success.' };
}

export function failure(resultCode: ResultCode, resultMessage: string): Result {
  return { resultCode, resultStatus: 'F', resultMessage };
}

export function failed(resultCode: ResultCode, resultMessage: string): DwsAnswer {
  return { result: failure(resultCode, resultMessage) };
}

export function unknownOutcome(kind: 'unknown' | 'trafficLimit'): DwsAnswer {
  return kind === 'unknown'
    ? { result: { resultCode: 'UNKNOWN_EXCEPTION', resultStatus: 'U', resultMessage: 'unknown exception.' } }
    : {
        result: {
          resultCode: 'REQUEST_TRAFFIC_EXCEED_LIMIT',
          resultStatus: 'U',
          resultMessage: 'Request traffic exceeds the limit.',
        },
      };
}
