/** How DWS shows a challenge destination (seed: "+60******6353"): enough for the user to recognise it. */
import type { MobileNoInfo } from '../../activities/dws/types.js';

export function maskPhone(phone: MobileNoInfo): string {
  return `+${phone.countryCode}******${phone.phoneNo.slice(-4)}`;
}

/** 'example@example.com' -> 'e*****e@example.com' */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const last = local.length > 1 ? local.slice(-1) : '';
  return `${local.slice(0, 1)}*****${last}${email.slice(at)}`;
}
