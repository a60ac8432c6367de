/** What the bench and its sandbox and ceiling-worker children say to each other over IPC. */

export type SandboxMessage =
  | { kind: 'ready'; url: string }
  /** a code entered the outbox (or, for the ceiling, a challenge was "sent") */
  | { kind: 'otp'; customerId: string; code: string }
  | { kind: 'connections'; accepted: number };

export type SandboxRequest = { kind: 'connections' };

export function isSandboxMessage(value: unknown): value is SandboxMessage {
  return (
    typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string'
  );
}
