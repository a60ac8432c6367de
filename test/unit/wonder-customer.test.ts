import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { ApplicationFailure } from '@temporalio/common';
import { createWonderActivities } from '../../activities/wonder/activities.js';
import { createWonderClient, type WonderClient } from '../../activities/wonder/client.js';
import { sandboxWonderConfig, type WonderConfig } from '../../activities/wonder/config.js';
import {
  interpretWonderAnswer,
  isNoSuchCustomer,
  nonRetryableWonderFailureTypes,
  wonderFailureTypes,
} from '../../activities/wonder/outcomes.js';
import { signRequest } from '../../activities/wonder/signing.js';
import { wonderPaths, type WonderCustomerUpdate } from '../../activities/wonder/types.js';
import {
  toPutCustomerBody,
  validateWonderCustomerUpdate,
  WonderInputError,
} from '../../activities/wonder/update.js';
import type { CallLogger } from '../../activities/shared/provider-call.js';
import { FaultController } from '../../sandbox/faults.js';
import { wonderSimulator } from '../../sandbox/wonder/plugin.js';
import { WonderSimulator, type WonderApi } from '../../sandbox/wonder/simulator.js';

const CHAN = 'c2a4e0f1-7b3d-4c8e-9f10-2a3b4c5d6e01';
const WONG = 'e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a02';
const CHAN_REF = 'MERCHANT-CUST-0001';
const WONG_REF = 'MERCHANT-CUST-0002';
const CHAN_ALIPAY_TOKEN = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c22';

const merchantKey = createPrivateKey(
  readFileSync(new URL('../../sandbox/keys/wonder-merchant.private.pem', import.meta.url), 'utf8'),
);
const otherKey = createPrivateKey(
  readFileSync(new URL('../../sandbox/keys/dws-merchant.private.pem', import.meta.url), 'utf8'),
);

/** Awaits a rejection and hands back the ApplicationFailure it must be. */
async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

