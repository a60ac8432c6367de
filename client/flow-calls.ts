/**
 * The calls both clients make on one workflow by id: the messages both workflows answer (code, resend,
 * cancel, state, outcome), each within the bound of ./outages.ts, and every SDK error turned into the
 * library's typed errors here, from the meaning ./temporal-errors.ts reads in it. With a caller, every
 * call first checks that the run is the caller's (see `Caller`), by a describe unless this process
 * already knows the run (see `KnownRuns`).
 */
import { randomUUID } from 'node:crypto';
import { WorkflowClient, type Client, type WorkflowHandle } from '@temporalio/client';
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
import { meaningOf, waitEndedUnanswered } from './temporal-errors.js';

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
  /** the run the handle is pinned to */
  runId: string;
  /** Temporal's status name, when the ownership check has read it already */
  status?: string;
  /** taken from the runs this process knows, not described: it may have closed since */
  known?: true;
}

/** How long, and how many, runs a process remembers: only memory is at stake, never the caller's scope. */
const knownRunTtlMs = 15 * 60_000;
const knownRunsMax = 10_000;

/**
 * The running run this process last saw under each workflow id, and its owner: what an update, a signal
 * or the state query needs instead of a describe (one frontend round trip, a third of a code's latency
 * under load). Safe without invalidation from elsewhere because a run's owner never changes and the call
 * is pinned to the run: an update or signal only lands on a run that is still open (the state query asks
 * to be refused by a closed one), and the only open run under an id is its latest, so a call that lands
 * reached the run the describe would have named. One that does not (the run closed, maybe a newer one
 * began) falls back to the describe. A result has no such refusal, so the outcome still describes: an
 * older run's outcome must never stand for a newer run's. Only a run the caller may act on is taken from
 * here; any other is described, so a foreign caller's answer and cost are the describe's, as before.
 */
class KnownRuns {
  private readonly runs = new Map<string, { runId: string; owner: string | undefined; until: number }>();

  get(workflowId: string): { runId: string; owner: string | undefined } | undefined {
    const run = this.runs.get(workflowId);
    if (!run || run.until > Date.now()) return run;
    this.runs.delete(workflowId);
    return undefined;
  }

  /** A run seen running (a describe, a start), with the owner its memo names. */
  saw(workflowId: string, runId: string, owner: string | undefined): void {
    this.runs.delete(workflowId);
    this.runs.set(workflowId, { runId, owner, until: Date.now() + knownRunTtlMs });
    // Maps iterate in insertion order: the first key is the one seen longest ago.
    if (this.runs.size > knownRunsMax) this.runs.delete(this.runs.keys().next().value!);
  }

  forget(workflowId: string, runId: string): void {
    if (this.runs.get(workflowId)?.runId === runId) this.runs.delete(workflowId);
  }
}

/** One memory per Temporal client: every per-request client `forCaller` makes shares it. */
const knownRunsOf = new WeakMap<Client, KnownRuns>();

/**
 * The client's workflow client, but with queries refused by a closed run (the SDK sets that per client,
 * not per call): what lets a query go to a known run, which answers only while it is the latest.
 */
const openRunQueriesOf = new WeakMap<Client, WorkflowClient>();

/**
 * How often a start tries again when the id was held by a run that closed before the look-up: each
 * such collision means the id is free now, so a second try almost always starts; the cap only stops
 * a customer whose runs churn without end.
 */
const startAttempts = 3;

const idempotencyKeyPattern = new RegExp(requestKeySchema.pattern);

export class FlowCalls {
  private readonly knownRuns: KnownRuns;

  constructor(
    readonly client: Client,
    readonly answerWithinMs: number,
    readonly caller?: Caller,
  ) {
    let known = knownRunsOf.get(client);
    if (!known) knownRunsOf.set(client, (known = new KnownRuns()));
    this.knownRuns = known;
  }

  /**
   * `act` on the workflow within the bound, its SDK errors typed, once the caller may. `landsOnlyOnOpenRun`:
   * `act` fails on a closed run (an update or a signal; an update's known id still answers; a query that
   * asks to be refused by one), so the run this process knows may stand in for the describe.
   */
  run<T>(
    workflowId: string,
    operation: Operation,
    access: Access,
    act: (target: Target) => Promise<T>,
    boundMs = this.answerWithinMs,
    landsOnlyOnOpenRun = false,
  ): Promise<T> {
    return withinBound(this.client, boundMs, operation, () =>
      this.typed(workflowId, operation, boundMs, async () => {
        const known = landsOnlyOnOpenRun ? this.knownTarget(workflowId, access) : undefined;
        if (!known) return act(await this.target(workflowId, access));
        try {
          return await act(known);
        } catch (err) {
          const { kind } = meaningOf(err);
          if (kind !== 'no-run' && kind !== 'closed') throw err;
          // The known run has closed: the describe says whether a newer one is there, and whose it is.
          this.knownRuns.forget(workflowId, known.runId);
          const latest = await this.target(workflowId, access);
          // A closed run still answers a read asked without the refusal; an update or signal would fail again.
          if (latest.runId !== known.runId || access === 'read') return act(latest);
          if (latest.status !== 'RUNNING') throw new VerificationFinishedError(workflowId, latest.status!);
          throw err;
        }
      }),
    );
  }

