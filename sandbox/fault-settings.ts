/**
 * What a simulator can be told to break, and the validation of settings that arrive over HTTP. Kept
 * apart from the Fastify wiring (faults.ts) so both simulators share one vocabulary.
 */

export const faultKinds = ['unknown', 'trafficLimit', 'serverError', 'drop', 'slow'] as const;
export type FaultKind = (typeof faultKinds)[number];
/** The kinds that lose or replace the answer; `slow` only delays it. */
export type LossyFaultKind = Exclude<FaultKind, 'slow'>;
export const lossyFaultKinds: readonly LossyFaultKind[] = ['unknown', 'trafficLimit', 'serverError', 'drop'];

/**
 * 'before': the fault happens instead of processing (nothing changes at the provider).
 * 'after': the call is processed (state changes, the answer is stored for idempotency) and then the
 * answer is lost or replaced, which is what a caller's retry has to survive.
 */
export type FaultPhase = 'before' | 'after';
export type ServerErrorStatus = 500 | 503;

export interface FailNextEntry<Api extends string = string> {
  /** only calls to this API consume the entry; any API when absent */
  api?: Api;
  kind: FaultKind;
  /** how many matching calls get the fault */
  count: number;
  /** overrides the per-kind phase */
  phase?: FaultPhase;
  /** serverError only; 503 when absent */
  status?: ServerErrorStatus;
}

export interface FaultSettings<Api extends string = string> {
  /** seeds the PRNG behind `rates`; setting it again restarts the sequence */
  seed: number;
  /** probability per call, 0..1; the lossy kinds together at most 1, `slow` drawn independently */
  rates: Partial<Record<FaultKind, number>>;
  /** extra delay of a `slow` fault */
  slowMs: number;
  /** fixed delay added to every call */
  latencyMs: number;
  /** per kind; 'before' when absent */
  phase: Partial<Record<FaultKind, FaultPhase>>;
  /** deterministic faults, consumed in order by matching calls before any rate is applied */
  failNext: FailNextEntry<Api>[];
}

export function defaultFaultSettings<Api extends string = string>(): FaultSettings<Api> {
  return { seed: 1, rates: {}, slowMs: 2000, latencyMs: 0, phase: {}, failNext: [] };
}

export class FaultSettingsError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'FaultSettingsError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFaultKind(value: unknown): value is FaultKind {
  return typeof value === 'string' && (faultKinds as readonly string[]).includes(value);
}

function isPhase(value: unknown): value is FaultPhase {
  return value === 'before' || value === 'after';
}

function nonNegativeInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new FaultSettingsError(field, 'must be a non-negative integer');
  }
  return value;
}

function parseRates(value: unknown): FaultSettings['rates'] {
  if (!isRecord(value)) throw new FaultSettingsError('rates', 'must be an object of kind: probability');
  const rates: FaultSettings['rates'] = {};
  for (const [kind, rate] of Object.entries(value)) {
    if (!isFaultKind(kind)) throw new FaultSettingsError(`rates.${kind}`, `unknown fault kind`);
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
      throw new FaultSettingsError(`rates.${kind}`, 'must be a number from 0 to 1');
    }
    rates[kind] = rate;
  }
  const lossyTotal = lossyFaultKinds.reduce((sum, kind) => sum + (rates[kind] ?? 0), 0);
  if (lossyTotal > 1) {
    throw new FaultSettingsError('rates', 'unknown + trafficLimit + serverError + drop must not exceed 1');
  }
  return rates;
}

function parsePhases(value: unknown): FaultSettings['phase'] {
  if (!isRecord(value))
    throw new FaultSettingsError('phase', "must be an object of kind: 'before' | 'after'");
  const phases: FaultSettings['phase'] = {};
  for (const [kind, phase] of Object.entries(value)) {
    if (!isFaultKind(kind)) throw new FaultSettingsError(`phase.${kind}`, 'unknown fault kind');
    if (!isPhase(phase)) throw new FaultSettingsError(`phase.${kind}`, "must be 'before' or 'after'");
    phases[kind] = phase;
  }
  return phases;
}

function parseFailNext<Api extends string>(
  value: unknown,
  apis: readonly Api[] | undefined,
): FailNextEntry<Api>[] {
  if (!Array.isArray(value)) throw new FaultSettingsError('failNext', 'must be an array');
  return value.map((raw: unknown, index) => {
    const at = `failNext[${index}]`;
    if (!isRecord(raw)) throw new FaultSettingsError(at, 'must be an object');
    if (!isFaultKind(raw.kind))
      throw new FaultSettingsError(`${at}.kind`, `must be one of ${faultKinds.join(', ')}`);
    const entry: FailNextEntry<Api> = { kind: raw.kind, count: 1 };
    if (raw.count !== undefined) {
      entry.count = nonNegativeInteger(raw.count, `${at}.count`);
      if (entry.count === 0) throw new FaultSettingsError(`${at}.count`, 'must be at least 1');
    }
    if (raw.api !== undefined) {
      if (typeof raw.api !== 'string' || (apis && !(apis as readonly string[]).includes(raw.api))) {
        throw new FaultSettingsError(
          `${at}.api`,
          apis ? `must be one of ${apis.join(', ')}` : 'must be a string',
        );
      }
      entry.api = raw.api as Api;
    }
    if (raw.phase !== undefined) {
      if (!isPhase(raw.phase)) throw new FaultSettingsError(`${at}.phase`, "must be 'before' or 'after'");
      entry.phase = raw.phase;
    }
    if (raw.status !== undefined) {
      if (raw.status !== 500 && raw.status !== 503)
        throw new FaultSettingsError(`${at}.status`, 'must be 500 or 503');
      entry.status = raw.status;
    }
    return entry;
  });
}

/**
 * Validates a partial settings object (from options or an HTTP body). Only the fields present are
 * returned; unknown fields are refused so a typo does not silently inject nothing.
 */
export function parseFaultSettings<Api extends string = string>(
  input: unknown,
  apis?: readonly Api[],
): Partial<FaultSettings<Api>> {
  if (!isRecord(input)) throw new FaultSettingsError('body', 'must be a JSON object');
  const patch: Partial<FaultSettings<Api>> = {};
  for (const [field, value] of Object.entries(input)) {
    switch (field) {
      case 'seed':
        patch.seed = nonNegativeInteger(value, 'seed');
        break;
      case 'slowMs':
      case 'latencyMs':
        patch[field] = nonNegativeInteger(value, field);
        break;
      case 'rates':
        patch.rates = parseRates(value);
        break;
      case 'phase':
        patch.phase = parsePhases(value);
        break;
      case 'failNext':
        patch.failNext = parseFailNext(value, apis);
        break;
      default:
        throw new FaultSettingsError(field, 'unknown setting');
    }
  }
  return patch;
}
