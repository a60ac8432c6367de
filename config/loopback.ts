/**
 * Loopback, the one network a laptop's throwaway credentials may live on: the dev key, the dev codec
 * token and the published HTTP dev token are only ever accepted where every party is on this machine.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** A host name or address (IPv6 with or without brackets) that can only mean this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIPv4(bare)) return bare.startsWith('127.');
  if (isIPv6(bare)) return bare === '::1' || /^::ffff:127\./.test(bare);
  return false;
}

/** The host of a `host:port` address, `[v6]:port` included. */
export function hostOfAddress(address: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(address);
  if (bracketed) return bracketed[1]!;
  const colons = address.split(':').length - 1;
  // A bare IPv6 address has several colons and no port to strip.
  return colons === 1 ? address.slice(0, address.indexOf(':')) : address;
}
