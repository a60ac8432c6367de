/**
 * One user challenge, from sending the code to the verdict: trigger → wait for the code (signal or
 * update), bounded by the code's validity → verify; resends honour the cooldown and the cap; a cancel
 * ends the wait. Shared by every workflow that needs the user to prove possession.
 */
import { allHandlersFinished, condition, setHandler, uuid4 } from '@temporalio/workflow';
import type { VerifyOutput } from '../activities/dws/activities.js';
import type { ActionForm, ChallengeData } from '../activities/dws/types.js';
import { ChallengeInbox } from './challenge-inbox.js';
import type { FlowJournal } from './flow-journal.js';
import {
  cancelSignal,
  requestResendUpdate,
  resendOtpSignal,
  stateQuery,
  submitOtpSignal,
  verifyOtpUpdate,
} from './messages.js';
import { dws } from './provider-activities.js';
import type { OtpVerdict, OutcomeStatus, ResendAnswer, VerificationPolicy } from './types.js';
import { codeFormatProblem } from './validation.js';

export interface Challenge {
  authenticationId: string;
  actionForm: ActionForm;
}

export type ChallengeResult =
  | { passed: true; furtherChallenge?: Challenge }
  | { passed: false; status: 'CANCELLED' | 'EXPIRED' | 'ATTEMPTS_EXCEEDED' };

export class ChallengeSession {
  private readonly inbox = new ChallengeInbox();
  private cancelRequest: { reason?: string } | undefined;
  private lastSentAt = 0;
  private expiresAtMs = 0;

  constructor(
    private readonly journal: FlowJournal,
    private readonly policy: VerificationPolicy,
  ) {
    const state = journal.state;
    setHandler(stateQuery, () => state);
    setHandler(submitOtpSignal, ({ code }) => {
      // A signal cannot be refused; a malformed one is noted and costs no attempt.
      if (codeFormatProblem(code, state.challengeType))
        return journal.record('AWAITING_INPUT', 'malformed code ignored');
      this.inbox.push({ kind: 'otp', code }, false);
    });
    setHandler(resendOtpSignal, () => void this.inbox.push({ kind: 'resend' }, false));
    setHandler(cancelSignal, (request) => {
      this.cancelRequest = request ?? {};
    });
    setHandler(
      verifyOtpUpdate,
      ({ code }) => this.inbox.replyTo<OtpVerdict>(this.inbox.push({ kind: 'otp', code }, true)),
      {
        validator: ({ code }) => {
          if (state.step === 'DONE') throw new Error('the verification has already finished');
          const problem = codeFormatProblem(code, state.challengeType);
          if (problem) throw new Error(problem);
        },
      },
    );
    setHandler(
      requestResendUpdate,
      () => this.inbox.replyTo<ResendAnswer>(this.inbox.push({ kind: 'resend' }, true)),
      {
        validator: () => {
          if (state.step === 'DONE') throw new Error('the verification has already finished');
        },
      },
    );
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

  /** trigger → wait → verify, until the code is accepted or the challenge ends the flow */
  async pass(challenge: Challenge, round: number): Promise<ChallengeResult> {
    const { state } = this.journal;
    state.round = round;
    state.challengeType = challenge.actionForm.challengeType;
    state.maskedDestination = challenge.actionForm.challengeRenderValue || undefined;
    state.attemptsLeft = this.policy.maxVerifyAttempts;
    state.resendsLeft = this.policy.maxResends;
    if (this.cancelled) return this.end('CANCELLED', 'cancelled');
    await this.sendCode(challenge, 'challenge sent');

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
        this.inbox.reply(item.id, await this.resend(challenge));
        continue;
      }

      this.journal.enter('VERIFYING');
      const verified: VerifyOutput = await dws.verifyAndResume({
        requestId: uuid4(),
        authenticationId: challenge.authenticationId,
        challengeData: challengeData(state.challengeType, item.code),
      });
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
    this.inbox.closeAll(
      { verdict: 'CLOSED', outcome: status },
      { honoured: false, reason: 'NOT_AWAITING_INPUT' },
    );
    await condition(allHandlersFinished);
  }

  private end(status: 'CANCELLED' | 'EXPIRED' | 'ATTEMPTS_EXCEEDED', event: string): ChallengeResult {
    this.journal.note(event);
    return { passed: false, status };
  }

  private async sendCode(challenge: Challenge, event: string): Promise<void> {
    const { state } = this.journal;
    this.journal.enter('CHALLENGING');
    const sent = await dws.triggerChallenge({
      challengeId: challenge.authenticationId,
      triggerRequestId: uuid4(),
    });
    this.lastSentAt = now();
    this.expiresAtMs = this.lastSentAt + this.policy.otpValiditySeconds * 1000;
    state.expiresAt = new Date(this.expiresAtMs).toISOString();
    state.resendAvailableAt = new Date(
      this.lastSentAt + this.policy.resendCooldownSeconds * 1000,
    ).toISOString();
    if (sent.challengeRenderValue) state.maskedDestination = sent.challengeRenderValue;
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
    await this.sendCode(challenge, `code resent, ${state.resendsLeft} resends left`);
    return { honoured: true, resendsLeft: state.resendsLeft, expiresAt: state.expiresAt ?? '' };
  }

  private refuseResend(answer: ResendAnswer & { honoured: false }): ResendAnswer {
    this.journal.record(this.journal.state.step, `resend refused: ${answer.reason}`);
    return answer;
  }
}

function now(): number {
  return new Date().getTime();
}

function challengeData(challengeType: string | undefined, code: string): ChallengeData {
  return challengeType === 'PAYMENT_PASSWORD'
    ? { challengeType: 'PAYMENT_PASSWORD', passwordValue: code }
    : { challengeType: 'SMS_OTP', otpValue: code };
}
