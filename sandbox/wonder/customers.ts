/**
 * The gateway's customer records and the seed's partial-update rules:
 *   name, email, phone: absent or "" -> unchanged ("为空,则不修改");
 *   default_payment_method, default_payment_token: "" -> cleared ("允许修改为空");
 *   default_payment_method outside the seed's list -> 400;
 *   default_payment_token must be the token value of one of the customer's own payment tokens.
 */
import { randomUUID } from 'node:crypto';
import {
  isWonderPaymentMethod,
  wonderPaymentMethods,
  type WonderCreditCard,
  type WonderCustomer,
  type WonderPaymentMethod,
  type WonderTokenType,
} from '../../activities/wonder/types.js';

export class CustomerFieldError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field} ${problem}`);
    this.name = 'CustomerFieldError';
  }
}

export interface StoredPaymentToken {
  token_type: WonderTokenType;
  token: string;
  state: string;
  verify_url: string | null;
  verify_uuid: string;
  credit_card?: WonderCreditCard;
}

export interface StoredCustomer {
  uuid: string;
  reference_number: string;
  name?: string;
  email?: string;
  dial_code?: string;
  phone?: string;
  default_payment_method?: WonderPaymentMethod;
  /** the token value of the default payment token */
  default_token?: string;
  payment_tokens: StoredPaymentToken[];
}

/** Two customers every sandbox starts with (uuids listed in sandbox/wonder/README.md). */
export const seededWonderCustomers: readonly StoredCustomer[] = [
  {
    uuid: 'c2a4e0f1-7b3d-4c8e-9f10-2a3b4c5d6e01',
    reference_number: 'MERCHANT-CUST-0001',
    name: 'Chan Tai Man',
    email: 'taiman.chan@example.com',
    dial_code: '+852',
    phone: '91234567',
    default_payment_method: 'Credit Card',
    default_token: '3f6c1a2b-8d4e-4f5a-9b6c-7d8e9f0a1b21',
    payment_tokens: [
      {
        token_type: 'CreditCard',
        token: '3f6c1a2b-8d4e-4f5a-9b6c-7d8e9f0a1b21',
        state: 'success',
        verify_url: null,
        verify_uuid: '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d31',
        credit_card: {
          number: '411111******1111',
          exp_month: '12',
          exp_year: '2030',
          holder_name: 'CHAN TAI MAN',
          brand: 'Visa',
          billing_currency: 'HKD',
        },
      },
      {
        token_type: 'AlipayAutoDebit',
        token: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c22',
        state: 'success',
        verify_url: null,
        verify_uuid: '1c2d3e4f-5a6b-4c7d-9e8f-0a1b2c3d4e32',
      },
    ],
  },
  {
    uuid: 'e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a02',
    reference_number: 'MERCHANT-CUST-0002',
    name: 'Wong Siu Ming',
    email: 'siuming.wong@example.com',
    dial_code: '+852',
    phone: '62345678',
    default_payment_method: 'Alipay',
    payment_tokens: [],
  },
];

const MAX_LENGTH = 255;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(body: Record<string, unknown>, field: string, prefix = ''): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new CustomerFieldError(`${prefix}${field}`, 'must be a string');
  if (value.length > MAX_LENGTH)
    throw new CustomerFieldError(`${prefix}${field}`, `must be at most ${MAX_LENGTH} characters`);
  return value;
}

/** The answer's customer object: the default token expanded, the other tokens not shown. */
export function customerView(stored: StoredCustomer): WonderCustomer {
  const view: WonderCustomer = { uuid: stored.uuid, reference_number: stored.reference_number };
  if (stored.name !== undefined) view.name = stored.name;
  if (stored.email !== undefined) view.email = stored.email;
  if (stored.phone !== undefined) view.phone = stored.phone;
  if (stored.default_payment_method !== undefined)
    view.default_payment_method = stored.default_payment_method;
  const token = stored.payment_tokens.find((t) => t.token === stored.default_token);
  if (token) view.default_payment_token = { ...structuredClone(token), default: true };
  return view;
}

export interface AppliedChange {
  changed: string[];
  cleared: string[];
}

export class CustomerStore {
  private readonly byUuid = new Map<string, StoredCustomer>();

  constructor(seed: readonly StoredCustomer[] = seededWonderCustomers) {
    for (const customer of seed) this.byUuid.set(customer.uuid, structuredClone(customer));
  }

  get(uuid: string): StoredCustomer | undefined {
    const stored = this.byUuid.get(uuid);
    return stored && structuredClone(stored);
  }

  byReference(reference: string): StoredCustomer | undefined {
    for (const stored of this.byUuid.values()) {
      if (stored.reference_number === reference) return structuredClone(stored);
    }
    return undefined;
  }

  /**
   * Applies a PUT body to a customer, all or nothing: every field is checked before anything changes.
   * Throws CustomerFieldError (a 400); answers undefined for an unknown uuid.
   */
  applyPut(uuid: string, body: unknown): { customer: StoredCustomer; applied: AppliedChange } | undefined {
    const stored = this.byUuid.get(uuid);
    if (!stored) return undefined;
    if (!isRecord(body)) throw new CustomerFieldError('body', 'must be a JSON object');

    const name = optionalString(body, 'name');
    const email = optionalString(body, 'email');
    const phone = optionalString(body, 'phone');
    const method = optionalString(body, 'default_payment_method');
    const token = optionalString(body, 'default_payment_token');

    if (email && !EMAIL_PATTERN.test(email))
      throw new CustomerFieldError('email', 'is not a valid email address');
    if (method && !isWonderPaymentMethod(method)) {
      throw new CustomerFieldError(
        'default_payment_method',
        `must be one of ${wonderPaymentMethods.join(', ')}`,
      );
    }
    if (token && !stored.payment_tokens.some((t) => t.token === token)) {
      throw new CustomerFieldError('default_payment_token', 'is not a payment token of this customer');
    }

    const applied: AppliedChange = { changed: [], cleared: [] };
    const set = <K extends 'name' | 'email' | 'phone'>(field: K, value: string | undefined) => {
      if (!value) return;
      stored[field] = value;
      applied.changed.push(field);
    };
    set('name', name);
    set('email', email);
    set('phone', phone);
    if (method !== undefined) {
      if (method === '') {
        delete stored.default_payment_method;
        applied.cleared.push('default_payment_method');
      } else {
        stored.default_payment_method = method as WonderPaymentMethod;
        applied.changed.push('default_payment_method');
      }
    }
    if (token !== undefined) {
      if (token === '') {
        delete stored.default_token;
        applied.cleared.push('default_payment_token');
      } else {
        stored.default_token = token;
        applied.changed.push('default_payment_token');
      }
    }
    return { customer: structuredClone(stored), applied };
  }

  /** POST /customers: creates, or updates the profile of the customer with the same reference_number. */
  upsert(body: unknown): { customer: StoredCustomer; created: boolean; applied: AppliedChange } {
    if (!isRecord(body) || !isRecord(body.customer))
      throw new CustomerFieldError('customer', 'must be an object');
    const input = body.customer;
    const prefix = 'customer.';
    const reference = optionalString(input, 'reference_number', prefix);
    const name = optionalString(input, 'name', prefix);
    const phone = optionalString(input, 'phone', prefix);
    if (!reference) throw new CustomerFieldError('customer.reference_number', 'is required');
    if (!name) throw new CustomerFieldError('customer.name', 'is required');
    if (!phone) throw new CustomerFieldError('customer.phone', 'is required');
    const email = optionalString(input, 'email', prefix);
    if (email && !EMAIL_PATTERN.test(email))
      throw new CustomerFieldError('customer.email', 'is not a valid email address');
    const dialCode = optionalString(input, 'dial_code', prefix);
    const method = optionalString(input, 'default_payment_method', prefix);
    if (method && !isWonderPaymentMethod(method)) {
      throw new CustomerFieldError(
        'customer.default_payment_method',
        `must be one of ${wonderPaymentMethods.join(', ')}`,
      );
    }

    let stored = [...this.byUuid.values()].find((c) => c.reference_number === reference);
    const created = !stored;
    if (!stored) {
      stored = { uuid: randomUUID(), reference_number: reference, payment_tokens: [] };
      this.byUuid.set(stored.uuid, stored);
    }
    const changed: string[] = [];
    const assign = (field: 'name' | 'email' | 'phone' | 'dial_code', value: string | undefined) => {
      if (!value) return;
      stored[field] = value;
      changed.push(field);
    };
    assign('name', name);
    assign('email', email);
    assign('phone', phone);
    assign('dial_code', dialCode);
    if (method) {
      stored.default_payment_method = method as WonderPaymentMethod;
      changed.push('default_payment_method');
    }
    return { customer: structuredClone(stored), created, applied: { changed, cleared: [] } };
  }
}
