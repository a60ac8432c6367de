/**
 * What every provider client shares: one got instance with keep-alive agents, per-phase timeouts, no
 * redirects and no retries of its own (Temporal retries the activity, with the same idempotency key).
 * Each provider extends it with its own signing hooks.
 */
import http from 'node:http';
import https from 'node:https';
import got, { type Got } from 'got';

/** got's per-phase limits in milliseconds; `request` caps the whole exchange below the activity's start-to-close. */
export interface ProviderTimeouts {
  lookup: number;
  connect: number;
  secureConnect: number;
  send: number;
  response: number;
  request: number;
}

// The whole exchange stays under 15 s so a 20 s activity start-to-close always sees our own timeout first.
export const defaultProviderTimeouts: ProviderTimeouts = {
  lookup: 2_000,
  connect: 3_000,
  secureConnect: 3_000,
  send: 5_000,
  response: 10_000,
  request: 15_000,
};

export interface ProviderHttp {
  got: Got;
  /** releases the keep-alive sockets */
  close(): void;
}

export function providerHttp(baseUrl: string, timeouts: ProviderTimeouts): ProviderHttp {
  const agent = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  return {
    got: got.extend({
      prefixUrl: baseUrl,
      retry: { limit: 0 },
      timeout: { ...timeouts },
      agent,
      // Every status is read by the provider's own mapping, not thrown by got.
      throwHttpErrors: false,
      // A redirect is not an answer, and would change the path the signature covers.
      followRedirect: false,
      responseType: 'text',
    }),
    close() {
      agent.http.destroy();
      agent.https.destroy();
    },
  };
}
