/**
 * The calls both clients make on one workflow by id: the messages both workflows answer (code, resend,
 * cancel, state, outcome), each within the bound of ./outages.ts, and every SDK error turned into the
 * library's typed errors here, from the meaning ./temporal-errors.ts reads in it. With a caller, every
 * call first checks that the run is the caller's (see `Caller`).
 */
import { randomUUID } from 'node:crypto';
import { isGrpcDeadlineError, type Client, type WorkflowHandle } from '@temporalio/client';
import { callerMemoKey, callerNamePattern, defaultCallerName, submissionUpdateId } from '../workflows/ids.js';
import {
  cancelSignal,
  requestResendUpdate,
  stateQuery,
  submitOtpSignal,
  verifyOtpUpdate,
} from '../workflows/messages.js';
import type { OtpVerdict, ResendAnswer, VerificationState } from '../workflows/types.js';
import { requestKeySchema } from '../workflows/wire-schemas.js';
import {
  CodeNotForChallengeError,
  InvalidVerificationInputError,
  VerificationAlreadyRunningError,
  VerificationError,
  VerificationFinishedError,
  VerificationNotFoundError,
} from './errors.js';
import { unavailable, unavailableFrom, withinBound, type Operation } from './outages.js';
import { meaningOf } from './temporal-errors.js';

/**
 * Who the client acts for. A verification belongs to the caller that started it (its name is in the
 * run's memo, which the codec encrypts); a client with a caller sees only its own, and every other
 * verification answers exactly as one that does not exist (VerificationNotFoundError). Without a caller
 * the client sees every verification, as the SDK itself would with the same namespace access: the
 * caller scopes a backend's calls, it does not replace Temporal's own access control.
 */
export interface Caller {
  /** 1 to 64 of A-Z a-z 0-9 . _ - */
  name: string;
  /** may also read and cancel other callers' verifications, never answer a code or resend for them */
  operator?: boolean;
}

export { callerNamePattern, defaultCallerName };

/** What a call does to a verification: an operator may read and cancel; answering is the owner's alone. */
export type Access = 'read' | 'cancel' | 'answer';

/** Where the owner's name is kept in a run's memo. */
const ownerMemoKey = callerMemoKey;

/** The memo a run is started with, so a later call can tell whose it is. */
export function ownerMemo(caller: Caller | undefined): Record<string, string> {
  return caller ? { [ownerMemoKey]: caller.name } : {};
}

export function checkCaller(caller: Caller | string | undefined): Caller | undefined {
  if (caller === undefined) return undefined;
  const named = typeof caller === 'string' ? { name: caller } : caller;
  if (!callerNamePattern.test(named.name)) {
    throw new InvalidVerificationInputError('caller', 'caller must be 1 to 64 of A-Z a-z 0-9 . _ -');
  }
  return { name: named.name, operator: named.operator === true };
}

export interface SubmissionOptions {
  /**
   * The caller's key for this one submission (1 to 64 printable ASCII characters): sent again with the
   * same key, the submission returns the first one's answer and is never verified or sent twice. Made
   * here when absent, which makes the call safe only against a retry inside Temporal, not by the caller.
   */
  idempotencyKey?: string;
}

/** The latest run under a workflow id, as far as a start needs to know it. */
export interface LatestRun {
  runId: string;
  running: boolean;
  /** the start's request key, kept in the memo */
  requestKey?: string;
  /** the caller that started it, kept in the memo; absent for runs from before callers had names */
  owner?: string;
}

/** The run a call acts on: pinned to the run whose owner was checked, so a newer run is never reached. */
interface Target {
  handle: WorkflowHandle;
  /** Temporal's status name, when the ownership check has read it already */
  status?: string;
}

/**
 * How often a start tries again when the id was held by a run that closed before the look-up: each
 * such collision means the id is free now, so a second try almost always starts; the cap only stops
 * a customer whose runs churn without end.
 */
const startAttempts = 3;

const idempotencyKeyPattern = new RegExp(requestKeySchema.pattern);

export class FlowCalls {
  constructor(
    readonly client: Client,
    readonly answerWithinMs: number,
    readonly caller?: Caller,
  ) {}

  /** `act` on the workflow within the bound, its SDK errors typed, once the caller may. */
  run<T>(
    workflowId: string,
    operation: Operation,
    access: Access,
    act: (target: Target) => Promise<T>,
    boundMs = this.answerWithinMs,
  ): Promise<T> {
    return withinBound(this.client, boundMs, operation, () =>
      this.typed(workflowId, operation, boundMs, async () => act(await this.target(workflowId, access))),
    );
  }

