/**
 * What a backend service imports to change a wallet user's phone or email: start a verification, feed it
 * the user's code, read its state, await its outcome. Every call names the customer; the verification id
 * is derived from it. Every call but `result` answers within a bound (./outages.ts), or throws
 * VerificationUnavailableError; every failure is one of ./errors.ts.
 */
import {
  Client,
  Connection,
  WithStartWorkflowOperation,
  WorkflowUpdateStage,
  type ClientInterceptors,
} from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { TemporalTarget } from '../config/temporal.js';
import { defaultTaskQueue, verificationWorkflowId } from '../workflows/ids.js';
import { challengeSentUpdate } from '../workflows/messages.js';
import { verificationStepKey } from '../workflows/search-attributes.js';
import type {
  ChallengeAnswer,
  OtpVerdict,
  ResendAnswer,
  VerificationInput,
  VerificationOutcome,
  VerificationPolicy,
  VerificationState,
  VerifyContactChangeWorkflow,
} from '../workflows/types.js';
import { defaultPolicy } from '../workflows/types.js';
import {
  SendBudgetExceededError,
  VerificationAlreadyRunningError,
  VerificationNotFoundError,
} from './errors.js';
import {
  checkCaller,
  FlowCalls,
  ownerMemo,
  type Caller,
  type LatestRun,
  type SubmissionOptions,
} from './flow-calls.js';
import { defaultAnswerWithinMs } from './outages.js';
import { meaningOf } from './temporal-errors.js';
import { validateVerificationInput } from './validate.js';

export type { SubmissionOptions } from './flow-calls.js';

export interface StartOptions {
  /** What to do when this customer already has a verification running: refuse (default) or join it. */
  ifRunning?: 'fail' | 'attach';
  /** 'challenge' (default): answer once the code is sent; 'started': as soon as the run exists */
  answer?: 'challenge' | 'started';
}

export type StartedVerification = {
  verificationId: string;
  runId: string;
  /** true when an existing run was returned instead of a new one */
  attached: boolean;
} & (ChallengeAnswer | Record<never, never>);

export interface VerificationClientOptions {
  /** every call but `result` answers within this, or throws VerificationUnavailableError; default 10 s */
  answerWithinMs?: number;
  /**
   * The caller this client acts for (a name, or a name with the operator role): recorded on what it
   * starts, and its calls see only its own verifications (VerificationNotFoundError for any other).
   * Without one, every verification is visible and what it starts records no owner. See `Caller`.
   */
  caller?: string | Caller;
  /**
   * the operator's policy: what a start gets when it asks for none, and the loosest it may ask for
   * (config/verification-policy.ts reads it from VERIFICATION_POLICY_*); default the workflow's defaults
   */
  policy?: VerificationPolicy;
}

export interface ConnectOptions extends VerificationClientOptions {
  /**
   * the Temporal client's interceptors, e.g. `@temporalio/interceptors-opentelemetry`'s
   * OpenTelemetryWorkflowClientInterceptor, so each call is a span whose context reaches the workflow
   */
  interceptors?: ClientInterceptors;
}

export class VerificationClient {
  readonly answerWithinMs: number;
  readonly caller: Caller | undefined;
  readonly policy: VerificationPolicy;
  private readonly calls: FlowCalls;

  constructor(
    readonly client: Client,
    readonly taskQueue: string = defaultTaskQueue,
    options: VerificationClientOptions = {},
  ) {
    this.answerWithinMs = options.answerWithinMs ?? defaultAnswerWithinMs;
    this.caller = checkCaller(options.caller);
    this.policy = options.policy ?? defaultPolicy;
    this.calls = new FlowCalls(client, this.answerWithinMs, this.caller);
  }

  /** This client (its connection, task queue, bound and policy) acting for `caller`: cheap, one per request. */
  forCaller(caller: string | Caller): VerificationClient {
    return new VerificationClient(this.client, this.taskQueue, {
      answerWithinMs: this.answerWithinMs,
      policy: this.policy,
      caller,
    });
  }

