/** TIMES_EXCEED_LIMIT: too many consults for one customer within a sliding window. */

export interface ConsultLimit {
  max: number;
  windowMs: number;
}

export class ConsultLimiter {
  private readonly recent = new Map<string, number[]>();

  constructor(private readonly limit: ConsultLimit) {}

  /** Counts the consult and answers true, or answers false (and counts nothing) when over the limit. */
  allow(customerId: string, now: number): boolean {
    const since = now - this.limit.windowMs;
    const times = (this.recent.get(customerId) ?? []).filter((t) => t > since);
    const allowed = times.length < this.limit.max;
    if (allowed) times.push(now);
    this.recent.set(customerId, times);
    return allowed;
  }

  clear(): void {
    this.recent.clear();
  }
}
