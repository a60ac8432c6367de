/**
 * Keeps what an operator sees in step with the flow: the state (query), the timeline, the search
 * attribute `VerificationStep` and the UI's current details, written together so they never disagree.
 */
import { log, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import {
  verificationOutcomeKey,
  verificationResultCodeKey,
  verificationStepKey,
} from './search-attributes.js';
import { describeState } from './state-details.js';
import type { OutcomeStatus, VerificationState, VerificationStep } from './types.js';

export class FlowJournal {
  constructor(readonly state: VerificationState) {}

  enter(step: VerificationStep): void {
    if (this.state.step === step && this.state.timeline.length > 0) return;
    this.state.step = step;
    // One structured line per step (ids only); the SDK drops it during replay.
    log.info('step', { step, customerId: this.state.customerId, round: this.state.round });
    upsertSearchAttributes([{ key: verificationStepKey, value: step }]);
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
    this.enter('DONE');
    this.record('DONE', `finished: ${status}`);
    upsertSearchAttributes([
      { key: verificationOutcomeKey, value: status },
      ...(resultCode ? [{ key: verificationResultCodeKey, value: resultCode }] : []),
    ]);
  }
}
