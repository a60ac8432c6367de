/**
 * How many codes one customer may be sent, whoever asks and however: counted per customer across
 * verifications, cancels, callers and replicas. It belongs where the send happens (the activity that
 * triggers the challenge), so no path to a send can go around it.
 */
import { describeWindow, type LimitsStore, type LimitWindow } from './store.js';

/** 5 codes per 10 minutes, 10 per day: SEND_BUDGET_PER_CUSTOMER's default. */
export const defaultSendBudget: readonly LimitWindow[] = [
  { limit: 5, windowSeconds: 600 },
  { limit: 10, windowSeconds: 86400 },
];

export type SendBudgetDecision =
  | { allowed: true; remaining: number }
  | {
      allowed: false;
      retryAfterSeconds: number;
      window: LimitWindow;
      /** one sentence an app can show: "at most 5 codes per 10 minutes are sent to one customer" */
      reason: string;
    };

export class SendBudget {
  readonly windows: readonly LimitWindow[];

  constructor(
    private readonly store: LimitsStore,
    windows: readonly LimitWindow[] = defaultSendBudget,
  ) {
    // Sliding whatever the configuration says: five codes must never become ten across a window's edge.
    this.windows = windows.map(({ limit, windowSeconds }) => ({ limit, windowSeconds, kind: 'sliding' }));
  }

  /**
   * Spends one send from the customer's budget, or says when the next one is possible. `sendId` names
   * the send, not the attempt (the challenge's trigger request id): a retried send is counted once.
   * Throws `LimitsStoreUnavailableError` when the budget cannot be checked; the send must then not
   * happen (the budget fails closed).
   */
  async spend(customerId: string, sendId: string): Promise<SendBudgetDecision> {
    const decision = await this.store.hit(budgetKey(customerId), this.windows, { id: sendId });
    if (decision.allowed) return decision;
    return { ...decision, reason: sendRefusalReason(decision.window) };
  }

  /** Whether a send would be allowed now, without spending (to refuse a start before it begins). */
  async check(customerId: string): Promise<SendBudgetDecision> {
    const decision = await this.store.peek(budgetKey(customerId), this.windows);
    if (decision.allowed) return decision;
    return { ...decision, reason: sendRefusalReason(decision.window) };
  }
}

export function sendRefusalReason(window: LimitWindow): string {
  const codes = window.limit === 1 ? ' code per ' : ' codes per ';
  return `at most ${describeWindow(window).replace(' per ', codes)} ${window.limit === 1 ? 'is' : 'are'} sent to one customer`;
}

function budgetKey(customerId: string): string {
  return `send-budget:customer:${customerId}`;
}