describe('Wonder Put Customer', function () {
  let app: FastifyInstance;
  let baseUrl: string;
  let simulator: WonderSimulator;
  let faults: FaultController<WonderApi>;
  let client: WonderClient;
  let logLines: { level: string; message: string; meta?: Record<string, unknown> }[];
  let activities: ReturnType<typeof createWonderActivities>;

  const logger: CallLogger = {
    info: (message, meta) => logLines.push({ level: 'info', message, ...(meta ? { meta } : {}) }),
    warn: (message, meta) => logLines.push({ level: 'warn', message, ...(meta ? { meta } : {}) }),
  };

  before(async function () {
    simulator = new WonderSimulator();
    faults = new FaultController<WonderApi>();
    app = Fastify();
    await app.register(wonderSimulator, { simulator, faults });
    baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  });

  beforeEach(function () {
    simulator.reset();
    faults.reset();
    logLines = [];
    client = createWonderClient(sandboxWonderConfig(baseUrl));
    activities = createWonderActivities(client, logger);
  });

  afterEach(function () {
    client.close();
  });

  after(async function () {
    await app.close();
  });

  const customer = (uuid: string) => simulator.customer(uuid);

  async function putRaw(uuid: string, body: string, requestId = randomUUID()) {
    const uri = wonderPaths.customer(uuid);
    const auth = signRequest({ method: 'PUT', uri, body, appId: 'sandbox-app-id', privateKey: merchantKey });
    return app.inject({
      method: 'PUT',
      url: uri,
      headers: { ...auth, 'content-type': 'application/json', 'x-request-id': requestId },
      payload: body,
    });
  }

  describe('partial-update rules', function () {
    it('an empty name on the wire leaves the name as it was (seed: 为空,则不修改)', async function () {
      const res = await putRaw(CHAN, '{"name":"","email":"","phone":"","default_payment_method":"Alipay"}');
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().data.customer.name, 'Chan Tai Man');
      assert.equal(customer(CHAN)?.name, 'Chan Tai Man');
      assert.equal(customer(CHAN)?.email, 'taiman.chan@example.com');
      assert.equal(customer(CHAN)?.default_payment_method, 'Alipay');
      assert.deepEqual(
        simulator.ledger(CHAN).map((e) => [e.changed, e.cleared]),
        [[['default_payment_method'], []]],
      );
    });

    it('the client never sends "" for name: it refuses it, naming the field, before any request', async function () {
      const failure = await failureOf(
        activities.putWonderCustomer({
          requestId: randomUUID(),
          customerUuid: CHAN,
          referenceNumber: CHAN_REF,
          update: { name: '' },
        }),
      );
      assert.equal(failure.type, wonderFailureTypes.invalidInput);
      assert.equal(failure.nonRetryable, true);
      assert.match(failure.message, /update\.name must not be empty/);
      assert.equal(simulator.requests().length, 0);
    });

    it('changes only the fields given', async function () {
      const result = await activities.putWonderCustomer({
        requestId: randomUUID(),
        customerUuid: CHAN,
        referenceNumber: CHAN_REF,
        update: { email: 'tm.chan@example.org' },
      });
      assert.deepEqual(result, {
        customer: {
          uuid: CHAN,
          reference_number: 'MERCHANT-CUST-0001',
          changed: ['email'],
          cleared: [],
        },
      });
      const after = customer(CHAN);
      assert.equal(after?.email, 'tm.chan@example.org');
      assert.equal(after?.name, 'Chan Tai Man');
      assert.equal(after?.phone, '91234567');
      assert.equal(after?.default_payment_method, 'Credit Card');
    });

    it('null clears default_payment_method: sent as "" (seed: 允许修改为空) and cleared at the gateway', async function () {
      assert.deepEqual(toPutCustomerBody({ default_payment_method: null }), { default_payment_method: '' });
      const result = await activities.putWonderCustomer({
        requestId: randomUUID(),
        customerUuid: CHAN,
        referenceNumber: CHAN_REF,
        update: { default_payment_method: null },
      });
      assert.deepEqual(result.customer.cleared, ['default_payment_method']);
      assert.equal(customer(CHAN)?.default_payment_method, undefined);
      assert.equal(customer(CHAN)?.name, 'Chan Tai Man');
      assert.deepEqual(simulator.ledger(CHAN)[0]?.cleared, ['default_payment_method']);
    });

    it('null clears the default payment token; a token value switches it', async function () {
      const switched = await client.putCustomer(
        CHAN,
        { default_payment_token: CHAN_ALIPAY_TOKEN },
        { requestId: randomUUID() },
      );
      assert.equal(switched.default_payment_token?.token, CHAN_ALIPAY_TOKEN);
      assert.equal(switched.default_payment_token?.token_type, 'AlipayAutoDebit');
      assert.equal(switched.default_payment_token?.default, true);

      const cleared = await client.putCustomer(
        CHAN,
        { default_payment_token: null },
        { requestId: randomUUID() },
      );
      assert.equal(cleared.default_payment_token, undefined);
      assert.equal(customer(CHAN)?.default_token, undefined);
    });

    it('an absent field is never sent; an update with nothing in it is refused', function () {
      assert.deepEqual(toPutCustomerBody({ phone: '+85291234567' }), { phone: '+85291234567' });
      assert.throws(
        () => validateWonderCustomerUpdate({}),
        (err: unknown) => err instanceof WonderInputError && err.field === 'update',
      );
    });
  });

  describe('refused before any call', function () {
    const bad: [string, unknown, RegExp][] = [
      [
        'unknown payment method',
        { default_payment_method: 'Bitcoin' },
        /update\.default_payment_method must be one of/,
      ],
      ['malformed email', { email: 'not-an-email' }, /update\.email is not a valid email address/],
      ['malformed phone', { phone: '9123-abc' }, /update\.phone must be 6 to 20 digits/],
      ['over-long name', { name: 'x'.repeat(256) }, /update\.name must be at most 255 characters/],
      ['unknown field', { nickname: 'TM' }, /update\.nickname is not a Wonder customer field/],
      [
        '"" default_payment_token',
        { default_payment_token: '' },
        /update\.default_payment_token must be a token value/,
      ],
    ];
    for (const [label, update, message] of bad) {
      it(`${label}: non-retryable WONDER_INVALID_INPUT naming the field, and the sandbox saw nothing`, async function () {
        const failure = await failureOf(
          activities.putWonderCustomer({
            requestId: randomUUID(),
            customerUuid: CHAN,
            referenceNumber: CHAN_REF,
            update: update as WonderCustomerUpdate,
          }),
        );
        assert.equal(failure.type, wonderFailureTypes.invalidInput);
        assert.equal(failure.nonRetryable, true);
        assert.match(failure.message, message);
        assert.equal(simulator.requests().length, 0);
      });
    }

    it('a missing request id or customer uuid is refused too, naming it', async function () {
      const noId = await failureOf(
        activities.putWonderCustomer({
          customerUuid: CHAN,
          referenceNumber: CHAN_REF,
          update: { name: 'X' },
        } as unknown as Parameters<typeof activities.putWonderCustomer>[0]),
      );
      assert.equal(noId.type, wonderFailureTypes.invalidInput);
      assert.match(noId.message, /requestId must be given/);
      const noUuid = await failureOf(
        activities.putWonderCustomer({
          requestId: randomUUID(),
          customerUuid: ' ',
          referenceNumber: CHAN_REF,
          update: { name: 'X' },
        }),
      );
      assert.match(noUuid.message, /customerUuid must be a non-empty string/);
      assert.deepEqual(noUuid.details, [{ field: 'customerUuid' }]);
      assert.equal(simulator.requests().length, 0);
    });

    it('never puts the refused value into the error', async function () {
      const failure = await failureOf(
        activities.putWonderCustomer({
          requestId: randomUUID(),
          customerUuid: CHAN,
          referenceNumber: CHAN_REF,
          update: { email: 'secret.person@@example.com' },
        }),
      );
      assert.doesNotMatch(failure.message, /secret\.person/);
    });
  });

  describe('X-Request-ID idempotency', function () {
    it('a retry with the same X-Request-ID gets the same answer and the update is applied once', async function () {
      const input = {
        requestId: randomUUID(),
        customerUuid: WONG,
        referenceNumber: WONG_REF,
        update: { name: 'Wong Siu-ming' },
      };
      const first = await activities.putWonderCustomer(input);
      const retry = await activities.putWonderCustomer(input);
      assert.deepEqual(retry, first);
      assert.equal(simulator.ledger(WONG).length, 1);
      const puts = simulator.requests().filter((r) => r.api === 'putCustomer');
      assert.deepEqual(
        puts.map((r) => [r.requestId, r.statusCode, r.replayed ?? false]),
        [
          [input.requestId, 200, false],
          [input.requestId, 200, true],
        ],
      );
    });

    it('an answer lost after the gateway applied the update: the retry succeeds and nothing is applied twice', async function () {
      faults.update({
        failNext: [{ api: 'putCustomer', kind: 'serverError', count: 1, phase: 'after', status: 503 }],
      });
      const input = {
        requestId: randomUUID(),
        customerUuid: WONG,
        referenceNumber: WONG_REF,
        update: { default_payment_method: 'FPS' as const },
      };
      const lost = await failureOf(activities.putWonderCustomer(input));
      assert.equal(lost.type, wonderFailureTypes.serverError);
      assert.equal(lost.nonRetryable, false);
      assert.equal(customer(WONG)?.default_payment_method, 'FPS', 'applied before the answer was lost');

      const retried = await activities.putWonderCustomer(input);
      assert.deepEqual(retried.customer.changed, ['default_payment_method']);
      assert.equal(simulator.ledger(WONG).length, 1);
    });

    it('the same X-Request-ID with a different body: 409, non-retryable WONDER_REQUEST_ID_CONFLICT, nothing applied', async function () {
      const requestId = randomUUID();
      await activities.putWonderCustomer({
        requestId,
        customerUuid: WONG,
        referenceNumber: WONG_REF,
        update: { name: 'First' },
      });
      const failure = await failureOf(
        activities.putWonderCustomer({
          requestId,
          customerUuid: WONG,
          referenceNumber: WONG_REF,
          update: { name: 'Second' },
        }),
      );
      assert.equal(failure.type, wonderFailureTypes.requestIdConflict);
      assert.equal(failure.nonRetryable, true);
      assert.equal(customer(WONG)?.name, 'First');
      assert.equal(simulator.ledger(WONG).length, 1);
    });
  });

  describe('error mapping', function () {
    it('400: non-retryable WONDER_INVALID_PARAMETERS with the provider message', async function () {
      const failure = await failureOf(
        activities.putWonderCustomer({
          requestId: randomUUID(),
          customerUuid: WONG,
          referenceNumber: WONG_REF,
          update: { default_payment_token: 'not-one-of-theirs' },
        }),
      );
      assert.equal(failure.type, wonderFailureTypes.invalidParameters);
      assert.equal(failure.nonRetryable, true);
      assert.match(failure.message, /default_payment_token is not a payment token of this customer/);
      assert.deepEqual(failure.details, [
        { operation: 'putCustomer', httpStatus: 400, providerCode: 'E000001' },
      ]);
      assert.equal(simulator.ledger(WONG).length, 0);
    });

    it('401: a request signed with the wrong key is non-retryable WONDER_UNAUTHORIZED', async function () {
      const wrong: WonderConfig = { ...sandboxWonderConfig(baseUrl), privateKey: otherKey };
      const wrongClient = createWonderClient(wrong);
      try {
        const failure = await failureOf(
          createWonderActivities(wrongClient, logger).putWonderCustomer({
            requestId: randomUUID(),
            customerUuid: WONG,
            referenceNumber: WONG_REF,
            update: { name: 'Nobody' },
          }),
        );
        assert.equal(failure.type, wonderFailureTypes.unauthorized);
        assert.equal(failure.nonRetryable, true);
        assert.equal(customer(WONG)?.name, 'Wong Siu Ming');
        assert.equal(simulator.requests()[0]?.statusCode, 401);
      } finally {
        wrongClient.close();
      }
    });

    it('500: retryable WONDER_SERVER_ERROR, nothing applied', async function () {
      faults.update({ failNext: [{ api: 'putCustomer', kind: 'serverError', count: 1, status: 500 }] });
      const failure = await failureOf(
        activities.putWonderCustomer({
          requestId: randomUUID(),
          customerUuid: WONG,
          referenceNumber: WONG_REF,
          update: { name: 'Later' },
        }),
      );
      assert.equal(failure.type, wonderFailureTypes.serverError);
      assert.equal(failure.nonRetryable, false);
      assert.equal(customer(WONG)?.name, 'Wong Siu Ming');
    });

    it('429: retryable WONDER_RATE_LIMITED, with Retry-After as the next retry delay', async function () {
      faults.update({ failNext: [{ api: 'putCustomer', kind: 'trafficLimit', count: 1 }] });
      const failure = await failureOf(
        client.putCustomer(WONG, { name: 'Later' }, { requestId: randomUUID() }),
      );
      assert.equal(failure.type, wonderFailureTypes.rateLimited);
      assert.equal(failure.nonRetryable, false);
      assert.equal(failure.nextRetryDelay, 1000);
    });

    it('404: an unknown customer uuid is non-retryable WONDER_NOT_FOUND', async function () {
      const failure = await failureOf(
        client.putCustomer(randomUUID(), { name: 'X' }, { requestId: randomUUID() }),
      );
      assert.equal(failure.type, wonderFailureTypes.notFound);
      assert.equal(failure.nonRetryable, true);
    });

    it('a dropped connection and a timeout are retryable', async function () {
      faults.update({ failNext: [{ api: 'putCustomer', kind: 'drop', count: 1 }] });
      const dropped = await failureOf(client.putCustomer(WONG, { name: 'X' }, { requestId: randomUUID() }));
      assert.equal(dropped.type, 'NETWORK_ERROR');
      assert.equal(dropped.nonRetryable, false);

      faults.update({ slowMs: 1500, failNext: [{ api: 'putCustomer', kind: 'slow', count: 1 }] });
      const impatient = createWonderClient({
        ...sandboxWonderConfig(baseUrl),
        timeouts: {
          lookup: 1000,
          connect: 1000,
          secureConnect: 1000,
          send: 1000,
          response: 100,
          request: 5000,
        },
      });
      try {
        const timedOut = await failureOf(
          impatient.putCustomer(WONG, { name: 'X' }, { requestId: randomUUID() }),
        );
        assert.equal(timedOut.type, 'TIMEOUT');
        assert.equal(timedOut.nonRetryable, false);
      } finally {
        impatient.close();
      }
    });

    it('nothing listening: a retryable network failure', async function () {
      const probe = Fastify();
      const closedUrl = await probe.listen({ port: 0, host: '127.0.0.1' });
      await probe.close();
      const orphan = createWonderClient(sandboxWonderConfig(closedUrl));
      try {
        const failure = await failureOf(orphan.putCustomer(WONG, { name: 'X' }, { requestId: randomUUID() }));
        assert.equal(failure.type, 'NETWORK_ERROR');
        assert.equal(failure.nonRetryable, false);
      } finally {
        orphan.close();
      }
    });

    it('a 200 whose code is not success is non-retryable WONDER_<code>; 0, 200 and the old envelope succeed', function () {
      const answer = (body: unknown, statusCode = 200) => ({
        statusCode,
        headers: {},
        body: JSON.stringify(body),
      });
      assert.throws(
        () =>
          interpretWonderAnswer(
            answer({ code: 'E100023', message: 'Customer disabled', data: null }),
            'putCustomer',
          ),
        (err: unknown) =>
          err instanceof ApplicationFailure &&
          err.type === 'WONDER_E100023' &&
          err.nonRetryable &&
          /Customer disabled/.test(err.message),
      );
      assert.throws(
        () =>
          interpretWonderAnswer(answer({ error_code: 'E1', error_message: 'no', data: null }), 'putCustomer'),
        (err: unknown) => err instanceof ApplicationFailure && err.type === 'WONDER_E1' && err.nonRetryable,
      );
      for (const body of [
        { code: 0, message: 'success', data: { ok: 1 } },
        { code: 200, message: 'OK', data: { ok: 1 } },
        { error_code: '', error_message: '', data: { ok: 1 } },
      ]) {
        assert.deepEqual(interpretWonderAnswer(answer(body), 'putCustomer'), { ok: 1 });
      }
      assert.throws(
        () => interpretWonderAnswer({ statusCode: 200, headers: {}, body: '<html>' }, 'putCustomer'),
        (err: unknown) =>
          err instanceof ApplicationFailure &&
          err.type === wonderFailureTypes.malformedAnswer &&
          !err.nonRetryable,
      );
      assert.ok(nonRetryableWonderFailureTypes.includes(wonderFailureTypes.unauthorized));
    });

    it('masks contact data the provider echoes in its message', function () {
      assert.throws(
        () =>
          interpretWonderAnswer(
            {
              statusCode: 400,
              headers: {},
              body: JSON.stringify({
                code: 'E1',
                message: 'email tai.man@example.com or phone 85291234567 taken',
              }),
            },
            'putCustomer',
          ),
        (err: unknown) =>
          err instanceof ApplicationFailure &&
          !/tai\.man@example\.com/.test(err.message) &&
          !/85291234567/.test(err.message) &&
          /taken/.test(err.message),
      );
    });
  });

  describe('the record must belong to the customer (reference_number)', function () {
    async function getByRef(reference: string, sign = true) {
      const uri = wonderPaths.customerByRef(reference);
      const auth = sign
        ? signRequest({ method: 'GET', uri, appId: 'sandbox-app-id', privateKey: merchantKey })
        : {};
      return app.inject({ method: 'GET', url: uri, headers: { ...auth, 'x-request-id': randomUUID() } });
    }

    it('the sandbox read: GET /customers/ref/:id answers the record under that reference, signed only', async function () {
      const found = await getByRef(WONG_REF);
      assert.equal(found.statusCode, 200);
      assert.equal(found.json().code, 0);
      assert.equal(found.json().data.customer.uuid, WONG);
      assert.equal(found.json().data.customer.reference_number, WONG_REF);

      const unknown = await getByRef('MERCHANT-CUST-9999');
      assert.equal(unknown.statusCode, 404);
      assert.deepEqual(unknown.json(), { code: 'E000404', message: 'Customer not found.', data: null });

      const unsigned = await getByRef(WONG_REF, false);
      assert.equal(unsigned.statusCode, 401);

      assert.deepEqual(simulator.ledgers(), {}, 'a read changes nothing');
      assert.deepEqual(
        simulator.requests().map((r) => [r.api, r.method, r.statusCode]),
        [
          ['getCustomerByRef', 'GET', 200],
          ['getCustomerByRef', 'GET', 404],
          ['getCustomerByRef', 'GET', 401],
        ],
      );
    });

    it('the sandbox read finds a reference that needs escaping in the path', async function () {
      const reference = 'shop/42 #7';
      const body = JSON.stringify({
        customer: { name: 'Lee', phone: '51234567', reference_number: reference },
      });
      const uri = wonderPaths.customers;
      const auth = signRequest({
        method: 'POST',
        uri,
        body,
        appId: 'sandbox-app-id',
        privateKey: merchantKey,
      });
      const created = await app.inject({
        method: 'POST',
        url: uri,
        headers: { ...auth, 'content-type': 'application/json', 'x-request-id': randomUUID() },
        payload: body,
      });
      const uuid = created.json().data.customer.uuid;
      assert.equal((await client.getCustomerByReference(reference)).uuid, uuid);
      const result = await activities.putWonderCustomer({
        requestId: randomUUID(),
        customerUuid: uuid,
        referenceNumber: reference,
        update: { name: 'Lee Ka Yan' },
      });
      assert.equal(result.customer.reference_number, reference);
    });

    it('a match: reads, then writes (signed, each with its own X-Request-ID)', async function () {
      const requestId = randomUUID();
      const result = await activities.putWonderCustomer({
        requestId,
        customerUuid: WONG,
        referenceNumber: WONG_REF,
        update: { email: 'siuming@example.org' },
        lang: 'en',
      });
      assert.deepEqual(result.customer.changed, ['email']);
      assert.equal(customer(WONG)?.email, 'siuming@example.org');
      const calls = simulator.requests();
      assert.deepEqual(
        calls.map((r) => [r.api, r.statusCode, r.lang]),
        [
          ['getCustomerByRef', 200, 'en'],
          ['putCustomer', 200, 'en'],
        ],
      );
      assert.equal(calls[1]?.requestId, requestId);
      assert.notEqual(calls[0]?.requestId, requestId, "the read never spends the PUT's X-Request-ID");
    });

    it("a mismatch: non-retryable WONDER_CUSTOMER_MISMATCH, no PUT, and the other record's uuid is not named", async function () {
      const failure = await failureOf(
        activities.putWonderCustomer({
          requestId: randomUUID(),
          customerUuid: WONG,
          referenceNumber: CHAN_REF,
          update: { email: 'intruder@example.org' },
        }),
      );
      assert.equal(failure.type, wonderFailureTypes.customerMismatch);
      assert.equal(failure.nonRetryable, true);
      assert.ok(nonRetryableWonderFailureTypes.includes(wonderFailureTypes.customerMismatch));
      assert.match(failure.message, /does not carry the reference_number/);
      assert.doesNotMatch(failure.message, new RegExp(CHAN));
      assert.equal(customer(WONG)?.email, 'siuming.wong@example.com');
      assert.equal(customer(CHAN)?.email, 'taiman.chan@example.com');
      assert.deepEqual(simulator.ledgers(), {});
      assert.deepEqual(
        simulator.requests().map((r) => r.api),
        ['getCustomerByRef'],
      );
      assert.deepEqual(
        logLines.map((l) => [l.level, l.meta?.api, l.meta?.ownerMatches, l.meta?.failureType]),
        [['warn', 'getCustomerByRef', false, wonderFailureTypes.customerMismatch]],
      );
    });

    it('a reference no Wonder customer carries is a mismatch too; a bare 404 (no envelope) is not', async function () {
      const failure = await failureOf(
        activities.putWonderCustomer({
          requestId: randomUUID(),
          customerUuid: WONG,
          referenceNumber: 'MERCHANT-CUST-9999',
          update: { name: 'Nobody' },
        }),
      );
      assert.equal(failure.type, wonderFailureTypes.customerMismatch);
      assert.equal(failure.nonRetryable, true);
      assert.match(failure.message, /no Wonder customer carries/);
      assert.deepEqual(
        simulator.requests().map((r) => r.api),
        ['getCustomerByRef'],
      );
      assert.equal(isNoSuchCustomer({ statusCode: 404, headers: {}, body: '<html>Not Found</html>' }), false);
      assert.equal(
        isNoSuchCustomer({
          statusCode: 404,
          headers: {},
          body: JSON.stringify({ code: 'E000404', message: 'Customer not found.', data: null }),
        }),
        true,
      );
    });

    it('a flow started before the reference was required is refused unchecked: nothing is sent', async function () {
      const failure = await failureOf(
        activities.putWonderCustomer({
          requestId: randomUUID(),
          customerUuid: WONG,
          update: { name: 'Unchecked' },
        } as unknown as Parameters<typeof activities.putWonderCustomer>[0]),
      );
      assert.equal(failure.type, wonderFailureTypes.invalidInput);
      assert.equal(failure.nonRetryable, true);
      assert.match(failure.message, /referenceNumber must be given/);
      assert.deepEqual(failure.details, [{ field: 'referenceNumber' }]);
      const blank = await failureOf(
        activities.putWonderCustomer({
          requestId: randomUUID(),
          customerUuid: WONG,
          referenceNumber: ' ',
          update: { name: 'Unchecked' },
        }),
      );
      assert.match(blank.message, /referenceNumber must be a non-empty string/);
      assert.equal(simulator.requests().length, 0);
    });

    it('a read that fails is retryable and sends no PUT; the retry reads again and writes once', async function () {
      faults.update({ failNext: [{ api: 'getCustomerByRef', kind: 'serverError', count: 1, status: 503 }] });
      const input = {
        requestId: randomUUID(),
        customerUuid: WONG,
        referenceNumber: WONG_REF,
        update: { name: 'Wong Siu-ming' },
      };
      const failure = await failureOf(activities.putWonderCustomer(input));
      assert.equal(failure.type, wonderFailureTypes.serverError);
      assert.equal(failure.nonRetryable, false);
      assert.equal(simulator.requests().filter((r) => r.api === 'putCustomer').length, 0);

      await activities.putWonderCustomer(input);
      assert.equal(customer(WONG)?.name, 'Wong Siu-ming');
      assert.equal(simulator.ledger(WONG).length, 1);
    });
  });

  describe('logging and history', function () {
    it('one log line per provider call, and neither the log nor the result holds personal data', async function () {
      const update = { name: 'Chan Siu Man', email: 'siuman.chan@example.net', phone: '+85298765432' };
      const result = await activities.putWonderCustomer({
        requestId: 'req-log-1',
        customerUuid: CHAN,
        referenceNumber: CHAN_REF,
        update,
      });
      await failureOf(
        activities.putWonderCustomer({
          requestId: 'req-log-2',
          customerUuid: CHAN,
          referenceNumber: CHAN_REF,
          update: { email: 'bad' },
        }),
      );
      // The ownership read and the PUT for the first; the second is refused before either is sent.
      assert.deepEqual(
        logLines.map((l) => [l.level, l.meta?.api, l.meta?.requestId]),
        [
          ['info', 'getCustomerByRef', 'req-log-1'],
          ['info', 'putCustomer', 'req-log-1'],
          ['warn', 'getCustomerByRef', 'req-log-2'],
        ],
      );
      assert.equal(logLines[0]?.meta?.ownerMatches, true);
      assert.equal(logLines[2]?.meta?.failureType, wonderFailureTypes.invalidInput);
      const visible = JSON.stringify({ result, logLines });
      for (const value of [
        ...Object.values(update),
        'bad',
        'Chan Tai Man',
        'taiman.chan@example.com',
        '91234567',
      ]) {
        assert.ok(!visible.includes(value), `${value} must not appear`);
      }
      assert.equal(customer(CHAN)?.email, 'siuman.chan@example.net');
    });
  });

  describe('sandbox control routes', function () {
    it('serves customers, the ledger and create-or-update by reference_number', async function () {
      const created = await app.inject({ method: 'GET', url: `/sandbox/wonder/customers/${CHAN}` });
      assert.equal(created.json().customer.reference_number, 'MERCHANT-CUST-0001');

      const body = JSON.stringify({
        customer: { name: 'New Person', phone: '51234567', reference_number: 'MERCHANT-CUST-0001' },
      });
      const uri = wonderPaths.customers;
      const auth = signRequest({
        method: 'POST',
        uri,
        body,
        appId: 'sandbox-app-id',
        privateKey: merchantKey,
      });
      const upsert = await app.inject({
        method: 'POST',
        url: uri,
        headers: { ...auth, 'content-type': 'application/json', 'x-request-id': randomUUID() },
        payload: body,
      });
      assert.equal(upsert.statusCode, 200);
      assert.equal(upsert.json().data.customer.uuid, CHAN, 'same reference_number, same uuid');

      const byRef = await client.getCustomerByReference('MERCHANT-CUST-0001');
      assert.equal(byRef.name, 'New Person');

      const ledger = await app.inject({ method: 'GET', url: `/sandbox/wonder/ledger?uuid=${CHAN}` });
      assert.deepEqual(
        ledger.json().ledger[CHAN].map((e: { kind: string; changed: string[] }) => [e.kind, e.changed]),
        [['update', ['name', 'phone']]],
      );
      const missing = await app.inject({ method: 'GET', url: `/sandbox/wonder/customers/${randomUUID()}` });
      assert.equal(missing.statusCode, 404);
    });
  });
});
