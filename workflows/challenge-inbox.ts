/**
 * The user's input while a challenge is open. Signals and updates land here in arrival order; the
 * workflow body takes them one at a time, so a code typed twice is verified twice, in order, and an
 * update's caller gets the verdict of exactly its own code.
 */
import { context, type Context } from '@opentelemetry/api';
import { condition } from '@temporalio/workflow';
import type { OtpVerdict, ResendAnswer } from './types.js';

/**
 * `tracedAs`: the trace context the item arrived in (the update's span, when the worker traces), so the
 * provider call made for it is a child of the request that asked: one trace per request. Not state the
 * workflow decides anything by, and no command: a worker that does not trace sees the empty root context.
 */
export type InboxItem = ({ id: number; kind: 'otp'; code: string } | { id: number; kind: 'resend' }) & {
  tracedAs: Context;
};

type Reply = OtpVerdict | ResendAnswer;

export class ChallengeInbox {
  private readonly queue: InboxItem[] = [];
  private readonly replies = new Map<number, Reply>();
  /** ids whose caller (an update) waits for a reply, with what it asked for; signals have none */
  private readonly awaited = new Map<number, InboxItem['kind']>();
  private nextId = 1;

  get hasItems(): boolean {
    return this.queue.length > 0;
  }

  push(item: { kind: 'otp'; code: string } | { kind: 'resend' }, awaitReply: boolean): number {
    const id = this.nextId++;
    this.queue.push({ ...item, id, tracedAs: context.active() });
    if (awaitReply) this.awaited.set(id, item.kind);
    return id;
  }

  take(): InboxItem | undefined {
    return this.queue.shift();
  }

  /** Runs the work done for `item` (its provider call) in the trace context the item arrived in. */
  static for<T>(item: InboxItem, work: () => Promise<T>): Promise<T> {
    return context.with(item.tracedAs, work);
  }

  reply(id: number, answer: Reply): void {
    if (this.awaited.delete(id)) this.replies.set(id, answer);
  }

  async replyTo<T extends Reply>(id: number): Promise<T> {
    await condition(() => this.replies.has(id));
    const answer = this.replies.get(id) as T;
    this.replies.delete(id);
    return answer;
  }

  /** When the flow ends, whatever is still queued is answered, so no update caller hangs. */
  closeAll(otpAnswer: OtpVerdict, resendAnswer: ResendAnswer): void {
    for (let item = this.take(); item; item = this.take()) {
      this.reply(item.id, item.kind === 'otp' ? otpAnswer : resendAnswer);
    }
  }

  /** An item taken but never answered: the flow ended while handling it (a provider's final "no"). */
  get hasUnanswered(): boolean {
    return this.awaited.size > 0;
  }

  /** Answers the items taken but never answered; closeAll first, so none is still queued. */
  closeUnanswered(otpAnswer: OtpVerdict, resendAnswer: ResendAnswer): void {
    for (const [id, kind] of [...this.awaited]) this.reply(id, kind === 'otp' ? otpAnswer : resendAnswer);
  }
}
