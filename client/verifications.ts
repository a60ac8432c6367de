/**
 * What a backend service imports: start a contact-change verification, feed it the user's code, read
 * its state, await its outcome. Every call names the customer; the verification id is derived from it.
 */
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
import { defaultTaskQueue, paymentMethodWorkflowId, verificationWorkflowId } from '../workflows/ids.js';
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
import {
  InvalidVerificationInputError,
  VerificationAlreadyRunningError,
  VerificationFinishedError,
  VerificationNotFoundError,
} from './errors.js';
import type { TemporalTarget } from '../config/temporal.js';
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

type VerificationHandle = WorkflowHandle<typeof verifyContactChange>;

export class VerificationClient {
  constructor(
    readonly client: Client,
    readonly taskQueue: string = defaultTaskQueue,
  ) {}

  static async connect(target: TemporalTarget, dataConverter: DataConverter, taskQueue?: string) {
    const connection = await Connection.connect(
      target.connectConfig.connectionOptions as Parameters<typeof Connection.connect>[0],
    );
    return new VerificationClient(
      new Client({ connection, namespace: target.namespace, dataConverter }),
      taskQueue,
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
    await this.whileRunning(customerId, (handle) => handle.signal(submitOtpSignal, { code }));
  }

  /** The user's code, answered with the verdict once the provider has checked it. */
  async verifyOtp(customerId: string, code: string): Promise<OtpVerdict> {
    return this.whileRunning(customerId, (handle) =>
      handle.executeUpdate(verifyOtpUpdate, { args: [{ code }] }),
    );
  }

  /** Asks for a new code; answered with whether it was sent (cooldown and cap apply). */
  async resend(customerId: string): Promise<ResendAnswer> {
    return this.whileRunning(customerId, (handle) => handle.executeUpdate(requestResendUpdate));
  }

  async cancel(customerId: string, reason?: string): Promise<void> {
    await this.whileRunning(customerId, (handle) => handle.signal(cancelSignal, reason ? { reason } : {}));
  }

  /** Bounded: a query needs a worker, and a caller polling state should hear "unavailable" in seconds. */
  async state(customerId: string, timeoutMs = 5000): Promise<VerificationState> {
    return this.mapErrors(customerId, (handle) =>
      this.client.withDeadline(Date.now() + timeoutMs, () => handle.query(stateQuery)),
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
