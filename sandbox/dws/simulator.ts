/**
 * The DWS provider's state and its three APIs, without HTTP: `handle(api, rawBody)` answers exactly
 * what the provider would put in the response body. The routes add the envelope (client id, signatures);
 * tests may also call `handle` directly or inspect the stores.
 */
import type { DwsApi } from '../../activities/dws/types.js';
import { contentFingerprint } from '../fingerprint.js';
import { AuthenticationStore } from './authentications.js';
import { ConsultLimiter, type ConsultLimit } from './consult-limiter.js';
import { CustomerStore, defaultCustomers, type CustomerSeed } from './customers.js';
import { FieldError } from './field-rules.js';
import { IdempotencyStore } from './idempotency.js';
import { Ledger } from './ledger.js';
import { consult } from './operations/consult.js';
import { modify } from './operations/modify.js';
import { triggerChallenge } from './operations/trigger-challenge.js';
import { verifyAndResume } from './operations/verify-and-resume.js';
import { Outbox } from './outbox.js';
import { RequestLog } from './request-log.js';
import {
  idempotencyField,
  parseBody,
  parseModifyCustomer,
  parseTriggerChallenge,
  parseVerifyAndResume,
} from './requests.js';
import { failed, type DwsAnswer } from './results.js';
import type { DwsRules, DwsState } from './state.js';

export interface DwsSimulatorOptions {
  /** default 300000 (5 minutes) */
  otpTtlMs?: number;
  /** default 5 */
  maxVerifyAttempts?: number;
  /** default 5 */
  maxSendsPerAuthentication?: number;
  /** default 100 consults per customer per minute: generous, so only a test aiming at it gets there */
  consultLimit?: ConsultLimit;
  /** default Date.now */
  now?: () => number;
  /** added to (or, with defaultCustomers: false, instead of) the seeded customers */
  customers?: readonly CustomerSeed[];
  /** default true: seed 2188000000000000001 (sms), ...0002 (PIN 123456), ...0003 (sms, risky phone change) */
  defaultCustomers?: boolean;
}

export interface DwsOutcome {
  answer: DwsAnswer;
  /** an earlier answer to the same idempotency id, sent again */
  replayed: boolean;
}

/** Answers worth keeping for a repeat: final ones, except the rate limit, which a later retry may pass. */
function isFinal(answer: DwsAnswer): boolean {
  return answer.result.resultStatus !== 'U' && answer.result.resultCode !== 'TIMES_EXCEED_LIMIT';
}

export class DwsSimulator implements DwsState {
  readonly rules: DwsRules;
  readonly customers = new CustomerStore();
  readonly authentications = new AuthenticationStore();
  readonly outbox = new Outbox();
  readonly ledger = new Ledger();
  readonly idempotency = new IdempotencyStore();
  readonly requests = new RequestLog();
  readonly consultLimiter: ConsultLimiter;
  private readonly clock: () => number;
  private readonly seeds: readonly CustomerSeed[];

  constructor(options: DwsSimulatorOptions = {}) {
    this.rules = {
      otpTtlMs: options.otpTtlMs ?? 300_000,
      maxVerifyAttempts: options.maxVerifyAttempts ?? 5,
      maxSendsPerAuthentication: options.maxSendsPerAuthentication ?? 5,
      consultLimit: options.consultLimit ?? { max: 100, windowMs: 60_000 },
    };
    this.clock = options.now ?? Date.now;
    this.consultLimiter = new ConsultLimiter(this.rules.consultLimit);
    this.seeds = [
      ...(options.defaultCustomers === false ? [] : defaultCustomers),
      ...(options.customers ?? []),
    ];
    this.seedCustomers();
  }

  now(): number {
    return this.clock();
  }

  handle(api: DwsApi, rawBody: string): DwsOutcome {
    let body: Record<string, unknown>;
    let run: () => DwsAnswer;
    try {
      body = parseBody(rawBody);
      run = this.operation(api, body);
    } catch (err) {
      if (err instanceof FieldError)
        return { answer: failed('PARAM_ILLEGAL', `Illegal parameter: ${err.message}.`), replayed: false };
      throw err;
    }
    // The parsers have checked that the id, when present, is a string of at most 64 characters.
    const id = body[idempotencyField[api]] as string | undefined;
    if (id === undefined) return { answer: run(), replayed: false };

    const print = contentFingerprint(body);
    const earlier = this.idempotency.lookup(api, id, print);
    if (earlier.kind === 'replay') return { answer: earlier.answer, replayed: true };
    if (earlier.kind === 'inconsistent') {
      return {
        answer: failed('REPEAT_REQ_INCONSISTENT', 'Repeated requests are inconsistent.'),
        replayed: false,
      };
    }
    const answer = run();
    if (isFinal(answer)) this.idempotency.remember(api, id, print, answer);
    return { answer, replayed: false };
  }

  /** Forgets everything and seeds the customers again. */
  reset(): void {
    this.customers.clear();
    this.authentications.clear();
    this.outbox.clear();
    this.ledger.clear();
    this.idempotency.clear();
    this.requests.clear();
    this.consultLimiter.clear();
    this.seedCustomers();
  }

  /** Parses the body now (so a bad one is PARAM_ILLEGAL before any idempotency check) and defers the work. */
  private operation(api: DwsApi, body: Record<string, unknown>): () => DwsAnswer {
    switch (api) {
      case 'modifyCustomer': {
        const request = parseModifyCustomer(body);
        return () => (request.kind === 'consult' ? consult(this, request) : modify(this, request));
      }
      case 'triggerChallenge': {
        const request = parseTriggerChallenge(body);
        return () => triggerChallenge(this, request);
      }
      case 'verifyAndResume': {
        const request = parseVerifyAndResume(body);
        return () => verifyAndResume(this, request);
      }
    }
  }

  private seedCustomers(): void {
    for (const seed of this.seeds) this.customers.upsert(seed);
  }
}
