/**
 * What a contact-change verification takes, shows and returns. Everything here crosses the wire (start
 * arguments, query/update answers, results), so it is plain JSON: no Dates, no classes.
 */
import type {
  ActionForm,
  BusinessSceneCode,
  ChallengeType,
  CustomerUser,
  Env,
} from '../activities/dws/types.js';
import type { WonderCustomerUpdate } from '../activities/wonder/types.js';

export interface VerificationPolicy {
  /** how long one issued code may be answered; the workflow's timer, not the provider's */
  otpValiditySeconds: number;
  maxVerifyAttempts: number;
  maxResends: number;
  resendCooldownSeconds: number;
  /** consult challenge + "with risk" challenges; bounds a provider that keeps asking */
  maxChallengeRounds: number;
}

export const defaultPolicy: VerificationPolicy = {
  otpValiditySeconds: 300,
  maxVerifyAttempts: 5,
  maxResends: 3,
  resendCooldownSeconds: 30,
  maxChallengeRounds: 3,
};

export interface WonderSyncTarget {
  /** the customer's uuid at the Wonder gateway */
  customerUuid: string;
  lang?: 'zh-HK' | 'zh-CN' | 'en';
}

export interface VerificationInput {
  customerId: string;
  /** the new contact data: email, phone, or both where the provider allows */
  change: CustomerUser;
  businessSceneCode?: BusinessSceneCode;
  env?: Env;
  /** the user's language, passed to providers that localise (Wonder's x-i18n-lang) */
  language?: string;
  policy?: Partial<VerificationPolicy>;
  /** carry the verified change to this Wonder customer record afterwards */
  wonder?: WonderSyncTarget;
  /** the caller's idempotency key for the start (kept for operators; the workflow id enforces one change per customer) */
  requestKey?: string;
}

export type VerificationStep =
  'CONSULTING' | 'CHALLENGING' | 'AWAITING_INPUT' | 'VERIFYING' | 'MODIFYING' | 'SYNCING_WONDER' | 'DONE';

/** MODIFIED ends a contact change; UPDATED a Wonder payment-method change. */
export type OutcomeStatus =
  'MODIFIED' | 'UPDATED' | 'CANCELLED' | 'EXPIRED' | 'ATTEMPTS_EXCEEDED' | 'REJECTED';

export type WonderSyncStatus = 'NOT_REQUESTED' | 'PENDING' | 'SYNCED' | 'FAILED';

export interface TimelineEntry {
  /** ISO time, from the workflow clock */
  at: string;
  step: VerificationStep;
  event: string;
  resultCode?: string;
}

export interface VerificationState {
  customerId: string;
  step: VerificationStep;
  /** 1 for the consult's challenge, 2+ for challenges the provider adds ("with risk") */
  round: number;
  challengeType?: ChallengeType;
  /** as the provider renders it, already masked (e.g. "+60******6353") */
  maskedDestination?: string;
  attemptsLeft: number;
  resendsLeft: number;
  /** ISO time the current code stops being accepted */
  expiresAt?: string;
  /** ISO time a resend is next allowed */
  resendAvailableAt?: string;
  lastResultCode?: string;
  outcome?: OutcomeStatus;
  wonderSync: WonderSyncStatus;
  timeline: TimelineEntry[];
}

interface OutcomeBase {
  customerId: string;
  timeline: TimelineEntry[];
}

export type VerificationOutcome =
  | (OutcomeBase & { status: 'MODIFIED'; wonderSync: WonderSyncStatus; wonderFailure?: string })
  | (OutcomeBase & { status: 'CANCELLED'; reason?: string })
  | (OutcomeBase & { status: 'EXPIRED' })
  | (OutcomeBase & { status: 'ATTEMPTS_EXCEEDED' })
  | (OutcomeBase & {
      status: 'REJECTED';
      resultCode: string;
      resultMessage: string;
      failedStep: VerificationStep;
    });

export interface OtpSubmission {
  /** the SMS code or the payment PIN, as the user typed it */
  code: string;
}

export type OtpVerdict =
  | { verdict: 'ACCEPTED' }
  | { verdict: 'INCORRECT'; attemptsLeft: number }
  | { verdict: 'EXPIRED' }
  | { verdict: 'ATTEMPTS_EXCEEDED' }
  | { verdict: 'CLOSED'; outcome?: OutcomeStatus };

export type ResendAnswer =
  | { honoured: true; resendsLeft: number; expiresAt: string }
  | {
      honoured: false;
      reason: 'COOLDOWN' | 'NO_RESENDS_LEFT' | 'NOT_SMS' | 'NOT_AWAITING_INPUT';
      retryAfterSeconds?: number;
    };

export interface CancelRequest {
  reason?: string;
}

/** Change the default payment method/token of a Wonder customer, optionally confirmed by the wallet user. */
export interface PaymentMethodChangeInput {
  wonderCustomerUuid: string;
  /** null clears the field at Wonder; an absent field is left as it is */
  update: Pick<WonderCustomerUpdate, 'default_payment_method' | 'default_payment_token'>;
  /** ask the wallet user to prove possession (the DWS challenge: SMS code or PIN) before the change */
  confirmWith?: { customerId: string; businessSceneCode?: BusinessSceneCode; env?: Env };
  lang?: WonderSyncTarget['lang'];
  policy?: Partial<VerificationPolicy>;
}

export type PaymentMethodChangeOutcome =
  | {
      status: 'UPDATED';
      wonderCustomerUuid: string;
      changed: string[];
      cleared: string[];
      timeline: TimelineEntry[];
    }
  | {
      status: 'CANCELLED' | 'EXPIRED' | 'ATTEMPTS_EXCEEDED';
      wonderCustomerUuid: string;
      timeline: TimelineEntry[];
    }
  | {
      status: 'REJECTED';
      wonderCustomerUuid: string;
      resultCode: string;
      resultMessage: string;
      failedStep: VerificationStep;
      timeline: TimelineEntry[];
    };

export type { ActionForm };
