/**
 * The webhook activities' contract, imported by the workflows as types: what the verification hands over
 * when it finishes, and what one delivery attempt takes and answers.
 */
import type { CustomerUser } from '../dws/types.js';
import type { OutcomeStatus, VerificationStep, WebhookEvent } from '../../workflows/types.js';

export { webhookFailureTypes } from '../../workflows/failures.js';

/** What the verification knows when it finishes; the activity masks it into events. */
export interface WebhookEventsInput {
  caller: string;
  verificationId: string;
  runId: string;
  customerId: string;
  requestKey?: string;
  /** workflow clock, ISO */
  finishedAt: string;
  outcome: OutcomeStatus;
  resultCode?: string;
  failedStep?: VerificationStep;
  wonderSync?: 'NOT_REQUESTED' | 'PENDING' | 'SYNCED' | 'FAILED';
  /** the change asked for, in full: masked here, never returned */
  change: CustomerUser;
  maskedDestination?: string;
  /** the first code's masked destination, when it went by SMS to the number on file (MOBILE_AVAILABLE) */
  numberOnFile?: string;
}

/** The events to deliver and where: endpoint ids only (URLs and secrets stay in the worker). */
export interface PreparedWebhookEvents {
  endpoints: string[];
  events: WebhookEvent[];
  retryHours: number;
  timeoutSeconds: number;
  firstRetrySeconds: number;
}

export interface DeliverWebhookInput {
  caller: string;
  endpoint: string;
  event: WebhookEvent;
}

/** A receiver's 2xx: the attempt it took and the status it answered. */
export interface WebhookDelivered {
  attempt: number;
  status: number;
}

/** Carried as the failure's details, so the workflow and the operator read the last answer. */
export interface WebhookAttemptDetails {
  attempt: number;
  /** the HTTP status, or 'timeout' / 'unreachable' */
  answer: number | 'timeout' | 'unreachable';
}

export interface WebhookActivities {
  /** the ids of the caller's endpoints, asked as the verification starts */
  webhookEndpoints(input: { caller: string }): Promise<string[]>;
  prepareWebhookEvents(input: WebhookEventsInput): Promise<PreparedWebhookEvents>;
  deliverWebhookEvent(input: DeliverWebhookInput): Promise<WebhookDelivered>;
}
