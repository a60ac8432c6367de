/**
 * The journey every workflow here shares around the challenge: the state an operator reads, the journal
 * that keeps it in step with the search attributes, the challenge session, and the ways a flow ends
 * (rejected, cancelled, expired, out of attempts, or its own success), each through `finish()`.
 * A workflow function builds one, sets the message handlers itself (so a reader of the workflow sees
 * them; samples-typescript's safe-message-handlers) and keeps only its own business steps.
 */
import { CancellationScope, isCancellation, log, condition } from '@temporalio/workflow';
import { ChallengeSession, type Possession } from './challenge-session.js';
import { FlowJournal } from './flow-journal.js';
import { clampPolicy, type InputProblem } from './input-contract.js';
import { PatchAsks } from './patch-asks.js';
import { patches } from './patches.js';
import { providerFailure, sendBudgetFailure } from './provider-failure.js';
import {
  defaultPolicy,
  type ChallengeAnswer,
  type OutcomeStatus,
  type UnprovenStatus,
  type VerificationPolicy,
  type VerificationState,
  type VerificationStep,
} from './types.js';

/** Every outcome names what the flow changed (its identity) and carries the timeline. */
type Reported<Id> = Id & Pick<VerificationState, 'timeline'>;

/** The outcomes every journey can end with besides its own success. */
export type JourneyEnd<Id> = Reported<Id> &
  (
    | { status: 'CANCELLED'; reason?: string }
    | { status: Exclude<UnprovenStatus, 'CANCELLED'> }
    | {
        status: 'REJECTED';
        resultCode: string;
        resultMessage: string;
        failedStep: VerificationStep;
        retryAfterSeconds?: number;
        field?: string;
      }
  );

export interface JourneyStart {
  /** the caller's policy, over the defaults; held to the hard bounds (input-contract.ts) */
  policy?: Partial<VerificationPolicy> | undefined;
  /** what the workflow found wrong with its input (input-contract.ts), if anything */
  inputProblem?: InputProblem | undefined;
  /** the DWS customer who proves possession, if anyone does */
  customerId?: string | undefined;
  /** the Wonder customer record the flow changes, if any */
  wonderCustomerUuid?: string | undefined;
  firstStep: VerificationStep;
  wonderSync: VerificationState['wonderSync'];
}

/**
 * @typeParam Id - what the flow's outcome names it by (`{ customerId }`, `{ wonderCustomerUuid }`)
 * @typeParam Success - the workflow's own good outcome
 */
export class VerificationJourney<Id extends object, Success extends { status: OutcomeStatus }> {
  readonly state: VerificationState;
  readonly journal: FlowJournal;
  readonly session: ChallengeSession;
  /** asked first, before anything else the flow does (patch-asks.ts) */
  readonly patches: PatchAsks;
  #final: Success | JourneyEnd<Id> | undefined;
  readonly #inputProblem: InputProblem | undefined;

  constructor(
    /** the workflow's name in its log lines */
    private readonly name: string,
    private readonly id: Id,
    start: JourneyStart,
  ) {
    this.patches = new PatchAsks();
    const asked: VerificationPolicy = { ...defaultPolicy, ...start.policy };
    const bounded = clampPolicy(asked, defaultPolicy);
    // Asked only of a flow the check changes (malformed input, or a policy beyond the bounds), so flows
    // within the contract record no marker; flows that began before the check replay without it.
    const checked =
      (start.inputProblem !== undefined || bounded.clamped.length > 0) &&
      this.patches.takes(patches.checkedInput);
    const policy = checked ? bounded.policy : asked;
    this.#inputProblem = checked ? start.inputProblem : undefined;
    this.state = {
      ...(start.customerId ? { customerId: start.customerId } : {}),
      ...(start.wonderCustomerUuid ? { wonderCustomerUuid: start.wonderCustomerUuid } : {}),
      step: start.firstStep,
      round: 0,
      attemptsLeft: policy.maxVerifyAttempts,
      resendsLeft: policy.maxResends,
      wonderSync: start.wonderSync,
      timeline: [],
    };
    this.journal = new FlowJournal(this.state, this.patches);
    this.session = new ChallengeSession(this.journal, policy, this.patches);
    if (checked && !this.#inputProblem) {
      this.journal.record(this.state.step, `policy held to the bounds: ${bounded.clamped.join(', ')}`);
    }
  }