  /** Whether this client's caller may act on a run `owner` started. */
  mayAct(owner: string | undefined, access: Access): boolean {
    if (!this.caller) return true;
    if ((owner ?? defaultCallerName) === this.caller.name) return true;
    return this.caller.operator === true && access !== 'answer';
  }

  /**
   * The run to act on. With a caller, the latest run is described first: a describe is no billable
   * action on Temporal Cloud and takes one frontend round trip, where letting another caller's update
   * or query through would cost an action, and an attempt of the owner's. The call then goes to the
   * run described, so a run started meanwhile by someone else is never reached.
   */
  private async target(workflowId: string, access: Access): Promise<Target> {
    if (!this.caller) return { handle: this.client.workflow.getHandle(workflowId) };
    const description = await this.client.workflow.getHandle(workflowId).describe();
    if (!this.mayAct(ownerOf(description.memo), access)) throw new VerificationNotFoundError(workflowId);
    return {
      handle: this.client.workflow.getHandle(workflowId, description.runId),
      status: description.status.name,
    };
  }

  /**
   * Starts a run under `workflowId`. A start that collides with a run may be answered by `onExisting` from
   * the latest run (a retried start, a join); otherwise a running one refuses the start, and one that has
   * closed meanwhile leaves the id free, so the start is tried anew: a start racing a cancel, or sent
   * while the previous run closes, is a start or ALREADY_RUNNING, never a failure.
   */
  async start<T>(
    workflowId: string,
    startRun: () => Promise<T>,
    onExisting: (run: LatestRun) => Promise<T> | undefined = () => undefined,
  ): Promise<T> {
    return withinBound(this.client, this.answerWithinMs, 'start', () =>
      this.typed(workflowId, 'start', this.answerWithinMs, async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await startRun();
          } catch (err) {
            // 'no-run': an update-with-start whose update found the run it was sent with gone.
            const { kind } = meaningOf(err);
            if (kind !== 'already-started' && kind !== 'no-run') throw err;
            const latest = await this.latestRun(workflowId);
            const answer = latest ? onExisting(latest) : undefined;
            if (answer) return answer;
            if (latest?.running || attempt >= startAttempts)
              throw new VerificationAlreadyRunningError(workflowId);
          }
        }
      }),
    );
  }

  async latestRun(workflowId: string): Promise<LatestRun | undefined> {
    try {
      const description = await this.client.workflow.getHandle(workflowId).describe();
      const requestKey = description.memo?.requestKey;
      const owner = ownerOf(description.memo);
      return {
        runId: description.runId,
        running: description.status.name === 'RUNNING',
        ...(typeof requestKey === 'string' ? { requestKey } : {}),
        ...(owner !== undefined ? { owner } : {}),
      };
    } catch (err) {
      if (meaningOf(err).kind === 'no-run') return undefined;
      throw err;
    }
  }

  /** The user's code, fire-and-forget: for OTP-entry endpoints that then poll state. */
  async submitOtp(workflowId: string, code: string): Promise<void> {
    await this.run(workflowId, 'submitOtp', 'answer', (target) =>
      this.whileRunning(target, () => target.handle.signal(submitOtpSignal, { code })),
    );
  }

  /** The user's code, answered with the verdict; idempotent on the key (the Temporal update id). */
  async verifyOtp(workflowId: string, code: string, options: SubmissionOptions = {}): Promise<OtpVerdict> {
    const updateId = submissionUpdateId('otp', submissionKey(options));
    // No "still running?" check: a finished flow still answers a known update id with its verdict.
    return this.run(workflowId, 'verifyOtp', 'answer', ({ handle }) =>
      handle.executeUpdate(verifyOtpUpdate, { args: [{ code }], updateId }),
    );
  }

  /** Asks for a new code; answered with whether it was sent (cooldown and cap apply). Idempotent on the key. */
  async resend(workflowId: string, options: SubmissionOptions = {}): Promise<ResendAnswer> {
    const updateId = submissionUpdateId('resend', submissionKey(options));
    return this.run(workflowId, 'resend', 'answer', ({ handle }) =>
      handle.executeUpdate(requestResendUpdate, { updateId }),
    );
  }

  async cancel(workflowId: string, reason?: string): Promise<void> {
    await this.run(workflowId, 'cancel', 'cancel', (target) =>
      this.whileRunning(target, () => target.handle.signal(cancelSignal, reason ? { reason } : {})),
    );
  }

  /** A query needs a worker: without one this is the call that would otherwise wait longest. */
  state(workflowId: string, timeoutMs = this.answerWithinMs): Promise<VerificationState> {
    return this.run(workflowId, 'state', 'read', ({ handle }) => handle.query(stateQuery), timeoutMs);
  }

  /** The outcome, however long the flow takes: not bounded. */
  result<T>(workflowId: string): Promise<T> {
    return this.typed(workflowId, 'result', this.answerWithinMs, async () =>
      (await this.target(workflowId, 'read')).handle.result(),
    );
  }

  /**
   * The outcome, waiting at most `waitMs` (at least a second) for a running flow to finish; undefined if it
   * has not. Read from the history, not by query: it costs no billable action.
   */
  outcome<T>(workflowId: string, waitMs: number): Promise<T | undefined> {
    return this.typed(workflowId, 'result', this.answerWithinMs, async () => {
      const { handle } = await this.target(workflowId, 'read');
      return this.client
        .withDeadline(Date.now() + Math.max(waitMs, 1000), () => handle.result() as Promise<T>)
        .catch((err: unknown) => {
          if (isGrpcDeadlineError(err)) return undefined;
          throw err;
        });
    });
  }

  /** Messages go only to a running flow; a finished one answers with its status. */
  private async whileRunning<T>({ handle, status }: Target, act: () => Promise<T>): Promise<T> {
    const current = status ?? (await handle.describe()).status.name;
    if (current !== 'RUNNING') throw new VerificationFinishedError(handle.workflowId, current);
    return act();
  }

  private async typed<T>(
    workflowId: string,
    operation: Operation,
    boundMs: number,
    act: () => Promise<T>,
  ): Promise<T> {
    try {
      return await act();
    } catch (err) {
      throw await this.libraryError(err, workflowId, operation, boundMs);
    }
  }

  /** The library's answer for what the SDK threw; the SDK's own error when it is truly unexpected. */
  private async libraryError(
    err: unknown,
    workflowId: string,
    operation: Operation,
    boundMs: number,
  ): Promise<unknown> {
    if (err instanceof VerificationError) return err;
    const meaning = meaningOf(err);
    switch (meaning.kind) {
      case 'no-run': {
        // A closed run answers signals and new updates "not found" too; describe tells the two apart.
        const latest = await this.latestStatus(workflowId);
        if (!latest) return new VerificationNotFoundError(workflowId);
        // RUNNING: a newer run began after the one the call reached had closed.
        return new VerificationFinishedError(workflowId, latest === 'RUNNING' ? 'COMPLETED' : latest);
      }
      case 'closed': {
        const status = meaning.status ?? (await this.latestStatus(workflowId));
        return new VerificationFinishedError(
          workflowId,
          status && status !== 'RUNNING' ? status : 'COMPLETED',
        );
      }
      case 'already-started':
        return new VerificationAlreadyRunningError(workflowId);
      case 'invalid-code':
        return new CodeNotForChallengeError(meaning.message);
      case 'not-ready': {
        // Closed before any worker ran it: it will never answer. Running: its workflow task keeps failing.
        const status = await this.latestStatus(workflowId);
        if (status && status !== 'RUNNING') return new VerificationFinishedError(workflowId, status);
        return unavailable('NO_ANSWER_IN_TIME', operation, boundMs, { cause: err });
      }
      case 'outage':
        return unavailableFrom(err, operation, boundMs) ?? err;
      case 'unexpected':
        return err;
    }
  }

  /** Temporal's status name of the latest run, or undefined when there is none. */
  private async latestStatus(workflowId: string): Promise<string | undefined> {
    try {
      return (await this.client.workflow.getHandle(workflowId).describe()).status.name;
    } catch (err) {
      if (meaningOf(err).kind === 'no-run') return undefined;
      throw err;
    }
  }
}

function ownerOf(memo: Record<string, unknown> | undefined): string | undefined {
  const owner = memo?.[ownerMemoKey];
  return typeof owner === 'string' ? owner : undefined;
}

function submissionKey({ idempotencyKey }: SubmissionOptions): string {
  if (idempotencyKey === undefined) return randomUUID();
  if (!idempotencyKeyPattern.test(idempotencyKey)) {
    throw new InvalidVerificationInputError(
      'idempotencyKey',
      'idempotencyKey must be 1 to 64 printable ASCII characters without spaces',
    );
  }
  return idempotencyKey;
}
