/**
 * What surrounds every DWS body: which API a path names, the checks on the caller (client id, signed
 * request, request time) and the signature on every answer.
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { dwsPaths, type DwsApi, type Result } from '../../activities/dws/types.js';
import { signMessage, verifyMessage, type KeyLike } from '../../activities/dws/signing.js';
import { sandboxKeyPath } from '../../config/project-files.js';
import type { RenderedAnswer } from '../faults.js';
import { failure, type DwsAnswer } from './results.js';

export interface DwsKeyMaterial {
  /** verifies requests; default sandbox/keys/dws-merchant.public.pem */
  merchantPublicKey?: KeyLike;
  /** signs answers; default sandbox/keys/dws-provider.private.pem */
  providerPrivateKey?: KeyLike;
}

export interface DwsKeys {
  merchantPublicKey: KeyObject;
  providerPrivateKey: KeyObject;
}

function sandboxKey(file: string): string {
  return readFileSync(sandboxKeyPath(file), 'utf8');
}

export function loadDwsKeys(material: DwsKeyMaterial = {}): DwsKeys {
  const pub = material.merchantPublicKey ?? sandboxKey('dws-merchant.public.pem');
  const priv = material.providerPrivateKey ?? sandboxKey('dws-provider.private.pem');
  return {
    merchantPublicKey: typeof pub === 'string' ? createPublicKey(pub) : pub,
    providerPrivateKey: typeof priv === 'string' ? createPrivateKey(priv) : priv,
  };
}

const apiByPath = new Map<string, DwsApi>(
  (Object.entries(dwsPaths) as [DwsApi, string][]).flatMap(([api, path]) => [
    [path, api],
    // where the real provider serves a SANDBOX_ client id
    [path.replace('/ams/api/', '/ams/sandbox/api/'), api],
  ]),
);

export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export function apiForPath(path: string): DwsApi | undefined {
  return apiByPath.get(path);
}

export interface EnvelopeRules {
  clientId: string;
  keys: DwsKeys;
  /** how far request-time may be from the sandbox clock */
  signatureSkewMs: number;
  now(): number;
}

export interface IncomingCall {
  method: string;
  /** as called, the signed path */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
}

function header(call: IncomingCall, name: string): string | undefined {
  const value = call.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

// 2019-05-28T12:12:12+08:00, ...+0800, ...Z, with or without fractions of a second.
const ISO_8601_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)(Z|[+-]\d{2}:?\d{2})$/;

/**
 * The instant a request-time names. The Java and Go SDKs send epoch milliseconds, the Python and PHP SDKs
 * an ISO 8601 time with its offset; DWS takes both, and the signature covers the header as sent.
 */
export function requestTimeOf(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d{1,15}$/.test(value)) return Number(value);
  const match = ISO_8601_TIME.exec(value);
  if (!match) return undefined;
  const [, local, zone] = match as unknown as [string, string, string];
  // Date.parse takes +08:00 but not every engine takes +0800.
  const offset = zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const at = Date.parse(`${local}${offset}`);
  return Number.isNaN(at) ? undefined : at;
}

/** In the seed's order of precedence; undefined when the call may go on to the API. */
export function envelopeProblem(call: IncomingCall, rules: EnvelopeRules): Result | undefined {
  if (call.method !== 'POST') {
    return failure('METHOD_NOT_SUPPORTED', 'The server does not implement the requested HTTP method.');
  }
  if (!apiForPath(pathOf(call.url))) return failure('INVALID_API', 'API is invalid (or not active).');
  const clientId = header(call, 'client-id');
  if (clientId !== rules.clientId) return failure('INVALID_CLIENT', 'Invalid client.');
  const time = header(call, 'request-time');
  const at = requestTimeOf(time);
  if (!time || at === undefined) {
    return failure(
      'INVALID_SIGNATURE',
      'Signature is invalid: request-time must be epoch milliseconds or an ISO 8601 time with its offset.',
    );
  }
  if (Math.abs(rules.now() - at) > rules.signatureSkewMs) {
    return failure(
      'INVALID_SIGNATURE',
      'Signature is invalid: request-time is too far from the server time.',
    );
  }
  const signed = verifyMessage({
    method: call.method,
    path: call.url,
    clientId,
    time,
    body: call.rawBody,
    signatureHeader: header(call, 'signature'),
    publicKey: rules.keys.merchantPublicKey,
  });
  return signed ? undefined : failure('INVALID_SIGNATURE', 'Signature is invalid.');
}

/** The answer as sent: serialised once, signed over exactly those bytes and the path called. */
export function signedAnswer(
  call: Pick<IncomingCall, 'method' | 'url' | 'headers'>,
  answer: DwsAnswer,
  rules: EnvelopeRules,
): RenderedAnswer {
  const body = JSON.stringify(answer);
  // Echo the caller's client id (even an unknown one) so the caller can check the answer as it would its own.
  const clientId = header(call as IncomingCall, 'client-id') ?? rules.clientId;
  const time = String(rules.now());
  const signature = signMessage({
    method: call.method,
    path: call.url,
    clientId,
    time,
    body,
    privateKey: rules.keys.providerPrivateKey,
  });
  return {
    statusCode: 200,
    headers: {
      'content-type': 'application/json; charset=UTF-8',
      'client-id': clientId,
      'response-time': time,
      signature,
    },
    body,
  };
}
