/**
 * mulberry32: a tiny 32-bit seeded generator. The simulators draw every "random" fault from it so a run
 * with the same seed and the same sequence of calls injects the same faults (Math.random cannot be
 * replayed). Not for secrets: OTPs and ids come from node:crypto.
 */
export interface Prng {
  /** uniform in [0, 1) */
  next(): number;
}

export function mulberry32(seed: number): Prng {
  let state = seed >>> 0;
  return {
    next(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
