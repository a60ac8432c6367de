/**
 * The webhook receiver process (./webhook-receiver-main.ts), started, scripted, read, stopped and
 * started again on the same port (a receiver that is down, then back).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePort, spawnNode, stopProcess, waitForLine } from '../../scripts/processes.js';

export interface ReceivedDelivery {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  verified: boolean[];
  answered: number | 'hang';
}

/** A fresh Standard Webhooks secret: whsec_ and 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export class WebhookReceiver {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly secrets: string[],
  ) {}

  /** Started on a free port, verifying with `secrets` (each delivery records which of them verified it). */
  static async start(secrets: string[]): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(await freePort(), secrets);
    await receiver.start();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('the receiver is already running');
    const child = spawnNode('test/helpers/webhook-receiver-main.ts', {
      env: {
        PATH: process.env.PATH,
        WEBHOOK_RECEIVER_PORT: String(this.port),
        WEBHOOK_RECEIVER_SECRETS: this.secrets.join(' '),
      },
    });
    this.child = child;
    await waitForLine(child, /^listening on \d+/, { name: 'the webhook receiver', timeoutMs: 30_000 });
  }

  /** Gone, as a receiver that crashed: its port refuses connections until it starts again. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await stopProcess(child, { signal: 'SIGKILL', graceMs: 5_000 });
  }

  /** The next deliveries are answered `answers` in turn, every later one `then`. */
  async answer(answers: Array<number | 'hang'>, then: number | 'hang' = 204): Promise<void> {
    await this.control('/control/answers', { answers, then });
  }

  async deliveries(): Promise<{ deliveries: ReceivedDelivery[]; processed: string[] }> {
    return this.control('/control/deliveries');
  }

  private async control<T>(path: string, body?: object): Promise<T> {
    const response = await fetch(`http://127.0.0.1:${this.port}${path}`, {
      method: body ? 'POST' : 'GET',
      ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    if (!response.ok) throw new Error(`the receiver answered ${response.status} to ${path}`);
    return (await response.json()) as T;
  }
}
