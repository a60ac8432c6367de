/**
 * The codec endpoint the Temporal UI calls to show encrypted payloads in clear to an authorised operator
 * (and to encrypt what the operator types, e.g. a signal sent from the UI).
 *
 * Protocol (Temporal's remote codec, as the UI, the CLI and the Go SDK speak it): `POST <endpoint>/decode`
 * and `POST <endpoint>/encode`, body the proto3 JSON form of `temporal.api.common.v1.Payloads`,
 * `{ payloads: [{ metadata: { <key>: <base64> }, data: <base64> }] }`, answered in the same shape with as
 * many payloads as were sent. Proto3 JSON leaves empty and default fields out, so `{}` is an empty list
 * and a payload may come without `metadata` or `data`. Clients add `X-Namespace`; the CLI adds its
 * `--codec-auth` value as `Authorization`, the UI `Authorization: Bearer <access token>` when told to.
 *
 * Guards, in order, all decided from the headers before any body is read: a request carrying an Origin
 * other than the UI's is refused (403, no CORS headers); a client address past its failed sign-ins is
 * refused (429 with Retry-After); /encode and /decode then need a valid bearer token or session cookie
 * (401). The one exception is the embedded default's local UI (`localUiAccess`, see local-ui-access.ts
 * for when it may be on).
 */
import cors from '@fastify/cors';
import Fastify, {
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { PayloadDecryptionError } from './aes-gcm-codec.js';
import { SESSION_COOKIE, TokenVerifier, loadCodecAuthTokens, sessionValue } from './codec-auth.js';
import { ConfigError } from '../config/errors.js';
import { parseUrl, readString, type Env } from '../config/settings.js';
import { isLoopbackHost } from '../config/loopback.js';
import { isLocalUiRequest } from './local-ui-access.js';
import { addressBucket } from '../limits/client-address.js';
import { MemoryLimitsStore } from '../limits/memory-store.js';
import { LimitsStoreUnavailableError, type LimitsStore, type LimitWindow } from '../limits/store.js';

export const DEFAULT_UI_ORIGIN = 'http://localhost:8233';
const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;
const SESSION_FORM_LIMIT = 4096;
const SESSION_MAX_AGE_SECONDS = 8 * 60 * 60;

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Bearer tokens that may use /encode and /decode (any one of them). */
  authTokens: readonly string[];
  /** The Temporal UI's origin, exactly (scheme, host, port); default http://localhost:8233. */
  uiOrigin?: string;
  /**
   * Accepts a bearer token that is not one of `authTokens`: plug in the verification of the access
   * token a UI with login forwards (e.g. a JWT check against the identity provider).
   */
  verifyAccessToken?: (token: string, request: FastifyRequest) => boolean | Promise<boolean>;
  /** When set, only these namespaces (the UI's X-Namespace header) are served. */
  namespaces?: readonly string[];
  /** for /encode and /decode, read only once the caller is authorised; default 8 MiB */
  bodyLimit?: number;
  /** failed sign-ins allowed per client address; default DEFAULT_AUTH_FAILURE_LIMIT */
  authFailureLimit?: AuthFailureLimit;
  /**
   * where failed sign-ins count: the HTTP service hands in its own (limits/, Redis when configured); a
   * standalone codec server counts in its memory
   */
  limitsStore?: LimitsStore;
  /**
   * The embedded default only: the UI origin, calling from and to loopback, decodes without a token
   * (see local-ui-access.ts, whose decideLocalUiAccess says when). Off unless set.
   */
  localUiAccess?: boolean;
}

/**
 * Failed sign-ins counted per client address (an IPv6 address by its /64): a wrong token posted to
 * /session, or a wrong bearer token or session cookie sent to /encode or /decode. A request that carries
 * no credential at all is not a guess (the UI polls /decode like that until someone signs in) and is not
 * counted. Past `max` in `windowSeconds`, every sign-in and codec call from that address answers 429 with
 * Retry-After, a right token included, until the window ends. The tokens are long enough that guessing is
 * hopeless anyway; the limit is there so guesses cost the OTP service nothing.
 */
export interface AuthFailureLimit {
  max: number;
  windowSeconds: number;
}

export const DEFAULT_AUTH_FAILURE_LIMIT: AuthFailureLimit = { max: 10, windowSeconds: 600 };

/** Temporal's proto-JSON form of a Payload: metadata values and data in base64. */
export interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

/**
 * Proto3 JSON of `Payloads`: an empty list is omitted (the Go SDK, so the CLI, sends `{}` for the empty
 * input of a signal without arguments or the empty `Payloads` of a history event) and `null` means the
 * same, so neither `required` nor a non-null type here.
 */
interface CodecBody {
  payloads?: JsonPayload[] | null;
}

const codecBodySchema = {
  type: 'object',
  properties: {
    payloads: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        properties: {
          metadata: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
          data: { type: ['string', 'null'] },
        },
      },
    },
  },
} as const;