  /** Remembers a run this client started or joined, so the calls that follow on it skip the describe. */
  sawRunning(workflowId: string, runId: string, owner = this.caller?.name): void {
    if (this.caller && runId) this.knownRuns.saw(workflowId, runId, owner);
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
    if (!this.caller) return { handle: this.client.workflow.getHandle(workflowId), runId: '' };
    const description = await this.client.workflow.getHandle(workflowId).describe();
    const owner = ownerOf(description.memo);
    if (description.status.name === 'RUNNING') this.sawRunning(workflowId, description.runId, owner);
    else this.knownRuns.forget(workflowId, description.runId);
    if (!this.mayAct(owner, access)) throw new VerificationNotFoundError(workflowId);
    return {
      handle: this.client.workflow.getHandle(workflowId, description.runId),
      runId: description.runId,
      status: description.status.name,
    };
  }

  /**
   * The run this process knows for the workflow, when the caller may act on it; otherwise undefined, and
   * the describe decides (a foreign caller is never answered from memory: a newer run may be its own).
   * Its status is as last seen: a call that finds it closed falls back to the describe (see `run`).
   */
  private knownTarget(workflowId: string, access: Access): Target | undefined {
    if (!this.caller) return undefined;
    const known = this.knownRuns.get(workflowId);
    if (!known || !this.mayAct(known.owner, access)) return undefined;
    return {
      handle: this.client.workflow.getHandle(workflowId, known.runId),
      runId: known.runId,
      status: 'RUNNING',
      known: true,
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
      if (description.status.name === 'RUNNING') this.sawRunning(workflowId, description.runId, owner);
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
    await this.run(
      workflowId,
      'submitOtp',
      'answer',
      (target) => this.whileRunning(target, () => target.handle.signal(submitOtpSignal, { code })),
      this.answerWithinMs,
      true,
    );
  }

  /** The user's code, answered with the verdict; idempotent on the key (the Temporal update id). */
  async verifyOtp(workflowId: string, code: string, options: SubmissionOptions = {}): Promise<OtpVerdict> {
    const updateId = submissionUpdateId('otp', submissionKey(options));
    // No "still running?" check: a finished flow still answers a known update id with its verdict.
    return this.run(
      workflowId,
      'verifyOtp',
      'answer',
      ({ handle }) => handle.executeUpdate(verifyOtpUpdate, { args: [{ code }], updateId }),
      this.answerWithinMs,
      true,
    );
  }

  /** Asks for a new code; answered with whether it was sent (cooldown and cap apply). Idempotent on the key. */
  async resend(workflowId: string, options: SubmissionOptions = {}): Promise<ResendAnswer> {
    const updateId = submissionUpdateId('resend', submissionKey(options));
    return this.run(
      workflowId,
      'resend',
      'answer',
      ({ handle }) => handle.executeUpdate(requestResendUpdate, { updateId }),
      this.answerWithinMs,
      true,
    );
  }

  async cancel(workflowId: string, reason?: string): Promise<void> {
    await this.run(
      workflowId,
      'cancel',
      'cancel',
      (target) =>
        this.whileRunning(target, () => target.handle.signal(cancelSignal, reason ? { reason } : {})),
      this.answerWithinMs,
      true,
    );
  }

  /**
   * A query needs a worker: without one this is the call that would otherwise wait longest. A closed run
   * answers a query too, so a known run is asked to refuse it when closed (then the describe decides).
   */
  state(workflowId: string, timeoutMs = this.answerWithinMs): Promise<VerificationState> {
    return this.run(
      workflowId,
      'state',
      'read',
      ({ handle, runId, known }) =>
        (known ? this.openRunQueries().getHandle(workflowId, runId) : handle).query(stateQuery),
      timeoutMs,
      true,
    );
  }

  private openRunQueries(): WorkflowClient {
    let queries = openRunQueriesOf.get(this.client);
    if (!queries) {
      queries = new WorkflowClient({ ...this.client.workflow.options, queryRejectCondition: 'NOT_OPEN' });
      openRunQueriesOf.set(this.client, queries);
    }
    return queries;
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
          if (waitEndedUnanswered(err)) return undefined;
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
