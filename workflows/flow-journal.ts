/**
 * Keeps what an operator sees in step with the flow: the state (query), the timeline, the search
 * attributes and the UI's current details, written together so they never disagree.
 *
 * Search attributes are written only where operators filter, because each upsert is a billable action
 * and a server write: `VerificationStep` becomes `AWAITING_INPUT` once, when the first code is out (the
 * start sets `CONSULTING` for free), and one upsert at the end carries `DONE`, the outcome and a REJECTED
 * flow's result code. Every step stays in the state query, the timeline and the current details.
 */
import { log, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { PatchAsks } from './patch-asks.js';
import { patches } from './patches.js';
import {
  verificationOutcomeKey,
  verificationResultCodeKey,
  verificationStepKey,
} from './search-attributes.js';
import { describeState } from './state-details.js';
import type { OutcomeStatus, VerificationState, VerificationStep } from './types.js';

/** The steps operators filter on; the start writes CONSULTING with the run, which costs nothing. */
const filteredSteps: ReadonlySet<VerificationStep> = new Set(['AWAITING_INPUT']);

export class FlowJournal {
  #whereFiltered: boolean | undefined;
  #upsertedStep: VerificationStep = 'CONSULTING';

  constructor(
    readonly state: VerificationState,
    private readonly patches: PatchAsks,
  ) {}

  /** Asked once, on the first step: histories from before the change keep their upsert on every step. */
  private get whereFiltered(): boolean {
    this.#whereFiltered ??= this.patches.takes(patches.searchAttributesWhereFiltered);
    return this.#whereFiltered;
  }

  enter(step: VerificationStep): void {
    if (this.state.step === step && this.state.timeline.length > 0) return;
    this.state.step = step;
    // One structured line per step (ids only); the SDK drops it during replay.
    log.info('step', {
      step,
      customerId: this.state.customerId,
      wonderCustomerUuid: this.state.wonderCustomerUuid,
      round: this.state.round,
    });
    if (!this.whereFiltered) {
      upsertSearchAttributes([{ key: verificationStepKey, value: step }]);
    } else if (filteredSteps.has(step) && this.#upsertedStep !== step) {
      upsertSearchAttributes([{ key: verificationStepKey, value: step }]);
      this.#upsertedStep = step;
    }
    setCurrentDetails(describeState(this.state));
  }

  note(event: string, resultCode?: string): void {
    if (resultCode) this.state.lastResultCode = resultCode;
    this.record(this.state.step, event, resultCode);
    setCurrentDetails(describeState(this.state));
  }

  record(step: VerificationStep, event: string, resultCode?: string): void {
    this.state.timeline.push({
      at: new Date().toISOString(),
      step,
      event,
      ...(resultCode ? { resultCode } : {}),
    });
  }

  /** `resultCode` goes into the outcome's own upsert: one command either way, so no extra billable action. */
  close(status: OutcomeStatus, resultCode?: string): void {
    this.state.outcome = status;
    const outcome = [
      { key: verificationOutcomeKey, value: status },
      ...(resultCode ? [{ key: verificationResultCodeKey, value: resultCode }] : []),
    ];
    if (this.whereFiltered) {
      this.enter('DONE');
      // Step, outcome and result code in one command: one action, however many attributes it sets.
      upsertSearchAttributes([{ key: verificationStepKey, value: 'DONE' }, ...outcome]);
      this.#upsertedStep = 'DONE';
    } else {
      this.enter('DONE');
      upsertSearchAttributes(outcome);
    }
    this.record('DONE', `finished: ${status}`);
  }
}
