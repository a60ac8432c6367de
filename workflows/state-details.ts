import type { VerificationState } from './types.js';

/** The "current details" an operator reads in the Temporal UI: the state in words, masked data only. */
export function describeState(state: VerificationState): string {
  const what = state.challengeType === 'PAYMENT_PASSWORD' ? 'payment PIN' : 'SMS code';
  const where = state.maskedDestination ? ` sent to ${state.maskedDestination}` : '';
  switch (state.step) {
    case 'CONSULTING':
      return `Consulting DWS for customer ${state.customerId}.`;
    case 'CHALLENGING':
      return `Asking DWS to issue the ${what} (challenge round ${state.round}).`;
    case 'AWAITING_INPUT':
      return (
        `Waiting for the ${what}${where}: ${state.attemptsLeft} attempts left, ${state.resendsLeft} resends left, ` +
        `expires ${state.expiresAt ?? 'unknown'}.`
      );
    case 'VERIFYING':
      return `Verifying the ${what} with DWS (${state.attemptsLeft} attempts left).`;
    case 'MODIFYING':
      return `Applying the change at DWS.`;
    case 'SYNCING_WONDER':
      return `Carrying the change to the Wonder customer record.`;
    case 'DONE':
      return `Finished: ${state.outcome ?? 'unknown'}${state.lastResultCode ? ` (last result ${state.lastResultCode})` : ''}.`;
  }
}
