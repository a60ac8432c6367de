/**
 * What a backend service imports: start a contact-change verification, feed it the user's code, read
 * its state, await its outcome. Every call names the customer; the verification id is derived from it.
 * Every call but `result` answers within a bound (./outages.ts), or throws VerificationUnavailableError.
 */
import { randomUUID } from 'node:crypto';
import {
  Client,
  Connection,
  isGrpcDeadlineError,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WithStartWorkflowOperation,
  type WorkflowHandle,
} from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import {
  defaultTaskQueue,
  paymentMethodWorkflowId,
  submissionUpdateId,
  verificationWorkflowId,
} from '../workflows/ids.js';
import {
  cancelSignal,
  challengeSentUpdate,
  requestResendUpdate,
  stateQuery,
  submitOtpSignal,
  verifyOtpUpdate,
} from '../workflows/messages.js';
import { verificationStepKey } from '../workflows/search-attributes.js';
import type { changeWonderPaymentMethod } from '../workflows/payment-method.js';
import type {
  ChallengeAnswer,
  OtpVerdict,
  PaymentMethodChangeInput,
  PaymentMethodChangeOutcome,
  ResendAnswer,
  VerificationInput,
  VerificationOutcome,
  VerificationState,
} from '../workflows/types.js';
import type { verifyContactChange } from '../workflows/verification.js';
import { requestKeySchema } from '../workflows/wire-schemas.js';
import {
  InvalidVerificationInputError,
  VerificationAlreadyRunningError,
  VerificationFinishedError,
  VerificationNotFoundError,
} from './errors.js';
import type { TemporalTarget } from '../config/temporal.js';
import { defaultAnswerWithinMs, withinBound, type Operation } from './outages.js';
import { validateVerificationInput } from './validate.js';

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

export interface SubmissionOptions {
  /**
   * The caller's key for this one submission (1 to 64 printable ASCII characters): sent again with the
   * same key, the submission returns the first one's answer and is never verified or sent twice. Made
   * here when absent, which makes the call safe only against a retry inside Temporal, not by the caller.
   */
  idempotencyKey?: string;
}

export interface VerificationClientOptions {
  /** every call but `result` answers within this, or throws VerificationUnavailableError; default 10 s */
  answerWithinMs?: number;
}

type VerificationHandle = WorkflowHandle<typeof verifyContactChange>;

const idempotencyKeyPattern = new RegExp(requestKeySchema.pattern);

export class VerificationClient {
  readonly answerWithinMs: number;

  constructor(
    readonly client: Client,
    readonly taskQueue: string = defaultTaskQueue,
    options: VerificationClientOptions = {},
  ) {
    this.answerWithinMs = options.answerWithinMs ?? defaultAnswerWithinMs;
  }

