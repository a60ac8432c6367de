/** Everything the operations read and change, so each operation is a plain function of it. */
import type { AuthenticationStore } from './authentications.js';
import type { ConsultLimit, ConsultLimiter } from './consult-limiter.js';
import type { CustomerStore } from './customers.js';
import type { Ledger } from './ledger.js';
import type { Outbox } from './outbox.js';

export interface DwsRules {
  /** how long an issued OTP verifies */
  otpTtlMs: number;
  /** wrong codes allowed per authentication; the last one locks it */
  maxVerifyAttempts: number;
  /** codes triggerChallenge may send per authentication */
  maxSendsPerAuthentication: number;
  consultLimit: ConsultLimit;
}

export interface DwsState {
  readonly rules: DwsRules;
  now(): number;
  readonly customers: CustomerStore;
  readonly authentications: AuthenticationStore;
  readonly outbox: Outbox;
  readonly ledger: Ledger;
  readonly consultLimiter: ConsultLimiter;
}
