/**
 * The ceiling workflow writing the VerificationStep search attribute only where an operator looks for
 * stuck flows (AWAITING_INPUT) and at the end, instead of on every step: `bench/tune.ts` with
 * BENCH_CEILING_WORKFLOW=lean prices the per-step writes against the same server.
 */
import type { VerificationInput, VerificationOutcome } from '../workflows/types.js';
import { runCeiling } from './ceiling-workflow.js';

export async function verifyContactChange(input: VerificationInput): Promise<VerificationOutcome> {
  return runCeiling(input, ['AWAITING_INPUT', 'DONE']);
}
