/**
 * The calls both clients make on one workflow by id: the messages both workflows answer (code, resend,
 * cancel, state, outcome), each within the bound of ./outages.ts, and every SDK error turned into the
 * library's typed errors here, from the meaning ./temporal-errors.ts reads in it.
 */
import { randomUUID } from 'node:crypto';
import { isGrpcDeadlineError, type Client, type WorkflowHandle } from '@temporalio/client';
import { submissionUpdateId } from '../workflows/ids.js';
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
  InvalidVerificationInputError,
  VerificationAlreadyRunningError,
  VerificationError,
  VerificationFinishedError,
  VerificationNotFoundError,
} from './errors.js';
import { unavailable, unavailableFrom, withinBound, type Operation } from './outages.js';
import { meaningOf } from './temporal-errors.js';

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
  ) {}

  /** `act` on the workflow within the bound, its SDK errors typed. */
  run<T>(
    workflowId: string,
    operation: Operation,
    act: (handle: WorkflowHandle) => Promise<T>,
    boundMs = this.answerWithinMs,
  ): Promise<T> {
    return withinBound(this.client, boundMs, operation, () =>
      this.typed(workflowId, operation, boundMs, () => act(this.client.workflow.getHandle(workflowId))),
    );
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
      return {
        runId: description.runId,
        running: description.status.name === 'RUNNING',
        ...(typeof requestKey === 'string' ? { requestKey } : {}),
      };
    } catch (err) {
      if (meaningOf(err).kind === 'no-run') return undefined;
      throw err;
    }
  }

  /** The user's code, fire-and-forget: for OTP-entry endpoints that then poll state. */
  async submitOtp(workflowId: string, code: string): Promise<void> {
    await this.run(workflowId, 'submitOtp', (handle) =>
      this.whileRunning(handle, () => handle.signal(submitOtpSignal, { code })),
    );
  }

  /** The user's code, answered with the verdict; idempotent on the key (the Temporal update id). */
  async verifyOtp(workflowId: string, code: string, options: SubmissionOptions = {}): Promise<OtpVerdict> {
    const updateId = submissionUpdateId('otp', submissionKey(options));
    // No describe first: a finished flow still answers a known update id with its verdict.
    return this.run(workflowId, 'verifyOtp', (handle) =>
      handle.executeUpdate(verifyOtpUpdate, { args: [{ code }], updateId }),
    );
  }

  /** Asks for a new code; answered with whether it was sent (cooldown and cap apply). Idempotent on the key. */
  async resend(workflowId: string, options: SubmissionOptions = {}): Promise<ResendAnswer> {
    const updateId = submissionUpdateId('resend', submissionKey(options));
    return this.run(workflowId, 'resend', (handle) =>
      handle.executeUpdate(requestResendUpdate, { updateId }),
    );
  }

  async cancel(workflowId: string, reason?: string): Promise<void> {
    await this.run(workflowId, 'cancel', (handle) =>
      this.whileRunning(handle, () => handle.signal(cancelSignal, reason ? { reason } : {})),
    );
  }

  /** A query needs a worker: without one this is the call that would otherwise wait longest. */
  state(workflowId: string, timeoutMs = this.answerWithinMs): Promise<VerificationState> {
    return this.run(workflowId, 'state', (handle) => handle.query(stateQuery), timeoutMs);
  }

  /** The outcome, however long the flow takes: not bounded. */
  result<T>(workflowId: string): Promise<T> {
    return this.typed(workflowId, 'result', this.answerWithinMs, () =>
      this.client.workflow.getHandle(workflowId).result(),
    );
  }

  /**
   * The outcome, waiting at most `waitMs` (at least a second) for a running flow to finish; undefined if it
   * has not. Read from the history, not by query: it costs no billable action.
   */
  outcome<T>(workflowId: string, waitMs: number): Promise<T | undefined> {
    const handle = this.client.workflow.getHandle(workflowId);
    return this.typed(workflowId, 'result', this.answerWithinMs, () =>
      this.client
        .withDeadline(Date.now() + Math.max(waitMs, 1000), () => handle.result() as Promise<T>)
        .catch((err: unknown) => {
          if (isGrpcDeadlineError(err)) return undefined;
          throw err;
        }),
    );
  }

  /** Messages go only to a running flow; a finished one answers with its status. */
  private async whileRunning<T>(handle: WorkflowHandle, act: () => Promise<T>): Promise<T> {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING')
      throw new VerificationFinishedError(handle.workflowId, description.status.name);
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
        return new InvalidVerificationInputError('code', meaning.message);
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
