/**
 * A client address as a limits key. An IPv6 user is usually given a whole /64, so counting per address
 * would let one user rotate through 2^64 buckets; an IPv4-mapped IPv6 address is the IPv4 one it maps.
 */
import { isIPv4, isIPv6 } from 'node:net';

export function addressBucket(address: string): string {
  const bare = address.replace(/%.*$/, '').toLowerCase();
  if (isIPv4(bare) || !isIPv6(bare)) return bare;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(bare);
  if (mapped) return mapped[1]!;
  const [head = '', tail] = bare.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const before = groups(head);
  const after = tail === undefined ? [] : groups(tail);
  const missing = 8 - before.length - after.length;
  const full = [...before, ...Array<string>(Math.max(missing, 0)).fill('0'), ...after];
  return `${full
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
