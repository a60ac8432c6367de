/**
 * A finished verification as webhook events: ids, outcome, result code, and contact data masked by the
 * project's one masking module, so an event never carries a full phone number or email address.
 */
import { maskEmail, maskPhone } from '../shared/mask.js';
import type { WebhookEvent } from '../../workflows/types.js';
import type { WebhookEventsInput } from './types.js';

type ChangedEntry = Extract<WebhookEvent, { type: 'contact.changed' }>['data']['changes'][number];

/**
 * Event ids come from the run id, so the same finished run always names the same events: the ids a
 * receiver deduplicates by survive a retried activity, a replay and an operator's redelivery.
 */
export function eventId(runId: string, type: WebhookEvent['type']): string {
  return `evt_${runId.replace(/[^0-9A-Za-z]/g, '')}_${type.replace('.', '_')}`;
}

export function webhookEvents(input: WebhookEventsInput): WebhookEvent[] {
  const subject = {
    verificationId: input.verificationId,
    runId: input.runId,
    customerId: input.customerId,
    caller: input.caller,
    ...(input.requestKey ? { requestKey: input.requestKey } : {}),
  };
  // A direct start can pass anything (it ends REJECTED INVALID_INPUT): only well-formed values are masked.
  const { email, mobileNoInfo: phone } = (input.change ?? {}) as Partial<Record<string, unknown>>;
  const validPhone = (value: unknown): value is { countryCode: string; phoneNo: string } =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { countryCode?: unknown }).countryCode === 'string' &&
    typeof (value as { phoneNo?: unknown }).phoneNo === 'string';
  const change = {
    ...(typeof email === 'string' ? { email: maskEmail(email) } : {}),
    ...(validPhone(phone) ? { phone: maskPhone(phone) } : {}),
  };
  const events: WebhookEvent[] = [
    {
      id: eventId(input.runId, 'verification.completed'),
      type: 'verification.completed',
      timestamp: input.finishedAt,
      data: {
        ...subject,
        outcome: input.outcome,
        ...(input.resultCode ? { resultCode: input.resultCode } : {}),
        ...(input.outcome === 'REJECTED' && input.failedStep ? { failedStep: input.failedStep } : {}),
        change,
        ...(input.maskedDestination ? { maskedDestination: input.maskedDestination } : {}),
        ...(input.wonderSync ? { wonderSync: input.wonderSync } : {}),
      },
    },
  ];
  if (input.outcome !== 'MODIFIED') return events;
  const changes: ChangedEntry[] = [
    ...(change.email ? [{ contact: 'email' as const, newValue: change.email }] : []),
    ...(change.phone
      ? [
          {
            contact: 'phone' as const,
            newValue: change.phone,
            ...(input.numberOnFile ? { previousValue: input.numberOnFile } : {}),
          },
        ]
      : []),
  ];
  if (changes.length === 0) return events;
  events.push({
    id: eventId(input.runId, 'contact.changed'),
    type: 'contact.changed',
    timestamp: input.finishedAt,
    data: { ...subject, changes },
  });
  return events;
}
