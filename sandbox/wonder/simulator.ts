/**
 * The Wonder simulator's state and behaviour, free of HTTP: customers, request authentication, X-Request-ID
 * idempotency, the ledger of applied changes and the log of calls. The Fastify plugin (plugin.ts) only
 * moves requests in and answers out.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SANDBOX_WONDER_APP_ID } from '../../activities/wonder/config.js';
import { wonderPaths } from '../../activities/wonder/types.js';
import { sandboxKeyPath } from '../../config/project-files.js';
import { contentFingerprint } from '../fingerprint.js';
import { RequestAuthenticator, type AuthResult, type SignedRequest } from './auth.js';
import {
  CustomerFieldError,
  CustomerStore,
  customerView,
  seededWonderCustomers,
  type AppliedChange,
  type StoredCustomer,
} from './customers.js';
import { IdempotencyStore, type StoredAnswer } from './idempotency.js';

export type WonderApi = 'putCustomer' | 'createCustomer' | 'getCustomerByRef' | 'echo';
export const wonderApis: readonly WonderApi[] = ['putCustomer', 'createCustomer', 'getCustomerByRef', 'echo'];

/** The success code the sandbox answers (see activities/wonder/outcomes.ts for why 0). */
export const WONDER_SUCCESS_CODE = 0;

/** Error codes the sandbox answers besides the authentication ones (auth.ts); all ours. */
export const wonderErrorCodes = {
  invalidParameters: 'E000001',
  customerNotFound: 'E000404',
  requestIdConflict: 'E000409',
} as const;

export interface WonderAnswer extends StoredAnswer {
  body: { code: number | string; message: string; data: unknown };
  /** the stored answer of an earlier call with the same X-Request-ID */
  replayed?: boolean;
}

export interface LedgerEntry {
  kind: 'create' | 'update';
  /** the X-Request-ID of the call, null when it had none */
  requestId: string | null;
  changed: string[];
  cleared: string[];
  at: string;
}

export interface RequestLogEntry {
  api?: WonderApi;
  method: string;
  path: string;
  requestId?: string;
  /** x-i18n-lang, when sent */
  lang?: string;
  statusCode: number;
  replayed?: boolean;
  /** the caller got an injected fault instead of this answer */
  fault?: string;
  at: string;
}

export interface WonderSimulatorOptions {
  /** app id -> the merchant's public key; the sandbox app (sandbox/keys) when absent */
  apps?: Record<string, KeyObject | string>;
  /** epoch milliseconds; the Credential time is checked against it */
  now?: () => number;
  customers?: readonly StoredCustomer[];
}

export function sandboxWonderPublicKey(): KeyObject {
  return createPublicKey(readFileSync(sandboxKeyPath('wonder-merchant.public.pem'), 'utf8'));
}

function ok(data: unknown): WonderAnswer {
  return { statusCode: 200, body: { code: WONDER_SUCCESS_CODE, message: 'success', data } };
}

function refused(statusCode: number, code: string, message: string): WonderAnswer {
  return { statusCode, body: { code, message, data: null } };
}

const MAX_LOG = 1000;

export class WonderSimulator {
  readonly now: () => number;
  private readonly seed: readonly StoredCustomer[];
  private customers: CustomerStore;
  private readonly authenticator: RequestAuthenticator;
  private readonly idempotency = new IdempotencyStore();
  private readonly ledgerByUuid = new Map<string, LedgerEntry[]>();
  private readonly log: RequestLogEntry[] = [];

  constructor(options: WonderSimulatorOptions = {}) {
    this.now = options.now ?? Date.now;
    this.seed = options.customers ?? seededWonderCustomers;
    this.customers = new CustomerStore(this.seed);
    const apps = new Map<string, KeyObject>();
    for (const [appId, key] of Object.entries(
      options.apps ?? { [SANDBOX_WONDER_APP_ID]: sandboxWonderPublicKey() },
    )) {
      apps.set(appId, typeof key === 'string' ? createPublicKey(key) : key);
    }
    this.authenticator = new RequestAuthenticator(apps, () => this.now());
  }

  authenticate(request: SignedRequest): AuthResult {
    return this.authenticator.authenticate(request);
  }

