/**
 * A malformed-input sweep of the HTTP service: every field of every route gets hostile strings and wrong
 * types, then bodies, ids, methods, content types, tokens and headers that no real caller sends. The
 * service must never answer 5xx, must say what was wrong in every 4xx, and must still be healthy after.
 * A real client talks to the dev server; no worker is needed, since nothing here gets as far as a provider.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildHttpApp } from '../http/app.js';
import { VerificationClient } from '@dws-verify/client';
import { devServer, uniqueName } from './helpers/temporal.js';
import {
  hostileStrings,
  jsonTypeOf,
  remove,
  routes,
  withField,
  wrongTypedValues,
  type RouteSpec,
} from './helpers/chaos-inputs.js';

const token = `sweep-${randomBytes(16).toString('hex')}`;
const auth = { authorization: `Bearer ${token}` };
const plenty = { max: 1_000_000, windowSeconds: 60 };

/** What a case must get, beyond the rules every answer obeys. */
interface Expectation {
  /** the answer must be one of these */
  status?: number[];
  /** a 400 must name exactly this field */
  field?: string;
  /** a 400 may name this field or one inside it */
  fieldWithin?: string;
  /** this value must not come back in an error body */
  secret?: string;
}

interface Case {
  label: string;
  request: InjectOptions;
  expect?: Expectation;
}

interface ErrorBody {
  error?: unknown;
  message?: unknown;
  field?: unknown;
}

