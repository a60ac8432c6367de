/**
 * The simulated SMS/email gateway. It keeps the plain code because reading it is its whole purpose:
 * tests and the demo play the user's phone. Nothing else in the sandbox holds a plain code.
 */

export interface OutboxMessage {
  customerId: string;
  authenticationId: string;
  channel: 'sms' | 'email';
  /** masked, as the challenge shows it */
  destination: string;
  code: string;
  issuedAt: number;
  expiresAt: number;
}

export interface OutboxFilter {
  customerId?: string;
  authenticationId?: string;
}

export class Outbox {
  private readonly messages: OutboxMessage[] = [];

  send(message: OutboxMessage): void {
    this.messages.push({ ...message });
  }

  /** Newest first. */
  list(filter: OutboxFilter = {}): OutboxMessage[] {
    return this.messages
      .filter(
        (m) =>
          (filter.customerId === undefined || m.customerId === filter.customerId) &&
          (filter.authenticationId === undefined || m.authenticationId === filter.authenticationId),
      )
      .reverse()
      .map((m) => ({ ...m }));
  }

  latest(filter: OutboxFilter = {}): OutboxMessage | undefined {
    return this.list(filter)[0];
  }

  clear(): void {
    this.messages.length = 0;
  }
}