// Proto3 JSON bytes: parsers accept standard or URL-safe base64, padded or not.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function fromBase64(value: string): Buffer {
  if (!BASE64.test(value)) throw new TypeError('not base64');
  return Buffer.from(value, 'base64');
}

export function payloadFromJson({ metadata, data }: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([key, value]) => [key, fromBase64(value)]),
    ),
    data: fromBase64(data ?? ''),
  };
}

export function payloadToJson({ metadata, data }: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
    ),
    data: Buffer.from(data ?? new Uint8Array()).toString('base64'),
  };
}

/** Parses an exact origin: refuses paths, credentials and anything that is not http(s). */
export function parseOrigin(value: string, source = 'The UI origin'): string {
  const url = parseUrl(value, source);
  if (new URL(url).origin !== url) {
    throw new ConfigError(
      source,
      `must be an origin (scheme, host and port only) such as ${DEFAULT_UI_ORIGIN}`,
    );
  }
  return url;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

function sessionPage(message: string): string {
  return `<!doctype html><html><head><title>Codec server sign-in</title></head><body>
<h1>Temporal codec server</h1><p>${escapeHtml(message)}</p>
<form method="post"><label>Codec auth token <input type="password" name="token" autocomplete="off"></label>
<button type="submit">Sign in</button></form></body></html>`;
}

/**
 * Serves /encode, /decode and /session under wherever it is registered. Encapsulated on purpose (not
 * wrapped in fastify-plugin): its CORS policy and guards stay inside its own prefix.
 */
export const codecServerPlugin: FastifyPluginAsync<CodecServerOptions> = async (app, options) => {
  const uiOrigin = parseOrigin(options.uiOrigin ?? DEFAULT_UI_ORIGIN);
  const verifier = new TokenVerifier(options.authTokens);
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const cookiePath = app.prefix || '/';
  const sessionUrl = `${app.prefix}/session`;
  if (options.localUiAccess && !isLoopbackHost(new URL(uiOrigin).hostname)) {
    throw new Error(`localUiAccess needs a UI origin on loopback, not ${uiOrigin}.`);
  }

  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined || origin === uiOrigin) return;
    // The sign-in page posts to itself, from the codec server's own origin.
    if (request.routeOptions.url === sessionUrl && origin === `${request.protocol}://${request.host}`) return;
    return refuse(request, reply, 403, {
      error: 'Forbidden',
      message: 'This origin may not use the codec server.',
    });
  });

  await app.register(cors, {
    origin: [uiOrigin],
    credentials: true,
    methods: ['POST'],
    allowedHeaders: ['content-type', 'x-namespace', 'authorization', 'authorization-extras'],
    maxAge: 600,
  });

  const store = options.limitsStore ?? new MemoryLimitsStore();
  if (!options.limitsStore) app.addHook('onClose', () => store.close());
  const failureLimit = options.authFailureLimit ?? DEFAULT_AUTH_FAILURE_LIMIT;
  const failureWindows: LimitWindow[] = [
    { limit: failureLimit.max, windowSeconds: failureLimit.windowSeconds },
  ];
  const failureKey = (request: FastifyRequest) => `codec-sign-in:${addressBucket(request.ip)}`;

  /**
   * Counts one failed sign-in. The limit fails open: when the store cannot answer, a failure goes
   * uncounted rather than locking every operator out of the UI with it; the tokens are long enough that
   * guessing is hopeless without the limit, which is there so guesses cost the service nothing.
   */
  async function countFailure(request: FastifyRequest) {
    await store.hit(failureKey(request), failureWindows).catch((err: unknown) => {
      if (!(err instanceof LimitsStoreUnavailableError)) throw err;
      request.log.warn('limits store unavailable; a failed codec sign-in went uncounted');
    });
  }

  /** An onRequest hook: refuses an address past its failed sign-ins before anything else is done. */
  async function notLockedOut(request: FastifyRequest, reply: FastifyReply) {
    const verdict = await store.peek(failureKey(request), failureWindows).catch((err: unknown) => {
      if (err instanceof LimitsStoreUnavailableError) return { allowed: true as const };
      throw err;
    });
    if (verdict.allowed) return;
    const { retryAfterSeconds } = verdict;
    request.log.warn('codec sign-in failures reached their limit for this address');
    return refuse(request, reply.header('retry-after', String(retryAfterSeconds)), 429, {
      error: 'Too Many Requests',
      message: `Too many failed sign-ins from this address; retry in ${retryAfterSeconds} s.`,
    });
  }

  /** What the request offers as proof, if anything: only these can be a guess. */
  function credentialOf(request: FastifyRequest) {
    const [scheme, token] = (request.headers.authorization ?? '').split(/\s+/, 2);
    if (scheme?.toLowerCase() === 'bearer' && token) return { bearer: token };
    const session = readCookie(request.headers.cookie, SESSION_COOKIE);
    return session === undefined ? undefined : { session };
  }

  async function authorised(
    request: FastifyRequest,
    credential: ReturnType<typeof credentialOf>,
  ): Promise<boolean> {
    if (credential?.bearer !== undefined) {
      if (verifier.matchesToken(credential.bearer)) return true;
      return (await options.verifyAccessToken?.(credential.bearer, request)) ?? false;
    }
    if (credential?.session !== undefined) return verifier.matchesSession(credential.session);
    return options.localUiAccess === true && isLocalUiRequest(request, uiOrigin);
  }

  /**
   * An onRequest hook, so it runs before Fastify reads the body: an unauthorised caller's body is never
   * read, parsed or held, whatever size it announces.
   */
  async function guard(request: FastifyRequest, reply: FastifyReply) {
    const credential = credentialOf(request);
    if (!(await authorised(request, credential))) {
      if (credential) await countFailure(request);
      return refuse(request, reply.header('www-authenticate', 'Bearer'), 401, {
        error: 'Unauthorized',
        message: 'A valid codec auth token is required.',
      });
    }
    const namespace = request.headers['x-namespace'];
    if (options.namespaces && !(typeof namespace === 'string' && options.namespaces.includes(namespace))) {
      return refuse(request, reply, 403, {
        error: 'Forbidden',
        message: 'This codec server does not serve the requested namespace.',
      });
    }
  }

  // The CLI appends `/decode` to its endpoint as typed, so `--codec-endpoint .../codec/` calls
  // `/codec//decode` and retries the 404 silently until its deadline. The protocol tells servers to look at
  // the last path segment only, so that spelling is served too.
  const routes = (['encode', 'decode'] as const).flatMap((direction) =>
    [`/${direction}`, `//${direction}`].map((path) => ({ path, direction })),
  );
  for (const { path, direction } of routes) {
    app.post<{ Body: CodecBody }>(
      path,
      {
        schema: { body: codecBodySchema },
        // A page of history can be megabytes, so this replaces the host app's small limit. That is safe
        // only because both hooks run in onRequest and answer from the headers: the big limit is reached
        // by authorised callers alone, and an unauthorised caller's body is not read at all.
        bodyLimit,
        onRequest: [notLockedOut, guard],
      },
      async (request, reply) => {
        let payloads;
        try {
          payloads = (request.body.payloads ?? []).map(payloadFromJson);
        } catch {
          return reply
            .code(400)
            .send({ error: 'Bad Request', message: 'body.payloads holds an invalid payload.' });
        }
        try {
          const converted = await options.codec[direction](payloads);
          return { payloads: converted.map(payloadToJson) };
        } catch (err) {
          // The codec's messages name key ids only, never payload content.
          if (err instanceof PayloadDecryptionError) {
            return reply.code(422).send({ error: 'Unprocessable Entity', message: err.message });
          }
          throw err;
        }
      },
    );
  }

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: SESSION_FORM_LIMIT },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  app.get('/session', async (_request, reply) =>
    reply
      .headers(HTML_HEADERS)
      .send(sessionPage('Sign in so that this browser can decode payloads in the UI.')),
  );

  app.post<{ Body: { token?: string } }>(
    '/session',
    { bodyLimit: SESSION_FORM_LIMIT, onRequest: notLockedOut },
    async (request, reply) => {
      const token = request.body?.token ?? '';
      if (!verifier.matchesToken(token)) {
        await countFailure(request);
        return reply.code(401).headers(HTML_HEADERS).send(sessionPage('That token is not valid. Try again.'));
      }
      return reply
        .headers(HTML_HEADERS)
        .header(
          'set-cookie',
          `${SESSION_COOKIE}=${sessionValue(token)}; Path=${cookiePath}; Max-Age=${SESSION_MAX_AGE_SECONDS}; HttpOnly; SameSite=Strict`,
        )
        .send(
          sessionPage(
            'Signed in. In the Temporal UI, open the Codec Server settings and turn on "Include cross-origin credentials".',
          ),
        );
    },
  );
};

