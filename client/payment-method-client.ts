/**
 * What a backend service imports to change a Wonder customer's default payment method or token (one
 * change at a time per Wonder customer), optionally confirmed by the wallet user through the DWS
 * challenge. Every call names the Wonder customer; the same bound and typed errors as the contact-change
 * client apply: every call but `result` answers within the bound or throws VerificationUnavailableError.
 */
import type { Client } from '@temporalio/client';
import { defaultTaskQueue, paymentMethodWorkflowId } from '../workflows/ids.js';
import type {
  OtpVerdict,
  PaymentMethodChangeInput,
  PaymentMethodChangeOutcome,
  ResendAnswer,
  VerificationPolicy,
  VerificationState,
  ChangeWonderPaymentMethodWorkflow,
} from '../workflows/types.js';
import { defaultPolicy } from '../workflows/types.js';
import { checkCaller, FlowCalls, ownerMemo, type Caller, type SubmissionOptions } from './flow-calls.js';
import { defaultAnswerWithinMs } from './outages.js';
import { validatePaymentMethodChangeInput } from './validate.js';

export interface StartedPaymentMethodChange {
  /** the workflow id, `payment-method-<wonderCustomerUuid>`, as the library's errors name it */
  verificationId: string;
  runId: string;
}

export interface PaymentMethodClientOptions {
  /** every call but `result` answers within this, or throws VerificationUnavailableError; default 10 s */
  answerWithinMs?: number;
  /** as for VerificationClient: recorded on what it starts; its calls see only its own changes */
  caller?: string | Caller;
  /** the operator's policy, as for VerificationClient: the default and the loosest a start may ask for */
  policy?: VerificationPolicy;
}

export class PaymentMethodClient {
  readonly answerWithinMs: number;
  readonly caller: Caller | undefined;
  readonly policy: VerificationPolicy;
  private readonly calls: FlowCalls;

  constructor(
    readonly client: Client,
    readonly taskQueue: string = defaultTaskQueue,
    options: PaymentMethodClientOptions = {},
  ) {
    this.answerWithinMs = options.answerWithinMs ?? defaultAnswerWithinMs;
    this.caller = checkCaller(options.caller);
    this.policy = options.policy ?? defaultPolicy;
    this.calls = new FlowCalls(client, this.answerWithinMs, this.caller);
  }

  verificationId(wonderCustomerUuid: string): string {
    return paymentMethodWorkflowId(wonderCustomerUuid);
  }

  /**
   * Starts the change and answers as soon as the run exists. With `confirmWith`, the wallet user then
   * proves possession first: send the code with `verifyOtp`, read `state` for the challenge. A change
   * already running for this Wonder customer refuses the start (VerificationAlreadyRunningError); an input
   * the contract refuses, or a policy looser than the operator's, throws InvalidVerificationInputError.
   */
  async start(input: PaymentMethodChangeInput): Promise<StartedPaymentMethodChange> {
    const valid = validatePaymentMethodChangeInput(input, this.policy);
    const verificationId = this.verificationId(valid.wonderCustomerUuid);
    return this.calls.start(verificationId, async () => {
      const handle = await this.client.workflow.start<ChangeWonderPaymentMethodWorkflow>(
        'changeWonderPaymentMethod',
        {
          args: [valid],
          taskQueue: this.taskQueue,
          workflowId: verificationId,
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          memo: ownerMemo(this.caller),
          staticSummary: `Default payment method change for Wonder customer ${valid.wonderCustomerUuid}`,
        },
      );
      const runId = handle.firstExecutionRunId ?? '';
      this.calls.sawRunning(verificationId, runId);
      return { verificationId, runId };
    });
  }

  state(wonderCustomerUuid: string, timeoutMs = this.answerWithinMs): Promise<VerificationState> {
    return this.calls.state(this.verificationId(wonderCustomerUuid), timeoutMs);
  }

  submitOtp(wonderCustomerUuid: string, code: string): Promise<void> {
    return this.calls.submitOtp(this.verificationId(wonderCustomerUuid), code);
  }

  /** The wallet user's code, answered with the verdict; idempotent on the key, as for a contact change. */
  verifyOtp(wonderCustomerUuid: string, code: string, options: SubmissionOptions = {}): Promise<OtpVerdict> {
    return this.calls.verifyOtp(this.verificationId(wonderCustomerUuid), code, options);
  }

  resend(wonderCustomerUuid: string, options: SubmissionOptions = {}): Promise<ResendAnswer> {
    return this.calls.resend(this.verificationId(wonderCustomerUuid), options);
  }

  cancel(wonderCustomerUuid: string, reason?: string): Promise<void> {
    return this.calls.cancel(this.verificationId(wonderCustomerUuid), reason);
  }

  result(wonderCustomerUuid: string): Promise<PaymentMethodChangeOutcome> {
    return this.calls.result(this.verificationId(wonderCustomerUuid));
  }

  /** The outcome, waiting at most `waitMs` for a running change to finish; undefined if it has not. */
  outcome(wonderCustomerUuid: string, waitMs: number): Promise<PaymentMethodChangeOutcome | undefined> {
    return this.calls.outcome(this.verificationId(wonderCustomerUuid), waitMs);
  }
}