describe('HTTP service: malformed-input sweep through app.inject()', function () {
  this.timeout(180_000);

  let env: TestWorkflowEnvironment;
  let app: FastifyInstance;
  const runTag = randomBytes(3).toString('hex');
  let serial = 0;
  const statusCounts = new Map<number, number>();
  const undeleted = new Set<string>();

  /** A customer no other case has used, so a start that passes validation never meets ALREADY_RUNNING. */
  const freshCustomer = () => `sweep${runTag}n${++serial}`;

  before(async function () {
    env = await devServer();
    app = await buildHttpApp({
      verifications: new VerificationClient(env.client, uniqueName('sweep')),
      authTokens: [token],
      // The limits have their own tests; here they would only hide the validation behind 429s.
      rateLimits: {
        otpPerVerification: plenty,
        otpPerCaller: plenty,
        resendPerVerification: plenty,
        resendPerCaller: plenty,
        startPerCustomer: plenty,
        startPerUser: plenty,
        startPerCaller: plenty,
        cancelPerCustomer: plenty,
        cancelPerCaller: plenty,
      },
    });
  });

  /**
   * Hostile but valid input does start verifications. No worker will ever run them, and a later case may
   * name the same customer (a closed run that never ran a task cannot even be queried), so each one is
   * deleted at once; any that could not be are retried at the end.
   */
  async function stopStarted(workflowId: string): Promise<void> {
    undeleted.add(workflowId);
    await env.client.workflowService.deleteWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId },
    });
    undeleted.delete(workflowId);
  }

  /** Waits (bounded) until Temporal no longer knows the workflow, so a case can count on a 404. */
  async function ensureAbsent(workflowId: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const known = await env.client.workflow
        .getHandle(workflowId)
        .describe()
        .then(
          () => true,
          () => false,
        );
      if (!known) return;
      await stopStarted(workflowId).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${workflowId} could not be removed`);
  }

  after(async function () {
    await Promise.allSettled([...undeleted].map(stopStarted));
    await app?.close();
    const histogram = [...statusCounts].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
    const total = [...statusCounts.values()].reduce((sum, n) => sum + n, 0);
    console.log(`      sweep: ${total} requests, answers ${histogram.join(' ')}`);
  });

  /** Runs every case and returns one line per broken rule, so a failure lists all offenders at once. */
  async function sweep(cases: readonly Case[]): Promise<string[]> {
    const problems: string[] = [];
    for (const { label, request, expect = {} } of cases) {
      const response = await app.inject(request);
      statusCounts.set(response.statusCode, (statusCounts.get(response.statusCode) ?? 0) + 1);
      const location = response.headers.location;
      if (typeof location === 'string') await stopStarted(location.replace('/verifications/', ''));
      for (const problem of judge(response, expect)) {
        problems.push(`${request.method} ${String(request.url).slice(0, 80)} [${label}]: ${problem}`);
      }
    }
    return problems;
  }

  function judge(response: LightMyRequestResponse, expect: Expectation): string[] {
    const { statusCode } = response;
    if (statusCode >= 500) return [`answered ${statusCode}: ${response.body.slice(0, 200)}`];
    const problems: string[] = [];
    if (expect.status && !expect.status.includes(statusCode)) {
      problems.push(
        `answered ${statusCode}, expected ${expect.status.join(' or ')}: ${response.body.slice(0, 200)}`,
      );
    }
    if (statusCode < 400) return problems;

    if (!String(response.headers['content-type']).startsWith('application/json')) {
      problems.push(`error answer is ${response.headers['content-type']}, not JSON`);
      return problems;
    }
    let body: ErrorBody;
    try {
      body = response.json<ErrorBody>();
    } catch {
      return [...problems, 'error answer is not parseable JSON'];
    }
    if (typeof body.error !== 'string' || !/^[A-Z][A-Z_]*$/.test(body.error)) {
      problems.push(`error code ${JSON.stringify(body.error)} is not one of the service's codes`);
    }
    if (typeof body.message !== 'string' || body.message.trim() === '') problems.push('no message');
    if (body.field !== undefined && typeof body.field !== 'string') problems.push('field is not a string');
    if (statusCode === 400) {
      if (expect.field !== undefined && body.field !== expect.field) {
        problems.push(`400 names ${JSON.stringify(body.field)}, expected ${expect.field}`);
      }
      const within = expect.fieldWithin;
      if (within !== undefined && body.field !== within && !String(body.field).startsWith(`${within}.`)) {
        problems.push(`400 names ${JSON.stringify(body.field)}, expected ${within} or a field inside it`);
      }
    }
    const secret = expect.secret;
    if (secret && secret.trim().length >= 6 && response.body.includes(JSON.stringify(secret).slice(1, -1))) {
      problems.push('the error answer repeats the value that was sent');
    }
    return problems;
  }

  async function assertHealthy(): Promise<void> {
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200);
    assert.deepEqual(health.json(), { ok: true });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200, ready.body);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted');
  }

  function post(
    route: RouteSpec,
    customerId: string,
    payload: unknown,
    headers: Record<string, string> = {},
  ) {
    return {
      method: 'POST' as const,
      url: route.url(customerId),
      headers: { ...auth, 'content-type': 'application/json', ...headers },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    };
  }

  function fieldCases(values: ReadonlyArray<readonly [string, unknown]>, typeMismatchOnly: boolean): Case[] {
    return routes.flatMap((route) =>
      route.fields.flatMap((field) =>
        values
          .filter(([, value]) => !typeMismatchOnly || typeof value !== 'string' || field.type !== 'string')
          .map(([label, value]): Case => {
            const customerId = freshCustomer();
            const body = withField(route.validBody(customerId), field.path, value);
            const wrongType = jsonTypeOf(value) !== field.type;
            const refused =
              wrongType || (typeof value === 'string' && field.accepts && !field.accepts.test(value));
            return {
              label: `${route.name} ${field.path} = ${label}`,
              request: post(route, customerId, body),
              expect: {
                ...(refused ? { status: [400] } : {}),
                ...(wrongType ? { field: field.path } : { fieldWithin: field.path }),
                ...(typeof value === 'string' ? { secret: value } : {}),
              },
            };
          }),
      ),
    );
  }

  it('puts every hostile string into every string field of every route', async function () {
    const cases = fieldCases(hostileStrings, false);
    assert.ok(cases.length > 600, `only ${cases.length} cases`);
    assert.deepEqual(await sweep(cases), []);
    await assertHealthy();
  });

  it('puts a value of every wrong type into every field of every route', async function () {
    const cases = fieldCases(wrongTypedValues, true);
    assert.ok(cases.length > 300, `only ${cases.length} cases`);
    assert.deepEqual(await sweep(cases), []);
    await assertHealthy();
  });

  it('names each missing required field', async function () {
    const cases = routes.flatMap((route) =>
      route.fields
        .filter((field) => field.required)
        .map((field): Case => {
          const customerId = freshCustomer();
          return {
            label: `${route.name} without ${field.path}`,
            request: post(route, customerId, withField(route.validBody(customerId), field.path, remove)),
            expect: { status: [400], field: field.path },
          };
        }),
    );
    assert.deepEqual(await sweep(cases), []);
    await assertHealthy();
  });

  it('refuses unknown and prototype-polluting keys at every level', async function () {
    const keys: Array<[string, string, unknown]> = [
      ['__proto__', '__proto__', { polluted: 'yes' }],
      ['constructor.prototype', 'constructor', { prototype: { polluted: 'yes' } }],
      ['prototype', 'prototype', { polluted: 'yes' }],
      ['$where', '$where', 'sleep(1000)'],
      ['$gt', '$gt', ''],
      ['empty key', '', 'x'],
      ['dotted key', 'a.b', 'x'],
      ['emoji key', '😀', 'x'],
      ['script key', '<script>', 'x'],
    ];
    const cases = routes.flatMap((route) => {
      const objects = ['', ...route.fields.filter((f) => f.type === 'object').map((f) => f.path)];
      return objects.flatMap((at) =>
        keys.map(([label, key, value]): Case => {
          const customerId = freshCustomer();
          const marker = `sweep_key_${randomBytes(4).toString('hex')}`;
          const body = at
            ? withField(route.validBody(customerId), `${at}.${marker}`, value)
            : {
                ...route.validBody(customerId),
                [marker]: value,
              };
          // Spliced into the text: a JS object cannot carry an own "__proto__" key through JSON.stringify.
          const text = JSON.stringify(body).replace(`"${marker}"`, JSON.stringify(key));
          return {
            label: `${route.name} ${label} in ${at || 'the body'}`,
            request: post(route, customerId, text),
            expect: { status: [400] },
          };
        }),
      );
    });
    assert.deepEqual(await sweep(cases), []);
    await assertHealthy();
  });

  it('answers 413 to bodies over the limit, however they are built', async function () {
    const cases = routes.flatMap((route): Case[] => {
      const customerId = freshCustomer();
      const base = route.validBody(customerId);
      return [
        ['just over 16 KiB in one field', { ...base, customerId: 'a'.repeat(16 * 1024) }],
        ['1 MiB of emoji', { ...base, customerId: '😀'.repeat(256 * 1024) }],
        ['a long array', { ...base, extra: Array.from({ length: 20_000 }, () => 1) }],
        ['deep nesting', `${'['.repeat(20_000)}${']'.repeat(20_000)}`],
      ].map(([label, payload]) => ({
        label: `${route.name} ${label}`,
        request: post(route, customerId, payload),
        expect: { status: [413] },
      }));
    });
    assert.deepEqual(await sweep(cases), []);
    await assertHealthy();
  });

  it('answers unknown, overlong and encoded ids in paths with a 4xx', async function () {
    const unknown = `sweep${runTag}nobody`;
    // [label, id, answers allowed, whether a 400 must name the field "id"]
    const ids: Array<[string, string, number[], boolean]> = [
      ['unknown but well-formed', `contact-change-${unknown}`, [404], false],
      ['well-formed, 64-character customer', `contact-change-${'9'.repeat(64)}`, [404], false],
      ['__proto__ as customer', 'contact-change-__proto__', [404], false],
      ['constructor as customer', 'contact-change-constructor', [404], false],
      ['65-character customer', `contact-change-${'9'.repeat(65)}`, [400], true],
      // Past Fastify's maxParamLength (100) the router refuses the URL itself.
      ['1000 characters', 'x'.repeat(1000), [400, 414], false],
      ['10000 characters', `contact-change-${'9'.repeat(10_000)}`, [400, 414], false],
      ['no prefix', unknown, [400], true],
      ['prefix only', 'contact-change-', [400], true],
      ['encoded slash', `contact-change-a%2Fb`, [400], true],
      ['encoded traversal', '..%2F..%2Fhealthz', [400], true],
      ['dot segments', '%2e%2e', [400, 404], false],
      ['double-encoded slash', 'contact-change-a%252Fb', [400], true],
      ['encoded NUL', 'contact-change-a%00b', [400], true],
      ['encoded emoji', 'contact-change-%F0%9F%98%80', [400], true],
      ['encoded RTL override', 'contact-change-abc%E2%80%AEdcba', [400], true],
      ['encoded combining marks', 'contact-change-e%CC%81%CC%82', [400], true],
      // Not decodable at all: the router refuses the URL before any parameter exists.
      ['broken percent-encoding', 'contact-change-%ZZ', [400], false],
      ['lone percent', 'contact-change-%', [400], false],
      ['truncated UTF-8', 'contact-change-%F0%9F', [400], false],
      ['SQL', "contact-change-'%20OR%20'1'='1", [400], true],
      ['template', 'contact-change-%7B%7B7*7%7D%7D', [400], true],
      ['script', 'contact-change-%3Cscript%3E', [400], true],
      ['NoSQL', 'contact-change-%7B%22%24gt%22%3A%22%22%7D', [400], true],
      ['semicolon parameter', 'contact-change-abc;x=1', [400, 404], false],
    ];
    for (const [, id, status] of ids)
      if (status.includes(404) && id.startsWith('contact-')) await ensureAbsent(id);
    const cases = ids.flatMap(([label, id, status, namesId]): Case[] => {
      // The body names the path's customer when there is a well-formed one, so only the id can be at fault.
      const suffix = id.startsWith('contact-change-') ? id.slice('contact-change-'.length) : '';
      const customerId = /^[0-9A-Za-z_-]{1,64}$/.test(suffix) ? suffix : unknown;
      const body = (extra: object = {}) => JSON.stringify({ customerId, ...extra });
      const headers = { ...auth, 'content-type': 'application/json' };
      return [
        { label: `state ${label}`, request: { method: 'GET', url: `/verifications/${id}`, headers: auth } },
        {
          label: `otp ${label}`,
          request: {
            method: 'POST',
            url: `/verifications/${id}/otp`,
            headers,
            payload: body({ code: '123456' }),
          },
        },
        {
          label: `resend ${label}`,
          request: { method: 'POST', url: `/verifications/${id}/resend`, headers, payload: body() },
        },
        {
          label: `cancel ${label}`,
          request: { method: 'POST', url: `/verifications/${id}/cancel`, headers, payload: body() },
        },
      ].map((c) => ({ ...c, expect: { status, ...(namesId ? { field: 'id' } : {}) } }) as Case);
    });
    assert.deepEqual(await sweep(cases), []);
    await assertHealthy();
  });

  it('answers a method a route does not have with a 405', async function () {
    const id = `contact-change-sweep${runTag}nobody`;
    const paths: Array<[string, string[]]> = [
      ['/verifications', ['POST']],
      [`/verifications/${id}`, ['GET', 'HEAD']],
      [`/verifications/${id}/otp`, ['POST']],
      [`/verifications/${id}/resend`, ['POST']],
      [`/verifications/${id}/cancel`, ['POST']],
      ['/healthz', ['GET', 'HEAD']],
      ['/readyz', ['GET', 'HEAD']],
      ['/openapi.json', ['GET', 'HEAD']],
    ];
    const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'] as const;
    const cases = paths.flatMap(([url, allowed]) =>
      methods
        .filter((method) => !allowed.includes(method))
        .map((method): Case => ({
          label: `${method} where only ${allowed.join('/')} is served`,
          request: {
            method,
            url,
            headers: { ...auth, 'content-type': 'application/json' },
            ...(method === 'GET' || method === 'TRACE' ? {} : { payload: '{}' }),
          },
          expect: { status: [405] },
        })),
    );
    assert.deepEqual(await sweep(cases), []);
    await assertHealthy();
  });

  it('answers bodies that are not a usable JSON object with 400 or 415', async function () {
    const bodies: Array<[string, string]> = [
      ['empty', ''],
      ['whitespace', '   '],
      ['open brace', '{'],
      ['missing value', '{"customerId":}'],
      ['trailing comma', '{"customerId":"a",}'],
      ['single quotes', "{'customerId':'a'}"],
      ['unquoted key', '{customerId:"a"}'],
      ['trailing garbage', '{}x'],
      ['two objects', '{}{}'],
      ['array', '[]'],
      ['string', '"customerId"'],
      ['number', '123'],
      ['null', 'null'],
      ['true', 'true'],
      ['NaN', '{"code":NaN}'],
      ['huge number literal', '{"code":1e400}'],
      ['comment', '{/* x */}'],
      ['BOM first', '\uFEFF{}'],
      ['NUL byte', '{"a":"\u0000"\u0000}'],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]).toString('latin1')],
      ['lone surrogate escape', '{"customerId":"\\ud800"}'],
      ['bad escape', '{"customerId":"\\x41"}'],
      ['duplicate keys', '{"customerId":"a","customerId":{"$gt":""}}'],
      // Deep but under the size limit, so the parser and the validator both meet them.
      ['deep array', `${'['.repeat(7000)}${']'.repeat(7000)}`],
      ['deep object', `${'{"a":'.repeat(2500)}1${'}'.repeat(2500)}`],
    ];
    const cases = routes.flatMap((route) =>
      bodies.map(([label, payload]): Case => ({
        label: `${route.name} ${label}`,
        request: post(route, freshCustomer(), payload),
        expect: { status: [400, 415] },
      })),
    );
    assert.deepEqual(await sweep(cases), []);
    await assertHealthy();
  });

  it('refuses bodies that are not sent as JSON with 415, and accepts JSON however it is spelled', async function () {
    const contentTypes: Array<[string, string | undefined, number[] | 'accepted']> = [
      ['text/plain', 'text/plain', [415]],
      ['form', 'application/x-www-form-urlencoded', [415]],
      ['multipart', 'multipart/form-data; boundary=x', [415]],
      ['XML', 'application/xml', [415]],
      ['HTML', 'text/html', [415]],
      ['octet-stream', 'application/octet-stream', [415]],
      ['JSON lookalike', 'application/jsonx', [415]],
      ['JSON with a suffix', 'application/vnd.api+json', [415]],
      ['garbage', '¯\\_(ツ)_/¯', [400, 415]],
      ['empty', '', [400, 415]],
      ['none', undefined, [400, 415]],
      ['JSON, UTF-8', 'application/json; charset=utf-8', 'accepted'],
      ['JSON, upper case', 'APPLICATION/JSON', 'accepted'],
    ];
    const cases = routes.flatMap((route) =>
      contentTypes.map(([label, contentType, expected]): Case => {
        const customerId = freshCustomer();
        const request = post(route, customerId, route.validBody(customerId));
        const headers: Record<string, string> = { ...auth };
        if (contentType !== undefined) headers['content-type'] = contentType;
        return {
          label: `${route.name} as ${label}`,
          request: { ...request, headers },
          // Accepted means validation passed: whatever Temporal then says (201, 404), it is not a 415 or 400.
          expect: { status: expected === 'accepted' ? [200, 201, 202, 404, 409] : expected },
        };
      }),
    );
    assert.deepEqual(await sweep(cases), []);
    await assertHealthy();
  });

  it('answers 401 to every missing, malformed or unknown token', async function () {
    const tokens: Array<[string, Record<string, string>]> = [
      ['no header', {}],
      ['empty', { authorization: '' }],
      ['scheme only', { authorization: 'Bearer' }],
      ['scheme and space', { authorization: 'Bearer ' }],
      ['wrong token', { authorization: `Bearer ${token}x` }],
      ['prefix of the token', { authorization: `Bearer ${token.slice(0, -1)}` }],
      ['Basic', { authorization: `Basic ${Buffer.from(`user:${token}`).toString('base64')}` }],
      ['two tokens', { authorization: `Bearer ${token} ${token}` }],
      ['latin-1 token', { authorization: 'Bearer caf\u00e9' }],
      ['very long token', { authorization: `Bearer ${'t'.repeat(10_000)}` }],
      ['SQL token', { authorization: "Bearer ' OR '1'='1" }],
      ['token in another header', { 'x-api-key': token }],
    ];
    const cases = routes.flatMap((route) =>
      tokens.map(([label, headers]): Case => {
        const customerId = freshCustomer();
        const request = post(route, customerId, route.validBody(customerId));
        return {
          label: `${route.name} with ${label}`,
          request: { ...request, headers: { 'content-type': 'application/json', ...headers } },
          expect: { status: [401] },
        };
      }),
    );
    assert.deepEqual(await sweep(cases), []);
    await assertHealthy();
  });

  it('checks the Idempotency-Key header and ignores polluting query strings', async function () {
    const start = routes.find((route) => route.name === 'start')!;
    const keys: Array<[string, string, number[]]> = [
      ['65 characters', 'k'.repeat(65), [400]],
      ['with a space', 'a b', [400]],
      ['latin-1', 'caf\u00e9', [400]],
      ['tab inside', 'a\tb', [400]],
      // Visible ASCII is a key like any other: stored and compared, never interpreted.
      ['NoSQL text', '{"$gt":""}', [201]],
    ];
    const keyCases = keys.map(([label, key, status]): Case => {
      const customerId = freshCustomer();
      return {
        label: `idempotency-key ${label}`,
        request: post(start, customerId, start.validBody(customerId), { 'idempotency-key': key }),
        expect: { status, field: 'idempotency-key' },
      };
    });
    const queries = [
      '__proto__[polluted]=yes',
      'constructor[prototype][polluted]=yes',
      '__proto__.polluted=yes',
      'customerId[$gt]=',
      `a=${'q'.repeat(5000)}`,
      'x=%ZZ',
      'x=%00',
    ];
    const queryCases = routes.flatMap((route) =>
      queries.map((query): Case => {
        const customerId = freshCustomer();
        const request = post(route, customerId, route.validBody(customerId));
        return {
          label: `${route.name} ?${query.slice(0, 40)}`,
          request: { ...request, url: `${request.url}?${query}` },
        };
      }),
    );
    assert.deepEqual(await sweep([...keyCases, ...queryCases]), []);
    await assertHealthy();
  });
});
