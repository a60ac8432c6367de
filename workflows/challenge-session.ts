/**
 * The user proving possession: trigger → wait for the code (signal or update), bounded by the code's
 * validity → verify; resends honour the cooldown and the cap; a cancel ends the wait. The workflows set
 * the message handlers themselves (so a reader sees them); the logic they call lives here, shared by
 * every workflow that needs the user to prove possession.
 */
import { allHandlersFinished, condition, currentUpdateInfo, uuid4 } from '@temporalio/workflow';
import type {
  ActionForm,
  BusinessSceneCode,
  ChallengeData,
  ChallengeType,
  ConsultInput,
  ConsultOutput,
  Env,
  VerifyOutput,
} from '../activities/dws/types.js';
import { ChallengeInbox } from './challenge-inbox.js';
import { callerFailure } from './failures.js';
import type { PatchAsks } from './patch-asks.js';
import { patches } from './patches.js';
import { sendBudgetRefusal, stillUnanswered } from './provider-failure.js';
import type { FlowJournal } from './flow-journal.js';
import { submissionKeyOf } from './ids.js';
import { dws, dwsConsultLocal, dwsLocal } from './provider-activities.js';
import type {
  CancelRequest,
  ChallengeAnswer,
  OtpSubmission,
  OtpVerdict,
  OutcomeStatus,
  ResendAnswer,
  Submission,
  UnprovenStatus,
  VerificationPolicy,
} from './types.js';
import { encryptedPinSchema, smsCodeSchema } from './wire-schemas.js';

export interface Challenge {
  authenticationId: string;
  actionForm: ActionForm;
}

export type ChallengeResult =
  { passed: true; furtherChallenge?: Challenge } | { passed: false; status: UnprovenStatus };

/** Who must prove possession, as the DWS consult takes it. */
export interface PossessionRequest {
  customerId: string;
  businessSceneCode?: BusinessSceneCode;
  env?: Env;
}

/** The last challenge the user passed (its authenticationId authorises the modify) and its round. */
export type Possession =
  | { proven: true; challenge: Challenge; round: number }
  | { proven: false; status: UnprovenStatus }
  | { proven: false; status: 'REJECTED'; resultCode: 'TOO_MANY_CHALLENGES'; resultMessage: string };

export class ChallengeSession {
  /** the first code's challenge, as sent: where it went tells whose number was on file */
  firstChallenge: ActionForm | undefined;
  private readonly inbox = new ChallengeInbox();
  private cancelRequest: { reason?: string } | undefined;
  private lastSentAt = 0;
  private expiresAtMs = 0;
  /** which PIN rule this run applies; see codeFormatProblem */
  private pinRule: PinRule = 'digits';
  constructor(
    private readonly journal: FlowJournal,
    private readonly policy: VerificationPolicy,
    private readonly patches: PatchAsks,
  ) {}

  /** submitOtp: a signal cannot be refused; a malformed code is noted and costs no attempt. */
  readonly submitCode = ({ code }: OtpSubmission): void => {
    if (codeFormatProblem(code, this.journal.state.challengeType, this.pinRule)) {
      this.journal.record('AWAITING_INPUT', 'malformed code ignored');
      return;
    }
    this.inbox.push({ kind: 'otp', code }, false);
  };

  /** verifyOtp: the caller waits for the verdict of exactly its own code. */
  readonly verifyCode = async ({ code }: OtpSubmission): Promise<OtpVerdict> => {
    const updateId = currentUpdateInfo()?.id;
    const verdict = await this.inbox.replyTo<OtpVerdict>(this.inbox.push({ kind: 'otp', code }, true));
    this.remember(updateId, (key, at) => ({ kind: 'otp', key, at, verdict }));
    return verdict;
  };

  /** verifyOtp's validator: a refused update never reaches history. Synchronous, as the SDK requires. */
  readonly checkCode = ({ code }: OtpSubmission): void => {
    this.checkOpen();
    const problem = codeFormatProblem(code, this.journal.state.challengeType, this.pinRule);
    if (problem) throw callerFailure('CODE_FORMAT', problem);
  };

  readonly queueResend = (): void => void this.inbox.push({ kind: 'resend' }, false);

  readonly requestResend = async (): Promise<ResendAnswer> => {
    const updateId = currentUpdateInfo()?.id;
    const answer = await this.inbox.replyTo<ResendAnswer>(this.inbox.push({ kind: 'resend' }, true));
    this.remember(updateId, (key, at) => ({ kind: 'resend', key, at, answer }));
    return answer;
  };

