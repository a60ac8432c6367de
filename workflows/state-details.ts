import type { VerificationState, VerificationStep } from './types.js';

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
      return describeOutcome(state);
  }
}

/** Starts with the outcome itself, so the first words an operator reads are "REJECTED: <code>". */
function describeOutcome(state: VerificationState): string {
  const code = state.lastResultCode ?? 'unknown';
  switch (state.outcome) {
    case 'MODIFIED':
      if (state.wonderSync === 'SYNCED') return 'MODIFIED: applied at DWS and carried to the Wonder record.';
      if (state.wonderSync === 'FAILED') return `MODIFIED: applied at DWS; the Wonder sync failed: ${code}.`;
      return 'MODIFIED: applied at DWS.';
    case 'UPDATED':
      return 'UPDATED: the Wonder customer record is changed.';
    case 'CANCELLED':
      return 'CANCELLED: ended by the app or an operator.';
    case 'EXPIRED':
      return 'EXPIRED: the code was not entered in time.';
    case 'ATTEMPTS_EXCEEDED':
      return 'ATTEMPTS_EXCEEDED: too many wrong codes.';
    case 'REJECTED':
      return `REJECTED: ${code} (answered while ${stepBeforeDone(state) ?? 'unknown'}).`;
    case undefined:
      return 'Finished.';
  }
}

function stepBeforeDone(state: VerificationState): VerificationStep | undefined {
  for (let i = state.timeline.length - 1; i >= 0; i--) {
    const step = state.timeline[i]!.step;
    if (step !== 'DONE') return step;
  }
  return undefined;
}