/**
 * Answers without reading the body. On a kept-alive connection Node would read (and drop) the rest of an
 * unread body to reuse the socket; closing it instead means a refused upload is not received at all.
 */
function refuse(request: FastifyRequest, reply: FastifyReply, code: number, body: object) {
  const announced =
    request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
  if (announced) reply.header('connection', 'close');
  return reply.code(code).send(body);
}

/** A standalone codec server (the recommended deployment: its own port, reachable by operators only). */
export async function buildCodecServer(
  options: CodecServerOptions,
  serverOptions: FastifyServerOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify(serverOptions);
  await app.register(codecServerPlugin, options);
  return app;
}

export interface CodecServerConfig {
  uiOrigin: string;
  authTokens: string[];
}

/** `CODEC_UI_ORIGIN` (default http://localhost:8233) and the tokens of `CODEC_AUTH_TOKEN[_FILE]`. */
export function codecServerConfigFromEnv(env: Env, options: { allowDevToken: boolean }): CodecServerConfig {
  const origin = readString(env, 'CODEC_UI_ORIGIN');
  return {
    uiOrigin: origin ? parseOrigin(origin, 'CODEC_UI_ORIGIN') : DEFAULT_UI_ORIGIN,
    authTokens: loadCodecAuthTokens(env, options),
  };
}
