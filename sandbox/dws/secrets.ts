/**
 * OTPs and PINs are kept only as salted SHA-256 hashes; comparison is constant-time over the hashes so
 * the time taken says nothing about how much of a guess was right.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface HashedSecret {
  salt: Buffer;
  hash: Buffer;
}

function digest(salt: Buffer, value: string): Buffer {
  return createHash('sha256').update(salt).update(value, 'utf8').digest();
}

export function hashSecret(value: string): HashedSecret {
  const salt = randomBytes(16);
  return { salt, hash: digest(salt, value) };
}

export function secretMatches(stored: HashedSecret, candidate: string): boolean {
  return timingSafeEqual(stored.hash, digest(stored.salt, candidate));
}