  static async connect(
    target: TemporalTarget,
    dataConverter: DataConverter,
    taskQueue?: string,
    options: ConnectOptions = {},
  ) {
    const connection = await Connection.connect(
      target.connectConfig.connectionOptions as Parameters<typeof Connection.connect>[0],
    );
    const { interceptors, ...clientOptions } = options;
    return new VerificationClient(
      new Client({
        connection,
        namespace: target.namespace,
        dataConverter,
        ...(interceptors ? { interceptors } : {}),
      }),
      taskQueue,
      clientOptions,
    );
  }

  verificationId(customerId: string): string {
    return verificationWorkflowId(customerId);
  }

  /**
   * Starts the customer's verification and answers once the first code is on its way (or with the
   * outcome, if the flow ended before): one update-with-start, so the app has `maskedDestination` and
   * `expiresAt` without polling. Idempotent on `input.requestKey`: a retried start with the same key
   * answers for the run it started, running or finished, instead of starting a second one.
   * `answer: 'started'` returns as soon as the run exists, without the challenge (the app then polls state).
   * With a caller, another caller's run is never joined: a finished one leaves the id free (a new run
   * starts), a running one refuses the start, as VerificationNotFoundError when the start asked to join
   * it (`ifRunning: 'attach'`, or its request key) and VerificationAlreadyRunningError otherwise.
   * A customer whose send budget is spent gets no code: SendBudgetExceededError (the run has ended).
   */
  async start(input: VerificationInput, options: StartOptions = {}): Promise<StartedVerification> {
    const valid = validateVerificationInput(input, this.policy);
    const verificationId = this.verificationId(valid.customerId);
    const sameKey = (run: LatestRun) => !!valid.requestKey && run.requestKey === valid.requestKey;
    const onExisting = (run: LatestRun) => {
      const mine = this.calls.mayAct(run.owner, 'answer');
      if (mine && sameKey(run)) return this.attachTo(verificationId, run, options);
      if (!run.running) return undefined;
      if (!mine && (options.ifRunning === 'attach' || sameKey(run)))
        throw new VerificationNotFoundError(verificationId);
      if (!mine || options.ifRunning !== 'attach') throw new VerificationAlreadyRunningError(verificationId);
      return this.attachTo(verificationId, run, options);
    };
    const started = await this.calls.start(
      verificationId,
      async () => {
        // Only a request key needs the latest run first: a finished run with the same key must not start again.
        const existing = valid.requestKey ? await this.calls.latestRun(verificationId) : undefined;
        const answer = existing ? onExisting(existing) : undefined;
        return answer ?? this.startRun(verificationId, valid, options);
      },
      onExisting,
    );
    const refused =
      'outcome' in started && SendBudgetExceededError.fromOutcome(verificationId, started.outcome);
    if (refused) throw refused;
    return started;
  }

  private async startRun(
    verificationId: string,
    valid: VerificationInput,
    options: StartOptions,
  ): Promise<StartedVerification> {
    const workflowOptions = {
      args: [valid] as [VerificationInput],
      taskQueue: this.taskQueue,
      workflowId: verificationId,
      workflowIdConflictPolicy: 'FAIL' as const,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const,
      // Kept where a retried start and the ownership check read them; memo payloads pass through the codec.
      memo: { ...(valid.requestKey ? { requestKey: valid.requestKey } : {}), ...ownerMemo(this.caller) },
      typedSearchAttributes: [{ key: verificationStepKey, value: 'CONSULTING' }],
      staticSummary: `Contact change (${changeKind(valid)}) for DWS customer ${valid.customerId}`,
    };
    if (options.answer === 'started') {
      const handle = await this.client.workflow.start('verifyContactChange', workflowOptions);
      const runId = handle.firstExecutionRunId ?? '';
      this.calls.sawRunning(verificationId, runId);
      return { verificationId, runId, attached: false };
    }
    const startOperation = new WithStartWorkflowOperation<VerifyContactChangeWorkflow>(
      'verifyContactChange',
      workflowOptions,
    );
    // Waiting for the update's completion in the one ExecuteMultiOperation call, rather than for its
    // acceptance and then polling for the result: one frontend round trip less per start. The server holds
    // the call until the code is sent (when its long-poll ends first, the SDK polls on, as it would have).
    // The SDK runs a start with COMPLETED as its own executeUpdateWithStart does, but types only ACCEPTED
    // here, and executeUpdateWithStart's answer lacks the run id: test/http-round-trips.test.ts holds both.
    const update = await this.client.workflow.startUpdateWithStart(challengeSentUpdate, {
      waitForStage: WorkflowUpdateStage.COMPLETED as typeof WorkflowUpdateStage.ACCEPTED,
      startWorkflowOperation: startOperation,
    });
    const challenge = await update.result();
    const runId = update.workflowRunId ?? '';
    // An outcome instead of a challenge: the run has ended, and a call on it would have to describe anyway.
    if (!('outcome' in challenge)) this.calls.sawRunning(verificationId, runId);
    return { verificationId, runId, attached: false, ...challenge };
  }