  static async connect(
    target: TemporalTarget,
    dataConverter: DataConverter,
    taskQueue?: string,
    options?: VerificationClientOptions,
  ) {
    const connection = await Connection.connect(
      target.connectConfig.connectionOptions as Parameters<typeof Connection.connect>[0],
    );
    return new VerificationClient(
      new Client({ connection, namespace: target.namespace, dataConverter }),
      taskQueue,
      options,
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
   */
  async start(input: VerificationInput, options: StartOptions = {}): Promise<StartedVerification> {
    return this.bounded('start', () => this.startRun(input, options));
  }

  private async startRun(input: VerificationInput, options: StartOptions): Promise<StartedVerification> {
    const valid = validateVerificationInput(input);
    const verificationId = this.verificationId(valid.customerId);
    // Only a request key needs the latest run first: a finished run with the same key must not start again.
    if (valid.requestKey) {
      const existing = await this.latestRun(verificationId);
      if (existing && existing.requestKey === valid.requestKey)
        return this.attachTo(verificationId, existing);
      if (existing?.running) return this.joinOrRefuse(verificationId, existing, options);
    }
    const workflowOptions = {
      args: [valid] as [VerificationInput],
      taskQueue: this.taskQueue,
      workflowId: verificationId,
      workflowIdConflictPolicy: 'FAIL' as const,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const,
      // Kept where a retried start can compare it; memo payloads pass through the codec too.
      memo: valid.requestKey ? { requestKey: valid.requestKey } : {},
      typedSearchAttributes: [{ key: verificationStepKey, value: 'CONSULTING' }],
      staticSummary: `Contact change (${changeKind(valid)}) for DWS customer ${valid.customerId}`,
    };
    try {
      if (options.answer === 'started') {
        const handle = await this.client.workflow.start('verifyContactChange', workflowOptions);
        return { verificationId, runId: handle.firstExecutionRunId ?? '', attached: false };
      }
      const startOperation = new WithStartWorkflowOperation<typeof verifyContactChange>(
        'verifyContactChange',
        workflowOptions,
      );
      // startUpdateWithStart rather than executeUpdateWithStart: its handle carries the run id.
      const update = await this.client.workflow.startUpdateWithStart(challengeSentUpdate, {
        waitForStage: 'ACCEPTED',
        startWorkflowOperation: startOperation,
      });
      return {
        verificationId,
        runId: update.workflowRunId ?? '',
        attached: false,
        ...(await update.result()),
      };
    } catch (err) {
      // Lost a race with another start for the same customer, or one runs already (no request key given).
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        const winner = await this.latestRun(verificationId);
        if (winner && valid.requestKey && winner.requestKey === valid.requestKey)
          return this.attachTo(verificationId, winner);
        if (winner?.running) return this.joinOrRefuse(verificationId, winner, options);
      }
      throw err;
    }
  }

  private async joinOrRefuse(
    verificationId: string,
    run: { runId: string; running: boolean },
    options: StartOptions,
  ): Promise<StartedVerification> {
    if (options.ifRunning !== 'attach') throw new VerificationAlreadyRunningError(verificationId);
    return this.attachTo(verificationId, run, options);
  }

  /** The answer a start would have had, for a run that exists already: its challenge now, or its outcome. */
  private async attachTo(
    verificationId: string,
    run: { runId: string; running: boolean },
    options: StartOptions = {},
  ): Promise<StartedVerification> {
    const attached = { verificationId, runId: run.runId, attached: true };
    if (options.answer === 'started') return attached;
    const handle = this.client.workflow.getHandle<typeof verifyContactChange>(verificationId, run.runId);
    if (run.running) {
      try {
        return { ...attached, ...(await handle.executeUpdate(challengeSentUpdate)) };
      } catch (err) {
        // Finished between the look-up and the update: its outcome is the answer.
        if (!(err instanceof WorkflowUpdateFailedError || err instanceof WorkflowNotFoundError)) throw err;
      }
    }
    return { ...attached, outcome: await handle.result() };
  }

  /** The user's code, fire-and-forget: the primary path for OTP-entry endpoints that then poll state. */
  async submitOtp(customerId: string, code: string): Promise<void> {
    await this.bounded('submitOtp', () =>
      this.whileRunning(customerId, (handle) => handle.signal(submitOtpSignal, { code })),
    );
  }

  /**
   * The user's code, answered with the verdict once the provider has checked it. Idempotent on the key
   * (the Temporal update id): a retry after VerificationUnavailableError returns the verdict of the first
   * submission, also once the flow has finished, and never costs a second attempt. A submission the
   * server held while no worker ran is verified when one returns; one the server lost in a restart was
   * never recorded. Either way the retry with the same key is what settles it.
   */
  async verifyOtp(customerId: string, code: string, options: SubmissionOptions = {}): Promise<OtpVerdict> {
    const updateId = submissionUpdateId('otp', this.submissionKey(options));
    // No describe first: a finished flow still answers a known update id with its verdict.
    return this.bounded('verifyOtp', () =>
      this.mapErrors(customerId, (handle) =>
        handle.executeUpdate(verifyOtpUpdate, { args: [{ code }], updateId }),
      ),
    );
  }

  /** Asks for a new code; answered with whether it was sent (cooldown and cap apply). Idempotent on the key. */
  async resend(customerId: string, options: SubmissionOptions = {}): Promise<ResendAnswer> {
    const updateId = submissionUpdateId('resend', this.submissionKey(options));
    return this.bounded('resend', () =>
      this.mapErrors(customerId, (handle) => handle.executeUpdate(requestResendUpdate, { updateId })),
    );
  }

  async cancel(customerId: string, reason?: string): Promise<void> {
    await this.bounded('cancel', () =>
      this.whileRunning(customerId, (handle) => handle.signal(cancelSignal, reason ? { reason } : {})),
    );
  }

  /** A query needs a worker: without one this is the call that would otherwise wait longest. */
  async state(customerId: string, timeoutMs = this.answerWithinMs): Promise<VerificationState> {
    return this.bounded(
      'state',
      () => this.mapErrors(customerId, (handle) => handle.query(stateQuery)),
      timeoutMs,
    );
  }

  async result(customerId: string): Promise<VerificationOutcome> {
    return this.mapErrors(customerId, (handle) => handle.result());
  }

  /**
   * The outcome, waiting at most `waitMs` (at least a second) for a running verification to finish;
   * undefined if it has not. Read from the history, not by query: it costs no billable action.
   */
  async outcome(customerId: string, waitMs: number): Promise<VerificationOutcome | undefined> {
    try {
      return await this.mapErrors(customerId, (handle) =>
        this.client.withDeadline(Date.now() + Math.max(waitMs, 1000), () => handle.result()),
      );
    } catch (err) {
      if (isGrpcDeadlineError(err)) return undefined;
      throw err;
    }
  }

  /**
   * Starts the change of a Wonder customer's default payment method or token (one at a time per Wonder
   * customer). With `confirmWith`, the wallet user confirms through the DWS challenge first: send the
   * code with `paymentMethodChange(uuid).executeUpdate(verifyOtpUpdate, ...)`, the same messages as a
   * contact change.
   */
  async startPaymentMethodChange(input: PaymentMethodChangeInput): Promise<StartedVerification> {
    const workflowId = paymentMethodWorkflowId(input.wonderCustomerUuid);
    try {
      const handle = await this.client.workflow.start('changeWonderPaymentMethod', {
        args: [input],
        taskQueue: this.taskQueue,
        workflowId,
        workflowIdConflictPolicy: 'FAIL',
        staticSummary: `Default payment method change for Wonder customer ${input.wonderCustomerUuid}`,
      });
      return { verificationId: workflowId, runId: handle.firstExecutionRunId ?? '', attached: false };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        throw new VerificationAlreadyRunningError(workflowId);
      throw err;
    }
  }

  paymentMethodChange(wonderCustomerUuid: string): WorkflowHandle<typeof changeWonderPaymentMethod> {
    return this.client.workflow.getHandle(paymentMethodWorkflowId(wonderCustomerUuid));
  }

  async paymentMethodChangeResult(wonderCustomerUuid: string): Promise<PaymentMethodChangeOutcome> {
    try {
      return await this.paymentMethodChange(wonderCustomerUuid).result();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        throw new VerificationNotFoundError(paymentMethodWorkflowId(wonderCustomerUuid));
      throw err;
    }
  }

  private bounded<T>(operation: Operation, act: () => Promise<T>, boundMs = this.answerWithinMs): Promise<T> {
    return withinBound(this.client, boundMs, operation, act);
  }

  private submissionKey({ idempotencyKey }: SubmissionOptions): string {
    if (idempotencyKey === undefined) return randomUUID();
    if (!idempotencyKeyPattern.test(idempotencyKey)) {
      throw new InvalidVerificationInputError(
        'idempotencyKey',
        'idempotencyKey must be 1 to 64 printable ASCII characters without spaces',
      );
    }
    return idempotencyKey;
  }

  private handle(customerId: string): VerificationHandle {
    return this.client.workflow.getHandle<typeof verifyContactChange>(this.verificationId(customerId));
  }

  private async latestRun(
    verificationId: string,
  ): Promise<{ runId: string; running: boolean; requestKey?: string } | undefined> {
    try {
      const description = await this.client.workflow.getHandle(verificationId).describe();
      const memo = description.memo;
      const requestKey = typeof memo?.requestKey === 'string' ? memo.requestKey : undefined;
      return { runId: description.runId, running: description.status.name === 'RUNNING', requestKey };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /** Messages go only to a running verification; a finished one answers with its status. */
  private async whileRunning<T>(
    customerId: string,
    act: (handle: VerificationHandle) => Promise<T>,
  ): Promise<T> {
    return this.mapErrors(customerId, async (handle) => {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') {
        throw new VerificationFinishedError(handle.workflowId, description.status.name);
      }
      return act(handle);
    });
  }

  private async mapErrors<T>(
    customerId: string,
    act: (handle: VerificationHandle) => Promise<T>,
  ): Promise<T> {
    const handle = this.handle(customerId);
    try {
      return await act(handle);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        // A finished run also answers "not found" to signals; describe tells the two apart.
        const status = await handle
          .describe()
          .then((d) => d.status.name)
          .catch(() => undefined);
        if (status && status !== 'RUNNING') throw new VerificationFinishedError(handle.workflowId, status);
        throw new VerificationNotFoundError(handle.workflowId);
      }
      // A flow closed before any worker ran it (e.g. terminated) cannot answer a query; retrying will not help.
      if (
        err instanceof ServiceError &&
        /closed before/i.test(err.message + String(err.cause?.message ?? ''))
      ) {
        const status = await handle
          .describe()
          .then((d) => d.status.name)
          .catch(() => undefined);
        if (status && status !== 'RUNNING') throw new VerificationFinishedError(handle.workflowId, status);
      }
      if (err instanceof WorkflowUpdateFailedError) {
        const reason = (err.cause as Error | undefined)?.message ?? err.message;
        if (/already finished/.test(reason))
          throw new VerificationFinishedError(handle.workflowId, 'COMPLETED');
        throw new InvalidVerificationInputError('code', reason);
      }
      throw err;
    }
  }
}

function changeKind(input: VerificationInput): string {
  return [input.change.email ? 'email' : '', input.change.mobileNoInfo ? 'phone' : '']
    .filter(Boolean)
    .join(' and ');
}