  /**
   * The end of a flow whose input is not what the wire contract says, before any provider call: a start
   * that bypassed the client library and the HTTP service. Undefined for a well-formed input.
   */
  refusedInput(): JourneyEnd<Id> | undefined {
    const problem = this.#inputProblem;
    if (!problem) return undefined;
    return { ...this.rejected('INVALID_INPUT', problem.message), field: problem.field };
  }

  /** the state query */
  readonly readState = (): VerificationState => this.state;

  /** The start's own answer (update-with-start): held until the code is on its way or the flow has ended. */
  readonly challengeSent = async (): Promise<ChallengeAnswer | { outcome: Success | JourneyEnd<Id> }> => {
    await condition(() => this.#final !== undefined || this.session.challengeOpen);
    return this.#final ? { outcome: this.#final } : this.session.challengeAnswer();
  };

  /** what every outcome of this flow carries */
  base(): Reported<Id> {
    return { ...this.id, timeline: this.state.timeline };
  }

  /** The user did not prove possession: the provider refused a round, or the challenge ended. */
  unproven(possession: Possession & { proven: false }): JourneyEnd<Id> {
    return possession.status === 'REJECTED'
      ? this.rejected(possession.resultCode, possession.resultMessage)
      : this.ended(possession.status);
  }

  /** A cancel that arrived once the user had proven possession, before the change was sent. */
  cancelled(): JourneyEnd<Id> {
    this.journal.note('cancelled');
    return this.ended('CANCELLED');
  }

  rejected(resultCode: string, resultMessage: string, retryAfterSeconds?: number): JourneyEnd<Id> {
    const failedStep = this.state.step;
    this.journal.note(`rejected: ${resultCode}`, resultCode);
    return {
      status: 'REJECTED',
      ...this.base(),
      resultCode,
      resultMessage,
      failedStep,
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    };
  }

  /**
   * The failures a journey answers with an outcome: an operator's cancel (Temporal cancellation) and a
   * provider's final "no", and the send budget's refusal (REJECTED SEND_BUDGET_EXCEEDED at CHALLENGING,
   * with when the customer may have a code again) or its outage past the retries (SEND_BUDGET_UNAVAILABLE).
   * Anything else is a bug and fails the workflow task, to be fixed and replayed.
   */
  async failed(err: unknown): Promise<JourneyEnd<Id>> {
    if (isCancellation(err)) {
      this.session.markCancelled('workflow cancelled by an operator');
      // Finishing awaits the handlers, which a cancelled scope would interrupt.
      return CancellationScope.nonCancellable(() => this.finish(this.cancelled()));
    }
    const failure: ReturnType<typeof sendBudgetFailure> = sendBudgetFailure(err) ?? this.providerNo(err);
    if (!failure) throw err;
    if (this.state.step === 'SYNCING_WONDER') this.state.wonderSync = 'FAILED';
    return this.finish(this.rejected(failure.code, failure.message, failure.retryAfterSeconds));
  }

  async finish<Final extends Success | JourneyEnd<Id>>(final: Final): Promise<Final> {
    // Set before the handlers are awaited: a start still waiting for its answer gets this outcome.
    this.#final = final;
    // Asked only for a REJECTED flow: the other outcomes' commands are unchanged and carry no marker.
    const resultCode =
      final.status === 'REJECTED' && 'resultCode' in final && this.patches.takes(patches.outcomeResultCode)
        ? final.resultCode
        : undefined;
    this.journal.close(final.status, resultCode);
    await this.session.close(final.status);
    log.info(`${this.name} finished`, { outcome: final.status, ...this.id });
    return final;
  }

  /**
   * A provider's final "no", as this run recognises it. Runs that began before patches.localUserCallFailures
   * did not recognise a local activity's (it arrives bare) and failed the workflow on it; they replay so.
   * Asked only for such a failure, so no other flow records the marker.
   */
  private providerNo(err: unknown): ReturnType<typeof providerFailure> {
    const failure = providerFailure(err);
    return failure?.bare && !this.patches.takes(patches.localUserCallFailures) ? undefined : failure;
  }

  private ended(status: UnprovenStatus): JourneyEnd<Id> {
    const reason = this.session.cancelReason;
    return status === 'CANCELLED'
      ? { status, ...this.base(), ...(reason ? { reason } : {}) }
      : { status, ...this.base() };
  }
}