  /** The answer a start would have had, for a run that exists already: its challenge now, or its outcome. */
  private async attachTo(
    verificationId: string,
    run: LatestRun,
    options: StartOptions,
  ): Promise<StartedVerification> {
    const attached = { verificationId, runId: run.runId, attached: true };
    if (options.answer === 'started') return attached;
    const handle = this.client.workflow.getHandle<VerifyContactChangeWorkflow>(verificationId, run.runId);
    if (run.running) {
      try {
        return { ...attached, ...(await handle.executeUpdate(challengeSentUpdate)) };
      } catch (err) {
        // Finished between the look-up and the update: its outcome is the answer.
        const { kind } = meaningOf(err);
        if (kind !== 'closed' && kind !== 'no-run') throw err;
      }
    }
    return { ...attached, outcome: await handle.result() };
  }

  /** The user's code, fire-and-forget: the primary path for OTP-entry endpoints that then poll state. */
  submitOtp(customerId: string, code: string): Promise<void> {
    return this.calls.submitOtp(this.verificationId(customerId), code);
  }

  /**
   * The user's code, answered with the verdict once the provider has checked it. Idempotent on the key
   * (the Temporal update id): a retry after VerificationUnavailableError returns the verdict of the first
   * submission, also once the flow has finished, and never costs a second attempt. A submission the
   * server held while no worker ran is verified when one returns; one the server lost in a restart was
   * never recorded. Either way the retry with the same key is what settles it.
   */
  verifyOtp(customerId: string, code: string, options: SubmissionOptions = {}): Promise<OtpVerdict> {
    return this.calls.verifyOtp(this.verificationId(customerId), code, options);
  }

  /** Asks for a new code; answered with whether it was sent (cooldown and cap apply). Idempotent on the key. */
  resend(customerId: string, options: SubmissionOptions = {}): Promise<ResendAnswer> {
    return this.calls.resend(this.verificationId(customerId), options);
  }

  cancel(customerId: string, reason?: string): Promise<void> {
    return this.calls.cancel(this.verificationId(customerId), reason);
  }

  state(customerId: string, timeoutMs = this.answerWithinMs): Promise<VerificationState> {
    return this.calls.state(this.verificationId(customerId), timeoutMs);
  }

  result(customerId: string): Promise<VerificationOutcome> {
    return this.calls.result(this.verificationId(customerId));
  }

  /**
   * The outcome, waiting at most `waitMs` (at least a second) for a running verification to finish;
   * undefined if it has not. Read from the history, not by query: it costs no billable action.
   */
  outcome(customerId: string, waitMs: number): Promise<VerificationOutcome | undefined> {
    return this.calls.outcome(this.verificationId(customerId), waitMs);
  }
}

function changeKind(input: VerificationInput): string {
  return [input.change.email ? 'email' : '', input.change.mobileNoInfo ? 'phone' : '']
    .filter(Boolean)
    .join(' and ');
}
