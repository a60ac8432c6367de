/**
 * The embedded default's first look: the local dev server's UI decodes payloads with no sign-in.
 *
 * Why a credential-free path at all: the UI of the Temporal CLI we ship (1.9.1, UI 2.54.1) calls
 * `<endpoint>/decode` with `Content-Type` and `X-Namespace` only. It sends `Authorization` only when told
 * to pass a user's access token (and only to an https endpoint; the dev server has no login, so it has
 * none), and cookies only when "include cross-origin credentials" is on, which the CLI has no flag for.
 * So without a manual step the browser can prove nothing but where it comes from.
 *
 * Why that is acceptable here and nowhere else: with the dev key, whoever can reach loopback as this user
 * can read `.temporal/codec-keys` anyway; the convenience gives away nothing the laptop's files do not.
 * Every condition below must hold, so a real key, a listener on another address, a UI elsewhere or a
 * proxy in front turns it off and the codec is back to token or session.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isLoopbackHost } from '../config/loopback.js';
import { DEV_KEYS_PATH, holdsOnlyDevKeys, type KeyRing } from './keyring.js';

export interface LocalUiAccessInput {
  /** the ring the codec endpoint decrypts with */
  keyRing: KeyRing;
  /** the address the HTTP service listens on (HTTP_HOST) */
  listenHost: string;
  /** the UI origin the codec endpoint answers (CODEC_UI_ORIGIN) */
  uiOrigin: string;
  /** HTTP_TRUSTED_PROXIES names any: a proxy in front makes every caller look local */
  trustProxy: boolean;
  devKeysPath?: string;
}

export type LocalUiAccessDecision = { allowed: true } | { allowed: false; reason: string };

export function decideLocalUiAccess(input: LocalUiAccessInput): LocalUiAccessDecision {
  if (!holdsOnlyDevKeys(input.keyRing, input.devKeysPath ?? DEV_KEYS_PATH)) {
    return { allowed: false, reason: 'a configured key (not the local dev key) is in use' };
  }
  if (!isLoopbackHost(input.listenHost)) {
    return { allowed: false, reason: `the HTTP service listens on ${input.listenHost}, not on loopback` };
  }
  if (!isLoopbackHost(new URL(input.uiOrigin).hostname)) {
    return { allowed: false, reason: `the UI origin ${input.uiOrigin} is not on loopback` };
  }
  if (input.trustProxy) return { allowed: false, reason: 'HTTP_TRUSTED_PROXIES is set' };
  return { allowed: true };
}

/**
 * One request, at the socket: the local UI's origin, from a loopback peer, addressed to a loopback host,
 * and not relayed (a relaying proxy on this machine would make a remote caller's peer address loopback).
 */
export function isLocalUiRequest(
  request: { headers: IncomingHttpHeaders; socket: { remoteAddress?: string | undefined }; host: string },
  uiOrigin: string,
): boolean {
  const { headers } = request;
  if (headers.origin !== uiOrigin) return false;
  if (headers['x-forwarded-for'] !== undefined || headers.forwarded !== undefined) return false;
  if (!isLoopbackHost(request.socket.remoteAddress ?? '')) return false;
  const hostname = request.host.replace(/:\d+$/, '');
  return isLoopbackHost(hostname);
}
