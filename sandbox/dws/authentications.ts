/**
 * An authentication is what a consult opens (or a risky phone change opens for its second challenge):
 * one challenge, its current code, and how far the user has got with it.
 */
import type { ChallengeType, CustomerUser } from '../../activities/dws/types.js';
import type { PinKey } from './pin-keys.js';
import type { HashedSecret } from './secrets.js';

/**
 * open -> verified -> consumed (by the modify that used it)
 * open -> applied (a risky change's second challenge, whose verify applied the pending change)
 * open -> locked (too many wrong codes)
 */
export type AuthenticationStatus = 'open' | 'verified' | 'consumed' | 'applied' | 'locked';

/** Where the challenge goes: an OTP by SMS or by email, or the customer's PIN. */
export type ChallengeChannel = 'sms' | 'email' | 'pin';

export interface IssuedCode {
  secret: HashedSecret;
  issuedAt: number;
  expiresAt: number;
}

/** A phone change that waits for the second challenge (on the new number) to be verified. */
export interface PendingChange {
  user: CustomerUser;
  /** the modifyCustomer requestId that asked for it */
  requestId: string;
}

export interface Authentication {
  authenticationId: string;
  customerId: string;
  channel: ChallengeChannel;
  /** what actionForm shows */
  challengeType: ChallengeType;
  /** masked destination; '' for a PIN */
  renderValue: string;
  status: AuthenticationStatus;
  /** the only code that verifies; replaced by every send, cleared once used */
  code?: IssuedCode;
  /** a PIN challenge's key, minted by every triggerChallenge: only a PIN encrypted with it verifies */
  pinKey?: PinKey;
  sends: number;
  failedAttempts: number;
  createdAt: number;
  pending?: PendingChange;
}

export type NewAuthentication = Pick<
  Authentication,
  'authenticationId' | 'customerId' | 'channel' | 'challengeType' | 'renderValue' | 'createdAt' | 'pending'
>;

export class AuthenticationStore {
  private readonly byId = new Map<string, Authentication>();

  open(init: NewAuthentication): Authentication {
    const authentication: Authentication = { ...init, status: 'open', sends: 0, failedAttempts: 0 };
    this.byId.set(init.authenticationId, authentication);
    return authentication;
  }

  get(authenticationId: string): Authentication | undefined {
    return this.byId.get(authenticationId);
  }

  clear(): void {
    this.byId.clear();
  }
}