  /** PUT /customers/:uuid, idempotent on X-Request-ID. */
  putCustomer(appId: string, uuid: string, body: unknown, requestId: string | undefined): WonderAnswer {
    return this.once(
      appId,
      requestId,
      contentFingerprint({ method: 'PUT', path: wonderPaths.customer(uuid), body }),
      () => {
        try {
          const result = this.customers.applyPut(uuid, body);
          if (!result) return refused(404, wonderErrorCodes.customerNotFound, 'Customer not found.');
          this.record(result.customer.uuid, 'update', requestId, result.applied);
          return ok({ customer: customerView(result.customer) });
        } catch (err) {
          return this.invalid(err);
        }
      },
    );
  }

  /** POST /customers: create, or update the customer with the same reference_number. */
  createCustomer(appId: string, body: unknown, requestId: string | undefined): WonderAnswer {
    return this.once(
      appId,
      requestId,
      contentFingerprint({ method: 'POST', path: wonderPaths.customers, body }),
      () => {
        try {
          const result = this.customers.upsert(body);
          this.record(result.customer.uuid, result.created ? 'create' : 'update', requestId, result.applied);
          return ok({ customer: customerView(result.customer) });
        } catch (err) {
          return this.invalid(err);
        }
      },
    );
  }

  getCustomerByReference(reference: string): WonderAnswer {
    const stored = this.customers.byReference(reference);
    return stored
      ? ok({ customer: customerView(stored) })
      : refused(404, wonderErrorCodes.customerNotFound, 'Customer not found.');
  }

  echo(body: unknown): WonderAnswer {
    const message =
      typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined;
    return ok({ message: typeof message === 'string' ? message : '' });
  }

  /** The full record, payment tokens included (the sandbox's own control API). */
  customer(uuid: string): StoredCustomer | undefined {
    return this.customers.get(uuid);
  }

  ledger(uuid: string): LedgerEntry[] {
    return structuredClone(this.ledgerByUuid.get(uuid) ?? []);
  }

  ledgers(): Record<string, LedgerEntry[]> {
    return Object.fromEntries([...this.ledgerByUuid.keys()].map((uuid) => [uuid, this.ledger(uuid)]));
  }

  logRequest(entry: RequestLogEntry): void {
    this.log.push(entry);
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
  }

  /** Every provider call seen, oldest first, authentication failures included. */
  requests(): RequestLogEntry[] {
    return structuredClone(this.log);
  }

  /** Back to the seeded customers, with no ledger, no remembered ids or nonces, and an empty log. */
  reset(): void {
    this.customers = new CustomerStore(this.seed);
    this.idempotency.clear();
    this.authenticator.clear();
    this.ledgerByUuid.clear();
    this.log.length = 0;
  }

  private once(
    appId: string,
    requestId: string | undefined,
    fingerprint: string,
    work: () => WonderAnswer,
  ): WonderAnswer {
    if (requestId === undefined) return work();
    const seen = this.idempotency.lookup(appId, requestId, fingerprint);
    if (seen.kind === 'conflict') {
      return refused(
        409,
        wonderErrorCodes.requestIdConflict,
        'X-Request-ID was already used for a different request; use a new X-Request-ID for new content.',
      );
    }
    if (seen.kind === 'replay') return { ...(seen.answer as WonderAnswer), replayed: true };
    const answer = work();
    this.idempotency.remember(appId, requestId, fingerprint, {
      statusCode: answer.statusCode,
      body: answer.body,
    });
    return answer;
  }

  private record(
    uuid: string,
    kind: LedgerEntry['kind'],
    requestId: string | undefined,
    applied: AppliedChange,
  ) {
    const entries = this.ledgerByUuid.get(uuid) ?? [];
    entries.push({
      kind,
      requestId: requestId ?? null,
      changed: [...applied.changed],
      cleared: [...applied.cleared],
      at: new Date(this.now()).toISOString(),
    });
    this.ledgerByUuid.set(uuid, entries);
  }

  private invalid(err: unknown): WonderAnswer {
    if (err instanceof CustomerFieldError)
      return refused(400, wonderErrorCodes.invalidParameters, err.message);
    throw err;
  }
}
