/** The wallet's customer records: what modifyCustomer changes and what challenges are sent to. */
import type { ChallengeType, CustomerUser, MobileNoInfo } from '../../activities/dws/types.js';
import { hashSecret, type HashedSecret } from './secrets.js';
import {
  FieldError,
  isValidEmail,
  isValidPhone,
  optionalString,
  parseMobileNoInfo,
  requiredObject,
  requiredString,
} from './field-rules.js';

export interface CustomerSeed {
  customerId: string;
  email?: string;
  mobileNoInfo?: MobileNoInfo;
  /** how a consult challenges this customer */
  challengeType: ChallengeType;
  /** the payment PIN, for PAYMENT_PASSWORD (and the MOBILE_UNAVAILABLE fallback) */
  pin?: string;
  /** every phone change of this customer needs a second challenge on the new number */
  riskyPhoneChange?: boolean;
}

export interface Customer {
  customerId: string;
  email?: string;
  mobileNoInfo?: MobileNoInfo;
  challengeType: ChallengeType;
  pin?: HashedSecret;
  riskyPhoneChange: boolean;
}

/** The admin view: real contact data (the control API is the sandbox's own), never the PIN. */
export interface CustomerView {
  customerId: string;
  email?: string;
  mobileNoInfo?: MobileNoInfo;
  challengeType: ChallengeType;
  hasPin: boolean;
  riskyPhoneChange: boolean;
}

export const defaultCustomers: readonly CustomerSeed[] = [
  {
    customerId: '2188000000000000001',
    email: 'alice@example.com',
    mobileNoInfo: { countryCode: '65', phoneNo: '85555551' },
    challengeType: 'sms',
  },
  {
    customerId: '2188000000000000002',
    email: 'bob@example.com',
    mobileNoInfo: { countryCode: '60', phoneNo: '123456302' },
    challengeType: 'PAYMENT_PASSWORD',
    pin: '123456',
  },
  {
    customerId: '2188000000000000003',
    email: 'carol@example.com',
    mobileNoInfo: { countryCode: '62', phoneNo: '81234567508' },
    challengeType: 'sms',
    riskyPhoneChange: true,
  },
];

export class CustomerStore {
  private readonly byId = new Map<string, Customer>();

  /** Adds or replaces a customer; true when it was new. */
  upsert(seed: CustomerSeed): boolean {
    const created = !this.byId.has(seed.customerId);
    this.byId.set(seed.customerId, {
      customerId: seed.customerId,
      ...(seed.email === undefined ? {} : { email: seed.email }),
      ...(seed.mobileNoInfo === undefined ? {} : { mobileNoInfo: { ...seed.mobileNoInfo } }),
      challengeType: seed.challengeType,
      ...(seed.pin === undefined ? {} : { pin: hashSecret(seed.pin) }),
      riskyPhoneChange: seed.riskyPhoneChange ?? false,
    });
    return created;
  }

  get(customerId: string): Customer | undefined {
    return this.byId.get(customerId);
  }

  view(customerId: string): CustomerView | undefined {
    const customer = this.byId.get(customerId);
    if (!customer) return undefined;
    return {
      customerId: customer.customerId,
      ...(customer.email === undefined ? {} : { email: customer.email }),
      ...(customer.mobileNoInfo === undefined ? {} : { mobileNoInfo: { ...customer.mobileNoInfo } }),
      challengeType: customer.challengeType,
      hasPin: customer.pin !== undefined,
      riskyPhoneChange: customer.riskyPhoneChange,
    };
  }

  /** Applies a verified change; returns the fields it changed. */
  apply(customerId: string, user: CustomerUser): (keyof CustomerUser)[] {
    const customer = this.byId.get(customerId);
    if (!customer) throw new Error(`customer ${customerId} vanished while a change was pending`);
    const changed: (keyof CustomerUser)[] = [];
    if (user.email !== undefined) {
      customer.email = user.email;
      changed.push('email');
    }
    if (user.mobileNoInfo !== undefined) {
      customer.mobileNoInfo = { ...user.mobileNoInfo };
      changed.push('mobileNoInfo');
    }
    return changed;
  }

  clear(): void {
    this.byId.clear();
  }
}

/** Validates a customer posted to the control API. */
export function parseCustomerSeed(input: unknown): CustomerSeed {
  const raw = requiredObject(input, 'body');
  const challengeType = raw.challengeType ?? 'sms';
  if (challengeType !== 'sms' && challengeType !== 'PAYMENT_PASSWORD') {
    throw new FieldError('challengeType', "must be 'sms' or 'PAYMENT_PASSWORD'");
  }
  const seed: CustomerSeed = { customerId: requiredString(raw.customerId, 'customerId'), challengeType };
  const email = optionalString(raw.email, 'email', 254);
  if (email !== undefined) {
    if (!isValidEmail(email)) throw new FieldError('email', 'is not a valid email address');
    seed.email = email;
  }
  if (raw.mobileNoInfo !== undefined) {
    seed.mobileNoInfo = parseMobileNoInfo(raw.mobileNoInfo, 'mobileNoInfo');
    if (!isValidPhone(seed.mobileNoInfo)) {
      throw new FieldError('mobileNoInfo', 'needs a countryCode of 1-3 digits and a phoneNo of 5-15 digits');
    }
  }
  const pin = optionalString(raw.pin, 'pin');
  if (pin !== undefined) seed.pin = pin;
  if (raw.riskyPhoneChange !== undefined) {
    if (typeof raw.riskyPhoneChange !== 'boolean')
      throw new FieldError('riskyPhoneChange', 'must be a boolean');
    seed.riskyPhoneChange = raw.riskyPhoneChange;
  }
  if (challengeType === 'PAYMENT_PASSWORD' && seed.pin === undefined) {
    throw new FieldError('pin', 'is required when challengeType is PAYMENT_PASSWORD');
  }
  if (challengeType === 'sms' && seed.mobileNoInfo === undefined) {
    throw new FieldError('mobileNoInfo', "is required when challengeType is 'sms'");
  }
  return seed;
}
