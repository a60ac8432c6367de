import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { AesGcmPayloadCodec } from '../codec/aes-gcm-codec.js';
import { KeyRing } from '../codec/keyring.js';
import { buildHttpApp, type HttpAppOptions } from '../http/app.js';
import { VerificationClient } from '@dws-verify/client';
import { verificationWorkflowId } from '../workflows/ids.js';
import type { VerificationState } from '../workflows/types.js';
import { uniqueName } from './helpers/temporal.js';
import {
  withVerificationWorker,
  type VerificationRig,
  verificationStack,
} from './helpers/verification-env.js';

const token = `routes-${randomBytes(12).toString('hex')}`;
const auth = { authorization: `Bearer ${token}` };

type AppOptions = Partial<Omit<HttpAppOptions, 'verifications'>>;

describe('HTTP routes through app.inject() on the dev server', function () {
  const stack = verificationStack();

  async function withApp<T>(
    taskQueue: string,
    fn: (app: FastifyInstance) => Promise<T>,
    options: AppOptions = {},
  ): Promise<T> {
    const app = await buildHttpApp({
      verifications: new VerificationClient(stack.env.client, taskQueue),
      authTokens: [token],
      ...options,
    });
    try {
      return await fn(app);
    } finally {
      await app.close();
    }
  }

  /** The rig's worker plus an app whose client starts work on the rig's task queue. */
  function withRigAndApp<T>(
    fn: (rig: VerificationRig, app: FastifyInstance) => Promise<T>,
    options: AppOptions = {},
  ) {
    return withVerificationWorker(stack.env, stack.sandbox, (rig) =>
      withApp(rig.taskQueue, (app) => fn(rig, app), options),
    );
  }

  function post(app: FastifyInstance, url: string, payload: unknown, headers: Record<string, string> = {}) {
    return app.inject({ method: 'POST', url, headers: { ...auth, ...headers }, payload: payload as object });
  }

  async function stateUntil(
    app: FastifyInstance,
    verificationId: string,
    predicate: (state: VerificationState) => boolean,
  ): Promise<VerificationState> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const response = await app.inject({
        method: 'GET',
        url: `/verifications/${verificationId}`,
        headers: auth,
      });
      assert.equal(response.statusCode, 200, response.body);
      const state = response.json<VerificationState>();
      if (predicate(state)) return state;
      if (state.step === 'DONE') throw new Error(`finished (${state.outcome}) before the awaited state`);
      if (Date.now() > deadline) throw new Error(`state never matched; step ${state.step}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const awaitingInput = (state: VerificationState) => state.step === 'AWAITING_INPUT';

  /** Starts a verification for a new sandbox customer over HTTP and waits until it asks for the code. */
  async function startAwaitingInput(rig: VerificationRig, app: FastifyInstance, extra: object = {}) {
    const customer = await rig.control.addCustomer();
    const started = await post(app, '/verifications', {
      customerId: customer.customerId,
      change: { email: 'routes.new@example.com' },
      ...extra,
    });
    assert.equal(started.statusCode, 201, started.body);
    const verificationId = verificationWorkflowId(customer.customerId);
    const state = await stateUntil(app, verificationId, awaitingInput);
    return { customer, verificationId, state };
  }

  function wrongCodeFor(code: string): string {
    return code.replace(/\d/g, (digit) => String((Number(digit) + 1) % 10));
  }

  function assertBadRequest(response: LightMyRequestResponse, field: string) {
    assert.equal(response.statusCode, 400, response.body);
    const body = response.json<{ error: string; field: string; message: string }>();
    assert.equal(body.error, 'BAD_REQUEST');
    assert.equal(body.field, field);
    assert.ok(body.message.length > 0);
  }

  it('starts a verification (201) answered with the challenge, refuses a second start (409), attaches on request (200)', async function () {
    await withRigAndApp(async (rig, app) => {
      const customer = await rig.control.addCustomer();
      const input = { customerId: customer.customerId, change: { email: 'first@example.com' } };
      const verificationId = verificationWorkflowId(customer.customerId);

      const first = await post(app, '/verifications', input);
      assert.equal(first.statusCode, 201, first.body);
      const {
        verificationId: answeredId,
        runId,
        attached: fresh,
        ...challenge
      } = first.json<{
        verificationId: string;
        runId: string;
        attached: boolean;
        challengeType: string;
        maskedDestination: string;
        attemptsLeft: number;
        expiresAt: string;
      }>();
      assert.equal(answeredId, verificationId);
      assert.equal(fresh, false);
      assert.ok(runId.length > 0);
      assert.equal(first.headers.location, `/verifications/${verificationId}`);
      assert.equal(challenge.challengeType, 'sms');
      assert.match(challenge.maskedDestination, /\*{3,}/);
      assert.equal(challenge.attemptsLeft, 5);
      assert.ok(Date.parse(challenge.expiresAt) > Date.now());

      const second = await post(app, '/verifications', input);
      assert.equal(second.statusCode, 409, second.body);
      assert.equal(second.json<{ error: string }>().error, 'ALREADY_RUNNING');

      const attached = await post(app, '/verifications', { ...input, ifRunning: 'attach' });
      assert.equal(attached.statusCode, 200, attached.body);
      assert.deepEqual(attached.json(), { verificationId, runId, attached: true, ...challenge });

      const state = await stateUntil(app, verificationId, awaitingInput);
      assert.equal(state.customerId, customer.customerId);
      assert.equal(state.challengeType, 'sms');
      assert.equal(state.attemptsLeft, 5);
      assert.match(state.maskedDestination ?? '', /\*{3,}/);
      assert.ok(
        state.timeline.length > 0 && state.timeline.every((entry) => entry.at && entry.step && entry.event),
      );
    });
  });

  it('answers a retried start with the same Idempotency-Key with the run it started', async function () {
    await withRigAndApp(async (rig, app) => {
      const customer = await rig.control.addCustomer();
      const input = { customerId: customer.customerId, change: { email: 'retry@example.com' } };
      const key = uniqueName('start');

      const first = await post(app, '/verifications', input, { 'idempotency-key': key });
      assert.equal(first.statusCode, 201, first.body);
      const retried = await post(app, '/verifications', input, { 'idempotency-key': key });
      assert.equal(retried.statusCode, 200, retried.body);
      assert.equal(retried.json<{ runId: string }>().runId, first.json<{ runId: string }>().runId);
      assert.equal(retried.json<{ attached: boolean }>().attached, true);

      const inBody = await post(app, '/verifications', { ...input, requestKey: key });
      assert.equal(inBody.statusCode, 200, 'the header and the body key are the same key');

      const otherKey = await post(app, '/verifications', input, { 'idempotency-key': uniqueName('other') });
      assert.equal(otherKey.statusCode, 409, 'another key is another start, refused while the first runs');

      // The body's requestKey is the start's key, whatever the header says (the document's rule).
      const bodyKeyWins = await post(
        app,
        '/verifications',
        { ...input, requestKey: key },
        {
          'idempotency-key': uniqueName('ignored'),
        },
      );
      assert.equal(bodyKeyWins.statusCode, 200, bodyKeyWins.body);
      assert.equal(bodyKeyWins.json<{ runId: string }>().runId, first.json<{ runId: string }>().runId);
    });
  });

  it('answers a wrong code INCORRECT, the right one ACCEPTED, and a code after the end 409', async function () {
    await withRigAndApp(async (rig, app) => {
      const { customer, verificationId } = await startAwaitingInput(rig, app);
      const code = await rig.control.latestOtp(customer.customerId);
      const otpUrl = `/verifications/${verificationId}/otp`;

      const wrong = await post(app, otpUrl, { customerId: customer.customerId, code: wrongCodeFor(code) });
      assert.equal(wrong.statusCode, 200, wrong.body);
      assert.deepEqual(wrong.json(), { verdict: 'INCORRECT', attemptsLeft: 4 });

      const right = await post(app, otpUrl, { customerId: customer.customerId, code });
      assert.equal(right.statusCode, 200, right.body);
      assert.deepEqual(right.json(), { verdict: 'ACCEPTED' });

      const outcome = await app.inject({
        method: 'GET',
        url: `/verifications/${verificationId}/outcome`,
        headers: auth,
      });
      assert.equal(outcome.statusCode, 200, outcome.body);
      assert.equal(outcome.json<{ status: string }>().status, 'MODIFIED');
      assert.equal((await rig.control.customer(customer.customerId)).email, 'routes.new@example.com');

      const late = await post(app, otpUrl, { customerId: customer.customerId, code });
      assert.equal(late.statusCode, 409, late.body);
      assert.equal(late.json<{ error: string }>().error, 'VERIFICATION_FINISHED');
      const lateResend = await post(app, `/verifications/${verificationId}/resend`, {
        customerId: customer.customerId,
      });
      assert.equal(lateResend.statusCode, 409, lateResend.body);
    });
  });

  it('answers the outcome 202 with Retry-After while the verification waits for its code', async function () {
    await withRigAndApp(async (rig, app) => {
      const { verificationId } = await startAwaitingInput(rig, app);
      const pending = await app.inject({
        method: 'GET',
        url: `/verifications/${verificationId}/outcome?waitSeconds=0`,
        headers: auth,
      });
      assert.equal(pending.statusCode, 202, pending.body);
      assert.deepEqual(pending.json(), { verificationId, finished: false });
      assert.equal(pending.headers['retry-after'], '1');
    });
  });

  it('refuses a resend inside the cooldown with Retry-After, and honours one after it', async function () {
    // The cooldown is at least 30 s, whoever asks (policySchema's hard bound): this test waits it out.
    this.timeout(120_000);
    await withRigAndApp(async (rig, app) => {
      const { customer, verificationId } = await startAwaitingInput(rig, app);
      const resend = await post(app, `/verifications/${verificationId}/resend`, {
        customerId: customer.customerId,
      });
      assert.equal(resend.statusCode, 200, resend.body);
      const answer = resend.json<{ honoured: boolean; reason: string; retryAfterSeconds: number }>();
      assert.equal(answer.honoured, false);
      assert.equal(answer.reason, 'COOLDOWN');
      assert.ok(answer.retryAfterSeconds > 0 && answer.retryAfterSeconds <= 30);
      assert.equal(resend.headers['retry-after'], String(answer.retryAfterSeconds));
      assert.equal(
        (await rig.control.outbox({ customerId: customer.customerId })).length,
        1,
        'no second code was sent',
      );

      await new Promise((r) => setTimeout(r, answer.retryAfterSeconds * 1000 + 500));
      const after = await post(app, `/verifications/${verificationId}/resend`, {
        customerId: customer.customerId,
      });
      assert.equal(after.statusCode, 200, after.body);
      const honoured = after.json<{ honoured: boolean; resendsLeft: number; expiresAt: string }>();
      assert.equal(honoured.honoured, true);
      assert.equal(honoured.resendsLeft, 2);
      assert.ok(Date.parse(honoured.expiresAt) > Date.now());
      assert.equal(after.headers['retry-after'], undefined);
      assert.equal((await rig.control.outbox({ customerId: customer.customerId })).length, 2);
    });
  });

  it('accepts a cancel (202), after which the state shows DONE / CANCELLED and a second cancel is 409', async function () {
    await withRigAndApp(async (rig, app) => {
      const { customer, verificationId } = await startAwaitingInput(rig, app);
      const cancelUrl = `/verifications/${verificationId}/cancel`;
      const cancelled = await post(app, cancelUrl, {
        customerId: customer.customerId,
        reason: 'user gave up',
      });
      assert.equal(cancelled.statusCode, 202, cancelled.body);
      assert.deepEqual(cancelled.json(), { verificationId, cancelRequested: true });

      const done = await stateUntil(app, verificationId, (state) => state.step === 'DONE');
      assert.equal(done.outcome, 'CANCELLED');
      // DONE is shown while the run is still closing; a cancel that lands then is taken (202), as before.
      await stack.env.client.workflow.getHandle(verificationId).result();
      const again = await post(app, cancelUrl, { customerId: customer.customerId });
      assert.equal(again.statusCode, 409, again.body);
    });
  });

  it('answers 404 for a verification that does not exist, on every route', async function () {
    await withApp(uniqueName('unknown'), async (app) => {
      const customerId = `nobody${Date.now()}`;
      const id = verificationWorkflowId(customerId);
      const answers = [
        await app.inject({ method: 'GET', url: `/verifications/${id}`, headers: auth }),
        await app.inject({ method: 'GET', url: `/verifications/${id}/outcome`, headers: auth }),
        await post(app, `/verifications/${id}/otp`, { customerId, code: '123456' }),
        await post(app, `/verifications/${id}/resend`, { customerId }),
        await post(app, `/verifications/${id}/cancel`, { customerId }),
      ];
      for (const answer of answers) {
        assert.equal(answer.statusCode, 404, answer.body);
        assert.equal(answer.json<{ error: string }>().error, 'NOT_FOUND');
      }
    });
  });

  it('answers each malformed request 400 naming the field, and starts nothing', async function () {
    await withApp(uniqueName('bad-input'), async (app) => {
      const customerId = `badinput${Date.now()}`;
      const otpUrl = `/verifications/${verificationWorkflowId(customerId)}/otp`;
      const cases: Array<[string, LightMyRequestResponse, string]> = [
        [
          'missing customerId',
          await post(app, '/verifications', { change: { email: 'a@example.com' } }),
          'customerId',
        ],
        [
          'bad email',
          await post(app, '/verifications', { customerId, change: { email: 'not-an-email' } }),
          'change.email',
        ],
        [
          'phone with letters',
          await post(app, '/verifications', {
            customerId,
            change: { mobileNoInfo: { countryCode: '65', phoneNo: '8123abcd' } },
          }),
          'change.mobileNoInfo.phoneNo',
        ],
        [
          'unknown property',
          await post(app, '/verifications', {
            customerId,
            change: { email: 'a@example.com' },
            colour: 'red',
          }),
          'colour',
        ],
        ['empty change', await post(app, '/verifications', { customerId, change: {} }), 'change'],
        [
          'bad ifRunning',
          await post(app, '/verifications', {
            customerId,
            change: { email: 'a@example.com' },
            ifRunning: 'maybe',
          }),
          'ifRunning',
        ],
        // Letters may be an encrypted PIN; punctuation is neither that nor an SMS code.
        ['code with punctuation', await post(app, otpUrl, { customerId, code: '12.456' }), 'code'],
        ['code too long', await post(app, otpUrl, { customerId, code: '1'.repeat(2049) }), 'code'],
        ['code too short', await post(app, otpUrl, { customerId, code: '123' }), 'code'],
        ['code as a number', await post(app, otpUrl, { customerId, code: 123456 }), 'code'],
        ['missing code', await post(app, otpUrl, { customerId }), 'code'],
        [
          'malformed JSON',
          await post(app, '/verifications', `{"customerId": "${customerId}", "change": {`, {
            'content-type': 'application/json',
          }),
          '(body)',
        ],
        [
          'a JSON array',
          await post(app, '/verifications', '[]', { 'content-type': 'application/json' }),
          '(body)',
        ],
        [
          'malformed id',
          await app.inject({ method: 'GET', url: '/verifications/not-a-verification', headers: auth }),
          'id',
        ],
      ];
      for (const [name, response, field] of cases) {
        assert.equal(response.statusCode, 400, `${name}: ${response.body}`);
        assertBadRequest(response, field);
      }

      const wrongType = await post(app, '/verifications', 'customerId=x', { 'content-type': 'text/plain' });
      assert.equal(wrongType.statusCode, 415, wrongType.body);
      assert.deepEqual(
        { ...wrongType.json<object>(), message: undefined },
        { error: 'UNSUPPORTED_MEDIA_TYPE', field: 'content-type', message: undefined },
      );
      const form = await post(app, '/verifications', 'customerId=x', {
        'content-type': 'application/x-www-form-urlencoded',
      });
      assert.equal(form.statusCode, 415, form.body);

      const lookup = await app.inject({
        method: 'GET',
        url: `/verifications/${verificationWorkflowId(customerId)}`,
        headers: auth,
      });
      assert.equal(lookup.statusCode, 404, 'no bad request started a verification');
    });
  });

  it('answers 413 to a body over the limit', async function () {
    await withApp(uniqueName('big'), async (app) => {
      const response = await post(app, '/verifications', {
        customerId: 'big',
        change: { email: 'a@example.com' },
        language: 'x'.repeat(20_000),
      });
      assert.equal(response.statusCode, 413, response.body);
      assert.equal(response.json<{ error: string }>().error, 'PAYLOAD_TOO_LARGE');
    });
  });

  it('refuses a code, a resend or a cancel naming another customer (403), and the flow is untouched', async function () {
    await withRigAndApp(async (rig, app) => {
      const { customer, verificationId } = await startAwaitingInput(rig, app);
      const other = await rig.control.addCustomer();
      const code = await rig.control.latestOtp(customer.customerId);
      const refused = [
        await post(app, `/verifications/${verificationId}/otp`, { customerId: other.customerId, code }),
        await post(app, `/verifications/${verificationId}/resend`, { customerId: other.customerId }),
        await post(app, `/verifications/${verificationId}/cancel`, { customerId: other.customerId }),
      ];
      for (const response of refused) {
        assert.equal(response.statusCode, 403, response.body);
        assert.equal(response.json<{ error: string; field: string }>().error, 'CUSTOMER_MISMATCH');
      }
      const state = await stateUntil(app, verificationId, awaitingInput);
      assert.equal(state.attemptsLeft, 5);
      assert.equal(state.resendsLeft, 3);
      assert.equal(state.outcome, undefined);
    });
  });

  it('requires the bearer token on /verifications but not on the probes, and publishes the OpenAPI document', async function () {
    await withApp(uniqueName('auth'), async (app) => {
      const url = `/verifications/${verificationWorkflowId('someone')}`;
      for (const authorization of [undefined, `Bearer ${token}x`, `Basic ${token}`, 'Bearer', token]) {
        const response = await app.inject({
          method: 'GET',
          url,
          headers: authorization === undefined ? {} : { authorization },
        });
        assert.equal(response.statusCode, 401, `${authorization}: ${response.body}`);
        assert.match(String(response.headers['www-authenticate']), /^Bearer\b/);
        assert.equal(response.json<{ error: string }>().error, 'UNAUTHORIZED');
      }
      const unauthenticatedPost = await app.inject({
        method: 'POST',
        url: '/verifications',
        payload: { customerId: 'x', change: { email: 'a@example.com' } },
      });
      assert.equal(unauthenticatedPost.statusCode, 401);

      const health = await app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(health.statusCode, 200);
      assert.deepEqual(health.json(), { ok: true });
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200, ready.body);
      assert.deepEqual(ready.json(), { ok: true, temporal: 'up' });

      const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
        openapi: string;
        paths: Record<
          string,
          Record<
            string,
            {
              security?: unknown;
              requestBody?: { content: Record<string, { schema: { required?: string[] } }> };
            }
          >
        >;
        components: { securitySchemes: Record<string, { type: string; scheme: string }> };
      }>();
      assert.match(doc.openapi, /^3\./);
      assert.deepEqual(
        Object.fromEntries(Object.entries(doc.paths).map(([path, item]) => [path, Object.keys(item).sort()])),
        {
          '/verifications': ['post'],
          '/verifications/{id}': ['get'],
          '/verifications/{id}/outcome': ['get'],
          '/verifications/{id}/otp': ['post'],
          '/verifications/{id}/resend': ['post'],
          '/verifications/{id}/cancel': ['post'],
          '/healthz': ['get'],
          '/readyz': ['get'],
        },
      );
      assert.deepEqual(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer' });
      assert.deepEqual(doc.paths['/verifications/{id}/otp']?.post?.security, [{ bearerAuth: [] }]);
      const otpBody =
        doc.paths['/verifications/{id}/otp']?.post?.requestBody?.content['application/json']?.schema;
      assert.deepEqual(otpBody?.required, ['customerId', 'code']);
    });
  });

  it('answers the (N+1)th code for one verification within the window 429 with Retry-After, before it reaches the flow', async function () {
    await withRigAndApp(
      async (rig, app) => {
        const { customer, verificationId } = await startAwaitingInput(rig, app);
        const code = await rig.control.latestOtp(customer.customerId);
        const otpUrl = `/verifications/${verificationId}/otp`;
        for (let i = 0; i < 2; i++) {
          const wrong = await post(app, otpUrl, {
            customerId: customer.customerId,
            code: wrongCodeFor(code),
          });
          assert.equal(wrong.json<{ verdict: string }>().verdict, 'INCORRECT');
        }
        const limited = await post(app, otpUrl, { customerId: customer.customerId, code });
        assert.equal(limited.statusCode, 429, limited.body);
        const retryAfter = Number(limited.headers['retry-after']);
        assert.ok(retryAfter >= 1 && retryAfter <= 600, `Retry-After ${limited.headers['retry-after']}`);
        assert.equal(limited.json<{ error: string }>().error, 'TOO_MANY_REQUESTS');
        assert.equal(limited.json<{ retryAfterSeconds: number }>().retryAfterSeconds, retryAfter);

        const state = await stateUntil(app, verificationId, awaitingInput);
        assert.equal(state.attemptsLeft, 3, 'the refused submission cost no attempt');
        const other = await startAwaitingInput(rig, app);
        const elsewhere = await post(app, `/verifications/${other.verificationId}/otp`, {
          customerId: other.customer.customerId,
          code: await rig.control.latestOtp(other.customer.customerId),
        });
        assert.equal(elsewhere.statusCode, 200, 'another verification has its own counter');
        // Let the accepted change finish before the worker stops.
        await stateUntil(app, other.verificationId, (state) => state.step === 'DONE');
      },
      { rateLimits: { otpPerVerification: { max: 2, windowSeconds: 600 } } },
    );
  });

  it('limits one caller across verifications, and counts resends apart from codes', async function () {
    await withApp(
      uniqueName('caller-limit'),
      async (app) => {
        const submit = (n: number) =>
          post(app, `/verifications/${verificationWorkflowId(`caller${n}`)}/otp`, {
            customerId: `caller${n}`,
            code: '123456',
          });
        for (let n = 0; n < 3; n++) assert.equal((await submit(n)).statusCode, 404);
        const limited = await submit(3);
        assert.equal(limited.statusCode, 429, limited.body);
        assert.match(limited.json<{ message: string }>().message, /for this caller/);
        assert.ok(Number(limited.headers['retry-after']) >= 1);

        const resend = await post(app, `/verifications/${verificationWorkflowId('caller9')}/resend`, {
          customerId: 'caller9',
        });
        assert.equal(resend.statusCode, 404, 'resends have their own counters');
      },
      { rateLimits: { otpPerCaller: { max: 3, windowSeconds: 60 } } },
    );
  });

  it('limits one end user the backend names across verifications, and not the other users of that backend', async function () {
    await withApp(
      uniqueName('user-limit'),
      async (app) => {
        const submit = (n: number, user?: string) =>
          app.inject({
            method: 'POST',
            url: `/verifications/${verificationWorkflowId(`user${n}`)}/otp`,
            headers: { ...auth, ...(user ? { 'x-end-user-id': user } : {}) },
            payload: { customerId: `user${n}`, code: '123456' },
          });
        for (let n = 0; n < 2; n++) assert.equal((await submit(n, 'end-user-1')).statusCode, 404);
        const limited = await submit(2, 'end-user-1');
        assert.equal(limited.statusCode, 429, limited.body);
        assert.match(limited.json<{ message: string }>().message, /for this user/);
        assert.equal((await submit(3, 'end-user-2')).statusCode, 404, 'another user has their own count');
        for (let n = 4; n < 8; n++) {
          assert.equal((await submit(n)).statusCode, 404, 'an unnamed user is not counted as one user');
        }
      },
      { rateLimits: { otpPerUser: { max: 2, windowSeconds: 60 } } },
    );
  });

  it('logs method, route, status and verification id, never the code, the contact data or the token', async function () {
    const lines: string[] = [];
    await withRigAndApp(
      async (rig, app) => {
        const { customer, verificationId } = await startAwaitingInput(rig, app);
        const code = await rig.control.latestOtp(customer.customerId);
        await post(app, `/verifications/${verificationId}/otp`, {
          customerId: customer.customerId,
          code: wrongCodeFor(code),
        });
        await post(app, `/verifications/${verificationId}/otp`, { customerId: customer.customerId, code });
        await stateUntil(app, verificationId, (state) => state.step === 'DONE');
        await post(app, '/verifications', 'not json with 81234567 in it', {
          'content-type': 'application/json',
        });
        const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
        const otpLines = entries.filter((entry) => entry.route === '/verifications/:id/otp');
        assert.equal(otpLines.length, 2);
        assert.deepEqual(
          {
            method: otpLines[0]?.method,
            status: otpLines[0]?.status,
            verificationId: otpLines[0]?.verificationId,
          },
          { method: 'POST', status: 200, verificationId },
        );
        const all = lines.join('\n');
        for (const secret of [code, wrongCodeFor(code), 'routes.new@example.com', '81234567', token]) {
          assert.ok(!all.includes(secret), 'a secret reached the log');
        }
      },
      { logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } } },
    );
  });

  it('mounts the codec endpoint under /codec with its own tokens', async function () {
    const codecToken = `codec-${randomBytes(12).toString('hex')}`;
    const keyRing = new KeyRing([{ id: 'http-test', key: randomBytes(32) }]);
    await withApp(
      uniqueName('codec'),
      async (app) => {
        const payload = {
          payloads: [
            {
              metadata: { encoding: Buffer.from('json/plain').toString('base64') },
              data: Buffer.from('"hi"').toString('base64'),
            },
          ],
        };
        const encoded = await app.inject({
          method: 'POST',
          url: '/codec/encode',
          headers: { authorization: `Bearer ${codecToken}` },
          payload,
        });
        assert.equal(encoded.statusCode, 200, encoded.body);
        const decoded = await app.inject({
          method: 'POST',
          url: '/codec/decode',
          headers: { authorization: `Bearer ${codecToken}` },
          payload: encoded.json(),
        });
        assert.deepEqual(decoded.json(), payload);
        const withApiToken = await app.inject({
          method: 'POST',
          url: '/codec/decode',
          headers: auth,
          payload,
        });
        assert.equal(withApiToken.statusCode, 401, 'the API token does not open the codec');
      },
      { codec: { codec: new AesGcmPayloadCodec(keyRing), authTokens: [codecToken] } },
    );
  });
});
