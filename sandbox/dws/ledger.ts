/** Every change actually applied to a customer: the evidence that a retried modify applied once. */
import type { CustomerUser } from '../../activities/dws/types.js';

export interface LedgerEntry {
  /** the modifyCustomer requestId of the change */
  requestId: string;
  authenticationId: string;
  /** modifyCustomer itself, or verifyAndResume for a risky change's second challenge */
  appliedBy: 'modifyCustomer' | 'verifyAndResume';
  fields: (keyof CustomerUser)[];
  at: number;
}

export interface CustomerLedger {
  count: number;
  requestIds: string[];
  entries: LedgerEntry[];
}

export class Ledger {
  private readonly byCustomer = new Map<string, LedgerEntry[]>();

  record(customerId: string, entry: LedgerEntry): void {
    const entries = this.byCustomer.get(customerId) ?? [];
    entries.push({ ...entry, fields: [...entry.fields] });
    this.byCustomer.set(customerId, entries);
  }

  forCustomer(customerId: string): CustomerLedger {
    const entries = (this.byCustomer.get(customerId) ?? []).map((e) => ({ ...e, fields: [...e.fields] }));
    return { count: entries.length, requestIds: entries.map((e) => e.requestId), entries };
  }

  snapshot(): Record<string, CustomerLedger> {
    return Object.fromEntries([...this.byCustomer.keys()].map((id) => [id, this.forCustomer(id)]));
  }

  clear(): void {
    this.byCustomer.clear();
  }
}
