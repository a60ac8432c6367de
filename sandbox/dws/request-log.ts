/** Every provider call the sandbox saw and how it ended: no codes, PINs, phones or emails. */
import type { DwsApi, ResultCode, ResultStatus } from '../../activities/dws/types.js';
import type { FaultPhase, LossyFaultKind } from '../faults.js';

export interface RequestLogEntry {
  /** absent when the path named no API */
  api?: DwsApi;
  method: string;
  path: string;
  requestId?: string;
  triggerRequestId?: string;
  authenticationId?: string;
  resultStatus?: ResultStatus;
  resultCode?: ResultCode | (string & {});
  /** the stored answer of an earlier call with the same id was sent again */
  replayed?: boolean;
  /** the caller did not get resultStatus/resultCode but this fault */
  fault?: { kind: LossyFaultKind; phase: FaultPhase };
  at: number;
}

const keep = 1000;

export class RequestLog {
  private readonly entries: RequestLogEntry[] = [];

  add(entry: RequestLogEntry): void {
    this.entries.push(entry);
    if (this.entries.length > keep) this.entries.splice(0, this.entries.length - keep);
  }

  /** Oldest first. */
  list(filter: { api?: string } = {}): RequestLogEntry[] {
    return this.entries
      .filter((e) => filter.api === undefined || e.api === filter.api)
      .map((e) => ({ ...e }));
  }

  clear(): void {
    this.entries.length = 0;
  }
}

function shortString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= 64 ? value : undefined;
}

/** The identifiers worth logging from a raw body, best effort: a body that does not parse yields none. */
export function idsForLog(
  api: DwsApi,
  rawBody: string,
): Pick<RequestLogEntry, 'requestId' | 'triggerRequestId' | 'authenticationId'> {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return {};
  }
  if (typeof body !== 'object' || body === null) return {};
  const fields = body as Record<string, unknown>;
  const ids = {
    requestId: api === 'triggerChallenge' ? undefined : shortString(fields.requestId),
    triggerRequestId: api === 'triggerChallenge' ? shortString(fields.triggerRequestId) : undefined,
    authenticationId: shortString(api === 'triggerChallenge' ? fields.challengeId : fields.authenticationId),
  };
  return Object.fromEntries(Object.entries(ids).filter(([, v]) => v !== undefined));
}
