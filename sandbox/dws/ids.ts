/** Identifiers and codes the provider mints. Drawn from node:crypto: they must not be guessable. */
import { randomInt } from 'node:crypto';

function randomDigits(count: number): string {
  let digits = '';
  for (let i = 0; i < count; i += 1) digits += String(randomInt(10));
  return digits;
}

/** 35 digits like the seed's "20220105190077000000162140200586657": a UTC date, then random digits. */
export function newProviderId(nowMs: number): string {
  const date = new Date(nowMs).toISOString().slice(0, 10).replaceAll('-', '');
  return date + randomDigits(27);
}

export function newOtp(): string {
  return String(randomInt(1_000_000)).padStart(6, '0');
}
