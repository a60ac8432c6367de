/**
 * The bench's stand-in for the users' phones: codes pushed by the sandbox (or the ceiling worker) are
 * kept per customer until a flow asks for them, whichever comes first.
 */
export class OtpMailbox {
  readonly #codes = new Map<string, string[]>();
  readonly #waiters = new Map<string, Array<(code: string) => void>>();

  deliver(customerId: string, code: string): void {
    const waiting = this.#waiters.get(customerId);
    const waiter = waiting?.shift();
    if (waiting?.length === 0) this.#waiters.delete(customerId);
    if (waiter) return waiter(code);
    const codes = this.#codes.get(customerId) ?? [];
    codes.push(code);
    this.#codes.set(customerId, codes);
  }

  /** The customer's next code, now if one has arrived, else when it does; rejects after timeoutMs. */
  next(customerId: string, timeoutMs = 60_000): Promise<string> {
    const codes = this.#codes.get(customerId);
    const code = codes?.shift();
    if (codes?.length === 0) this.#codes.delete(customerId);
    if (code !== undefined) return Promise.resolve(code);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        const waiting = this.#waiters.get(customerId) ?? [];
        const index = waiting.indexOf(onCode);
        if (index >= 0) waiting.splice(index, 1);
        if (waiting.length === 0) this.#waiters.delete(customerId);
        reject(new Error(`no code reached the outbox for a bench customer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const onCode = (value: string) => {
        clearTimeout(timer);
        resolve(value);
      };
      const waiting = this.#waiters.get(customerId) ?? [];
      waiting.push(onCode);
      this.#waiters.set(customerId, waiting);
    });
  }

  /** Codes delivered that no flow has taken yet (for the capacity case's count of waiting flows). */
  get undelivered(): number {
    let count = 0;
    for (const codes of this.#codes.values()) count += codes.length;
    return count;
  }
}