  readonly checkOpen = (): void => {
    if (this.journal.state.step === 'DONE')
      throw callerFailure('VERIFICATION_FINISHED', 'the verification has already finished');
  };

  readonly cancel = (request?: CancelRequest): void => {
    this.cancelRequest = request ?? {};
  };

  /**
   * A code is out and the user is answering it: not while one is being sent, nor between an accepted code
   * and the provider's next challenge (a phone change "with risk"), so an attached start learns the code
   * the user must type now.
   */
  get challengeOpen(): boolean {
    const { step } = this.journal.state;
    return this.lastSentAt > 0 && (step === 'AWAITING_INPUT' || step === 'VERIFYING');
  }

  challengeAnswer(): ChallengeAnswer {
    const { state } = this.journal;
    return {
      challengeType: state.challengeType ?? 'sms',
      ...(state.maskedDestination ? { maskedDestination: state.maskedDestination } : {}),
      attemptsLeft: state.attemptsLeft,
      resendsLeft: state.resendsLeft,
      expiresAt: state.expiresAt ?? new Date(this.expiresAtMs).toISOString(),
      round: state.round,
    };
  }

  get cancelled(): boolean {
    return !!this.cancelRequest;
  }

  get cancelReason(): string | undefined {
    return this.cancelRequest?.reason;
  }

  /** An operator's cancel (Temporal cancellation) counts like the user's. */
  markCancelled(reason: string): void {
    this.cancelRequest ??= { reason };
  }

  /** consult → challenge rounds, until the user has passed every challenge the provider set */
  async confirmPossession(request: PossessionRequest): Promise<Possession> {
    this.journal.enter('CONSULTING');
    const consult = await this.consult({
      requestId: uuid4(),
      customerId: request.customerId,
      businessSceneCode: request.businessSceneCode ?? 'MOBILE_AVAILABLE',
      env: request.env,
    });
    this.journal.note('consulted', consult.resultCode);
    return this.passRounds({ authenticationId: consult.authenticationId, actionForm: consult.actionForm }, 1);
  }

  /**
   * The consult runs local for its first seconds (consultLocalBudget), so the code goes out in the flow's
   * first workflow task. Without a final answer by then it carries on as an activity under the same
   * requestId, where an operator sees it pending with its attempts; a final "no" ends the flow as before.
   * Runs that began before patches.localConsult consult as an activity from the start, and replay so.
   */
  private async consult(input: ConsultInput): Promise<ConsultOutput> {
    if (!this.patches.localConsult) return dws.consultModification(input);
    try {
      return await dwsConsultLocal.consultModification(input);
    } catch (err) {
      if (!stillUnanswered(err)) throw err;
    }
    this.journal.note(
      'no final answer from DWS within the first seconds: the consult goes on as an activity',
    );
    return dws.consultModification(input);
  }

  /** A challenge and the further ones its verification asks for, bounded by maxChallengeRounds. */
  async passRounds(first: Challenge, firstRound: number): Promise<Possession> {
    let challenge = first;
    for (let round = firstRound; ; round++) {
      if (round > this.policy.maxChallengeRounds) {
        return {
          proven: false,
          status: 'REJECTED',
          resultCode: 'TOO_MANY_CHALLENGES',
          resultMessage: `the provider asked for more than ${this.policy.maxChallengeRounds} challenges`,
        };
      }
      const result = await this.pass(challenge, round);
      if (!result.passed) return { proven: false, status: result.status };
      if (!result.furtherChallenge) return { proven: true, challenge, round };
      challenge = result.furtherChallenge;
    }
  }

