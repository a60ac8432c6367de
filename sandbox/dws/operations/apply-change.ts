import type { CustomerUser } from '../../../activities/dws/types.js';
import type { LedgerEntry } from '../ledger.js';
import type { DwsState } from '../state.js';

/** The one place a change reaches the customer record, always together with its ledger entry. */
export function applyChange(
  state: DwsState,
  customerId: string,
  user: CustomerUser,
  entry: Pick<LedgerEntry, 'requestId' | 'authenticationId' | 'appliedBy'>,
): void {
  const fields = state.customers.apply(customerId, user);
  state.ledger.record(customerId, { ...entry, fields, at: state.now() });
}