  /** trigger → wait → verify, until the code is accepted or the challenge ends the flow */
  private async pass(challenge: Challenge, round: number): Promise<ChallengeResult> {
    const { state } = this.journal;
    state.round = round;
    state.challengeType = challenge.actionForm.challengeType;
    state.maskedDestination = challenge.actionForm.challengeRenderValue || undefined;
    delete state.encryptionInfo;
    // Runs that began before the encrypted PIN refused anything but 6 digits without a verify; they keep
    // doing so on replay. Asked only for a PIN challenge, so SMS runs record no marker.
    if (state.challengeType === 'PAYMENT_PASSWORD' && this.patches.takes(patches.encryptedPin))
      this.pinRule = 'encrypted';
    state.attemptsLeft = this.policy.maxVerifyAttempts;
    state.resendsLeft = this.policy.maxResends;
    if (this.cancelled) return this.end('CANCELLED', 'cancelled');
    await this.sendCode(challenge, 'challenge sent');
    if (round === 1) {
      this.firstChallenge ??= {
        challengeType: challenge.actionForm.challengeType,
        challengeRenderValue: state.maskedDestination ?? '',
      };
    }

    for (;;) {
      this.journal.enter('AWAITING_INPUT');
      const woke = await condition(
        () => this.inbox.hasItems || this.cancelled,
        Math.max(this.expiresAtMs - now(), 1),
      );
      if (this.cancelled) return this.end('CANCELLED', 'cancelled');
      if (!woke) return this.end('EXPIRED', 'code expired unanswered');

      const item = this.inbox.take();
      if (!item) continue;
      if (item.kind === 'resend') {
        this.inbox.reply(item.id, await ChallengeInbox.for(item, () => this.resend(challenge)));
        continue;
      }

      this.journal.enter('VERIFYING');
      const requestId = uuid4();
      const verified: VerifyOutput = await ChallengeInbox.for(item, () =>
        this.userFacing().verifyAndResume({
          requestId,
          authenticationId: challenge.authenticationId,
          challengeData: challengeData(state.challengeType, item.code),
        }),
      );
      state.lastResultCode = verified.resultCode;
      switch (verified.verdict) {
        case 'ACCEPTED':
          this.journal.note('code accepted', verified.resultCode);
          this.inbox.reply(item.id, { verdict: 'ACCEPTED' });
          return { passed: true, furtherChallenge: verified.furtherChallenge };
        case 'INCORRECT':
          state.attemptsLeft -= 1;
          this.journal.note(`code incorrect, ${state.attemptsLeft} attempts left`, verified.resultCode);
          if (state.attemptsLeft > 0) {
            this.inbox.reply(item.id, { verdict: 'INCORRECT', attemptsLeft: state.attemptsLeft });
            continue;
          }
          this.inbox.reply(item.id, { verdict: 'ATTEMPTS_EXCEEDED' });
          return this.end('ATTEMPTS_EXCEEDED', 'no attempts left');
        case 'LOCKED':
          state.attemptsLeft = 0;
          this.inbox.reply(item.id, { verdict: 'ATTEMPTS_EXCEEDED' });
          return this.end('ATTEMPTS_EXCEEDED', 'the provider locked the challenge');
        case 'EXPIRED':
          this.inbox.reply(item.id, { verdict: 'EXPIRED' });
          return this.end('EXPIRED', 'the provider reports the code expired');
      }
    }
  }

  /** Answers whatever is still queued and lets update handlers deliver before the run closes. */
  async close(status: OutcomeStatus): Promise<void> {
    const closed: OtpVerdict = { verdict: 'CLOSED', outcome: status };
    const notAwaiting: ResendAnswer = { honoured: false, reason: 'NOT_AWAITING_INPUT' };
    this.inbox.closeAll(closed, notAwaiting);
    // The code or resend whose provider call ended the flow has a caller too. Runs that began before
    // patches.localUserCallFailures left it unanswered, and so never closed; asked only then.
    if (this.inbox.hasUnanswered && this.patches.takes(patches.localUserCallFailures))
      this.inbox.closeUnanswered(closed, notAwaiting);
    await condition(allHandlersFinished);
  }

  /**
   * Keeps an update's answer in the state under the caller's key: the update id is the key, so the answer
   * of a submission whose caller gave up waiting (an outage) stays readable. State only, not a command.
   */
  private remember(updateId: string | undefined, answer: (key: string, at: string) => Submission): void {
    if (!updateId) return;
    const submissions = (this.journal.state.submissions ??= []);
    submissions.push(answer(submissionKeyOf(updateId), new Date().toISOString()));
    // Bounded like the limits in front of it; the newest answers are the ones a retry looks for.
    if (submissions.length > maxRememberedSubmissions)
      submissions.splice(0, submissions.length - maxRememberedSubmissions);
  }

  /** Histories recorded before the change keep their activity tasks; new flows run the two calls locally. */
  private userFacing(): typeof dws {
    return this.patches.takes(patches.localUserCalls) ? dwsLocal : dws;
  }

  private end(status: UnprovenStatus, event: string): ChallengeResult {
    this.journal.note(event);
    return { passed: false, status };
  }

  private async sendCode(challenge: Challenge, event: string): Promise<void> {
    const { state } = this.journal;
    this.journal.enter('CHALLENGING');
    const sent = await this.userFacing().triggerChallenge({
      challengeId: challenge.authenticationId,
      triggerRequestId: uuid4(),
      customerId: state.customerId ?? '',
    });
    this.lastSentAt = now();
    this.expiresAtMs = this.lastSentAt + this.policy.otpValiditySeconds * 1000;
    state.expiresAt = new Date(this.expiresAtMs).toISOString();
    state.resendAvailableAt = new Date(
      this.lastSentAt + this.policy.resendCooldownSeconds * 1000,
    ).toISOString();
    if (sent.challengeRenderValue) state.maskedDestination = sent.challengeRenderValue;
    // Each trigger of a PIN challenge hands out new key material; the app must encrypt with the latest.
    if (sent.encryptionInfo) state.encryptionInfo = sent.encryptionInfo;
    this.journal.note(event, sent.resultCode);
  }

  private async resend(challenge: Challenge): Promise<ResendAnswer> {
    const { state } = this.journal;
    if (state.challengeType !== 'sms') return this.refuseResend({ honoured: false, reason: 'NOT_SMS' });
    if (state.resendsLeft <= 0) return this.refuseResend({ honoured: false, reason: 'NO_RESENDS_LEFT' });
    const waitMs = this.lastSentAt + this.policy.resendCooldownSeconds * 1000 - now();
    if (waitMs > 0) {
      return this.refuseResend({
        honoured: false,
        reason: 'COOLDOWN',
        retryAfterSeconds: Math.ceil(waitMs / 1000),
      });
    }
    state.resendsLeft -= 1;
    try {
      await this.sendCode(challenge, `code resent, ${state.resendsLeft} resends left`);
    } catch (err) {
      // The customer has had enough codes for now: the one already sent stays valid, and the user may
      // still type it, so the flow keeps waiting and the refused resend costs no resend.
      const refusal = sendBudgetRefusal(err);
      if (!refusal) throw err;
      state.resendsLeft += 1;
      return this.refuseResend({
        honoured: false,
        reason: 'SEND_BUDGET_EXCEEDED',
        retryAfterSeconds: refusal.retryAfterSeconds,
        message: refusal.reason,
      });
    }
    return { honoured: true, resendsLeft: state.resendsLeft, expiresAt: state.expiresAt ?? '' };
  }

  private refuseResend(answer: ResendAnswer & { honoured: false }): ResendAnswer {
    this.journal.record(this.journal.state.step, `resend refused: ${answer.reason}`);
    return answer;
  }
}

const maxRememberedSubmissions = 20;

function now(): number {
  return new Date().getTime();
}

function challengeData(challengeType: string | undefined, code: string): ChallengeData {
  return challengeType === 'PAYMENT_PASSWORD'
    ? { challengeType: 'PAYMENT_PASSWORD', passwordValue: code }
    : { challengeType: 'SMS_OTP', otpValue: code };
}

/** 'digits': the clear 6-digit PIN, before patches.encryptedPin; 'encrypted': the app's ciphertext. */
export type PinRule = 'digits' | 'encrypted';

const smsCode = new RegExp(smsCodeSchema.pattern);
const encryptedPin = new RegExp(encryptedPinSchema.pattern);
const clearPin = /^\d{6}$/;

/** Why a typed code cannot be right, or undefined; both rules are the wire contract's. */
export function codeFormatProblem(
  code: unknown,
  challengeType: ChallengeType | undefined,
  pinRule: PinRule = 'encrypted',
): string | undefined {
  if (typeof code !== 'string') return 'code must be a string';
  if (challengeType !== 'PAYMENT_PASSWORD') {
    return smsCode.test(code) ? undefined : 'code must be 4 to 8 digits';
  }
  if (pinRule === 'digits') return clearPin.test(code) ? undefined : 'code must be the 6-digit payment PIN';
  // Whether it decrypts is the provider's to say (and costs an attempt there), not ours.
  return encryptedPin.test(code)
    ? undefined
    : 'code must be the PIN encrypted with encryptionInfo: 4 to 2048 characters of base64, base64url or hex';
}
