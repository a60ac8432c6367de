import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import got from 'got';
import { signMessage, verifyMessage } from '../../activities/dws/signing.js';
import { dwsPaths, type DwsApi } from '../../activities/dws/types.js';
import { encryptPin } from '@dws-verify/client';
import { FaultController } from '../../sandbox/faults.js';
import { issuePinKey } from '../../sandbox/dws/pin-keys.js';
import { buildSandboxApp, startSandbox, type SandboxApp, type SandboxOptions } from '../../sandbox/server.js';

const key = (name: string): string =>
  readFileSync(new URL(`../../sandbox/keys/${name}`, import.meta.url), 'utf8');
const merchantPrivateKey = key('dws-merchant.private.pem');
const providerPublicKey = key('dws-provider.public.pem');
const providerPrivateKey = key('dws-provider.private.pem');

const SMS_CUSTOMER = '2188000000000000001';
const PIN_CUSTOMER = '2188000000000000002';
const RISKY_CUSTOMER = '2188000000000000003';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  raw: string;
  json: Json;
}

interface CallTweaks {
  method?: string;
  path?: string;
  clientId?: string;
  time?: number;
  /** request-time exactly as sent, e.g. an ISO 8601 time */
  timeHeader?: string;
  privateKey?: string;
  /** changes the body after it was signed */
  tamper?: (raw: string) => string;
  omitSignature?: boolean;
}

const open: SandboxApp[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.app.close()));
});

async function sandbox(options: SandboxOptions = {}): Promise<SandboxApp> {
  const built = await buildSandboxApp(options);
  open.push(built);
  return built;
}

/** What signing needs of a sandbox: its client id and its clock. */
type Signer = Pick<SandboxApp, 'clientId' | 'dws'>;

function signedHeaders(s: Signer, path: string, raw: string, t: CallTweaks = {}): Record<string, string> {
  const method = t.method ?? 'POST';
  const clientId = t.clientId ?? s.clientId;
  const time = t.timeHeader ?? String(t.time ?? s.dws.now());
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=UTF-8',
    'client-id': clientId,
    'request-time': time,
  };
  if (!t.omitSignature) {
    headers.signature = signMessage({
      method,
      path,
      clientId,
      time,
      body: raw,
      privateKey: t.privateKey ?? merchantPrivateKey,
    });
  }
  return headers;
}

async function call(s: SandboxApp, api: DwsApi, body: unknown, t: CallTweaks = {}): Promise<Answer> {
  const path = t.path ?? dwsPaths[api];
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const method = t.method ?? 'POST';
  const response = await s.app.inject({
    method: method as 'POST',
    url: path,
    headers: signedHeaders(s, path, raw, t),
    ...(method === 'POST' ? { payload: t.tamper ? t.tamper(raw) : raw } : {}),
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    raw: response.body,
    json: JSON.parse(response.body),
  };
}

function responseSignatureValid(answer: Answer, path: string, method = 'POST'): boolean {
  return verifyMessage({
    method,
    path,
    clientId: String(answer.headers['client-id']),
    time: String(answer.headers['response-time']),
    body: answer.raw,
    signatureHeader: answer.headers.signature as string | undefined,
    publicKey: providerPublicKey,
  });
}

function assertResult(answer: Answer, status: 'S' | 'F' | 'U', code: string): void {
  assert.equal(answer.status, 200);
  assert.equal(answer.json.result?.resultStatus, status, answer.raw);
  assert.equal(answer.json.result?.resultCode, code, answer.raw);
}

const id = (): string => randomUUID().replaceAll('-', '');

async function consult(s: SandboxApp, customerId: string, extra: Json = {}): Promise<Json> {
  const answer = await call(s, 'modifyCustomer', { requestId: id(), customer: { customerId }, ...extra });
  assertResult(answer, 'S', 'SUCCESS');
  return answer.json;
}

/** Triggers the challenge and reads the code from the outbox, as the user's phone would. */
async function sendCode(s: SandboxApp, authenticationId: string): Promise<string> {
  assertResult(await call(s, 'triggerChallenge', { challengeId: authenticationId }), 'S', 'SUCCESS');
  const outbox = await s.app.inject({
    method: 'GET',
    url: `/sandbox/outbox?authenticationId=${authenticationId}`,
  });
  const newest = (outbox.json() as Json[])[0];
  assert.ok(newest, 'a code reached the outbox');
  return newest.code as string;
}

function verifyOtp(
  s: SandboxApp,
  authenticationId: string,
  otpValue: string,
  requestId?: string,
): Promise<Answer> {
  return call(s, 'verifyAndResume', {
    authenticationId,
    ...(requestId ? { requestId } : {}),
    challengeData: { challengeType: 'SMS_OTP', otpValue },
  });
}

/** consult, trigger, verify: an authentication the modify may use. */
async function verifiedAuthentication(s: SandboxApp, customerId: string): Promise<string> {
  const { authenticationId } = await consult(s, customerId);
  assertResult(await verifyOtp(s, authenticationId, await sendCode(s, authenticationId)), 'S', 'SUCCESS');
  return authenticationId;
}

function wrongCode(code: string): string {
  return code === '000000' ? '111111' : '000000';
}

describe('DWS sandbox: envelope', function () {
  it('accepts a signed request and signs its answer with the provider key', async function () {
    const s = await sandbox();
    const answer = await call(s, 'modifyCustomer', {
      requestId: id(),
      customer: { customerId: SMS_CUSTOMER },
    });
    assertResult(answer, 'S', 'SUCCESS');
    assert.equal(answer.headers['client-id'], s.clientId);
    assert.ok(responseSignatureValid(answer, dwsPaths.modifyCustomer));
    assert.ok(
      !responseSignatureValid(
        { ...answer, raw: answer.raw.replace('SUCCESS', 'SUCCESs') },
        dwsPaths.modifyCustomer,
      ),
    );
  });

  it('serves a SANDBOX_ client under /ams/sandbox/api and signs the path actually called', async function () {
    const s = await sandbox({ clientId: 'SANDBOX_MERCHANT' });
    const path = '/ams/sandbox/api/v1/customers/modifyCustomer';
    const answer = await call(
      s,
      'modifyCustomer',
      { requestId: id(), customer: { customerId: SMS_CUSTOMER } },
      { path },
    );
    assertResult(answer, 'S', 'SUCCESS');
    assert.ok(responseSignatureValid(answer, path));
    assert.ok(!responseSignatureValid(answer, dwsPaths.modifyCustomer));
  });

  it('answers INVALID_SIGNATURE to a tampered body, a wrong key, a stale request-time or no signature', async function () {
    const s = await sandbox();
    const body = { requestId: id(), customer: { customerId: SMS_CUSTOMER } };
    const cases: CallTweaks[] = [
      { tamper: (raw) => raw.replace(SMS_CUSTOMER, PIN_CUSTOMER) },
      { tamper: (raw) => `${raw} ` },
      { privateKey: providerPrivateKey },
      { time: s.dws.now() - 6 * 60_000 },
      { time: s.dws.now() + 6 * 60_000 },
      { omitSignature: true },
    ];
    for (const tweak of cases) {
      const answer = await call(s, 'modifyCustomer', body, tweak);
      assertResult(answer, 'F', 'INVALID_SIGNATURE');
      assert.ok(responseSignatureValid(answer, dwsPaths.modifyCustomer), 'errors are signed too');
    }
    // A request-time within the allowed skew is fine.
    assertResult(await call(s, 'modifyCustomer', body, { time: s.dws.now() - 4 * 60_000 }), 'S', 'SUCCESS');
    // Had a refused call been processed, its answer would have been kept and this one replayed.
    assert.equal(s.dws.requests.list().at(-1)?.replayed, undefined);
    assert.equal(
      s.dws.requests.list().filter((e) => e.resultCode === 'INVALID_SIGNATURE').length,
      cases.length,
    );
  });

  it('accepts a request-time in ISO 8601, as the Python and PHP SDKs send it, signed as sent', async function () {
    const s = await sandbox();
    const iso = (offsetMinutes: number, colon: boolean): string => {
      const local = new Date(s.dws.now() + offsetMinutes * 60_000).toISOString().slice(0, 19);
      const sign = offsetMinutes < 0 ? '-' : '+';
      const hh = String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0');
      const mm = String(Math.abs(offsetMinutes) % 60).padStart(2, '0');
      return `${local}${sign}${hh}${colon ? ':' : ''}${mm}`;
    };
    const body = () => ({ requestId: id(), customer: { customerId: SMS_CUSTOMER } });
    for (const timeHeader of [
      new Date(s.dws.now()).toISOString(),
      iso(8 * 60, true), // Python: 2019-05-28T12:12:12+08:00
      iso(8 * 60, false), // PHP DATE_ISO8601: 2019-05-28T12:12:12+0800
      iso(-5 * 60 - 30, true),
    ]) {
      assertResult(await call(s, 'modifyCustomer', body(), { timeHeader }), 'S', 'SUCCESS');
    }
    // Still bound by the skew, read in the zone given: the sandbox clock's wall time labelled UTC+8 is 8 hours off.
    const wallTimeAsUtc8 = `${new Date(s.dws.now()).toISOString().slice(0, 19)}+08:00`;
    for (const timeHeader of [wallTimeAsUtc8, '2019-05-28 12:12:12', 'yesterday']) {
      assertResult(await call(s, 'modifyCustomer', body(), { timeHeader }), 'F', 'INVALID_SIGNATURE');
    }
  });

  it('answers METHOD_NOT_SUPPORTED, INVALID_API and INVALID_CLIENT in that order of precedence', async function () {
    const s = await sandbox();
    const get = await call(s, 'modifyCustomer', '', { method: 'GET', path: '/ams/api/v1/nothing' });
    assertResult(get, 'F', 'METHOD_NOT_SUPPORTED');
    assert.ok(responseSignatureValid(get, '/ams/api/v1/nothing', 'GET'));
    const unknownPath = await call(
      s,
      'modifyCustomer',
      {},
      { path: '/ams/api/v1/customers/deleteCustomer', clientId: 'NOBODY' },
    );
    assertResult(unknownPath, 'F', 'INVALID_API');
    const unknownClient = await call(
      s,
      'modifyCustomer',
      { requestId: id(), customer: { customerId: SMS_CUSTOMER } },
      { clientId: 'NOBODY' },
    );
    assertResult(unknownClient, 'F', 'INVALID_CLIENT');
  });

  it('answers PARAM_ILLEGAL naming the field, without echoing values', async function () {
    const s = await sandbox();
    const long = 'x'.repeat(65);
    const cases: [DwsApi, unknown, string][] = [
      ['modifyCustomer', 'not json', 'body'],
      ['modifyCustomer', { customer: { customerId: SMS_CUSTOMER } }, 'requestId'],
      ['modifyCustomer', { requestId: long, customer: { customerId: SMS_CUSTOMER } }, 'requestId'],
      ['modifyCustomer', { requestId: id(), customer: {} }, 'customer.customerId'],
      ['modifyCustomer', { requestId: id(), customer: { customerId: 123 } }, 'customer.customerId'],
      [
        'modifyCustomer',
        { requestId: id(), customer: { customerId: SMS_CUSTOMER }, businessSceneCode: 'X' },
        'businessSceneCode',
      ],
      [
        'modifyCustomer',
        { requestId: id(), authenticationId: '1', customer: { customerId: SMS_CUSTOMER } },
        'customer.user',
      ],
      [
        'modifyCustomer',
        {
          requestId: id(),
          authenticationId: '1',
          customer: { customerId: SMS_CUSTOMER, user: { email: 'nope' } },
        },
        'customer.user.email',
      ],
      [
        'modifyCustomer',
        {
          requestId: id(),
          authenticationId: '1',
          customerInfo: { customerId: SMS_CUSTOMER, user: { mobileNoInfo: { phoneNo: '85555555' } } },
        },
        'customerInfo.user.mobileNoInfo.countryCode',
      ],
      ['triggerChallenge', {}, 'challengeId'],
      ['triggerChallenge', { challengeId: '1', triggerRequestId: long }, 'triggerRequestId'],
      ['verifyAndResume', { challengeData: { challengeType: 'SMS_OTP', otpValue: '1' } }, 'authenticationId'],
      ['verifyAndResume', { authenticationId: '1' }, 'challengeData'],
      [
        'verifyAndResume',
        { authenticationId: '1', challengeData: { challengeType: 'SMS_OTP' } },
        'challengeData.otpValue',
      ],
      [
        'verifyAndResume',
        { authenticationId: '1', challengeData: { challengeType: 'FACE' } },
        'challengeData.challengeType',
      ],
      [
        'verifyAndResume',
        {
          authenticationId: '1',
          requestId: long,
          challengeData: { challengeType: 'SMS_OTP', otpValue: '1' },
        },
        'requestId',
      ],
    ];
    for (const [api, body, field] of cases) {
      const answer = await call(s, api, body);
      assertResult(answer, 'F', 'PARAM_ILLEGAL');
      const message = answer.json.result.resultMessage as string;
      assert.match(message, new RegExp(`\\b${field.replaceAll('.', '\\.')} `), `${api}: ${message}`);
      assert.ok(
        !message.includes(long) && !message.includes('nope') && !message.includes('85555555'),
        message,
      );
    }
  });
});

describe('DWS sandbox: consult', function () {
  it('opens an authentication challenged by SMS to the masked current phone', async function () {
    const s = await sandbox();
    const answer = await consult(s, SMS_CUSTOMER);
    assert.equal(answer.customerId, SMS_CUSTOMER);
    assert.match(answer.authenticationId, /^\d{35}$/);
    assert.deepEqual(answer.actionForm, { challengeType: 'sms', challengeRenderValue: '+65******5551' });
    assert.notEqual((await consult(s, SMS_CUSTOMER)).authenticationId, answer.authenticationId);
  });

  it('challenges a PIN customer with PAYMENT_PASSWORD and an empty render value', async function () {
    const s = await sandbox();
    assert.deepEqual((await consult(s, PIN_CUSTOMER)).actionForm, {
      challengeType: 'PAYMENT_PASSWORD',
      challengeRenderValue: '',
    });
  });

  it('MOBILE_UNAVAILABLE: the PIN if there is one, else an OTP to the masked email', async function () {
    const s = await sandbox();
    const sms = await consult(s, SMS_CUSTOMER, { businessSceneCode: 'MOBILE_UNAVAILABLE' });
    assert.deepEqual(sms.actionForm, { challengeType: 'sms', challengeRenderValue: 'a*****e@example.com' });
    await sendCode(s, sms.authenticationId);
    const sent = s.dws.outbox.latest({ authenticationId: sms.authenticationId });
    assert.equal(sent?.channel, 'email');
    assert.equal(sent?.destination, 'a*****e@example.com');
    const pin = await consult(s, PIN_CUSTOMER, { businessSceneCode: 'MOBILE_UNAVAILABLE' });
    assert.equal(pin.actionForm.challengeType, 'PAYMENT_PASSWORD');
  });

  it('accepts the samples’ customerInfo in place of customer', async function () {
    const s = await sandbox();
    const answer = await call(s, 'modifyCustomer', {
      requestId: id(),
      customerInfo: { customerId: SMS_CUSTOMER },
    });
    assertResult(answer, 'S', 'SUCCESS');
    assert.equal(answer.json.customerId, SMS_CUSTOMER);
  });

  it('answers PROCESS_FAIL for an unknown customer', async function () {
    const s = await sandbox();
    const answer = await call(s, 'modifyCustomer', {
      requestId: id(),
      customer: { customerId: '2188999999999999999' },
    });
    assertResult(answer, 'F', 'PROCESS_FAIL');
    assert.match(answer.json.result.resultMessage, /customer not found/);
  });

  it('answers TIMES_EXCEED_LIMIT over the consult limit, and does not keep that answer for the requestId', async function () {
    let now = Date.now();
    const s = await sandbox({ consultLimit: { max: 2, windowMs: 60_000 }, now: () => now });
    await consult(s, SMS_CUSTOMER);
    await consult(s, SMS_CUSTOMER);
    const requestId = id();
    const body = { requestId, customer: { customerId: SMS_CUSTOMER } };
    assertResult(await call(s, 'modifyCustomer', body), 'F', 'TIMES_EXCEED_LIMIT');
    await consult(s, PIN_CUSTOMER); // other customers are not limited
    now += 61_000;
    assertResult(await call(s, 'modifyCustomer', body), 'S', 'SUCCESS');
  });
});

describe('DWS sandbox: flows', function () {
  it('email change: consult, trigger, outbox, verify, modify; the customer changes and the ledger counts 1', async function () {
    const s = await sandbox();
    const authenticationId = await verifiedAuthentication(s, SMS_CUSTOMER);
    const requestId = id();
    const modify = await call(s, 'modifyCustomer', {
      requestId,
      authenticationId,
      customer: { customerId: SMS_CUSTOMER, user: { email: 'alice.new@example.com' } },
    });
    assertResult(modify, 'S', 'SUCCESS');
    assert.equal(modify.json.customerId, SMS_CUSTOMER);
    assert.equal(modify.json.actionForm, undefined);
    assert.ok(responseSignatureValid(modify, dwsPaths.modifyCustomer));

    const customer = (
      await s.app.inject({ method: 'GET', url: `/sandbox/customers/${SMS_CUSTOMER}` })
    ).json();
    assert.equal(customer.email, 'alice.new@example.com');
    const ledger = (await s.app.inject({ method: 'GET', url: '/sandbox/ledger' })).json();
    assert.equal(ledger[SMS_CUSTOMER].count, 1);
    assert.deepEqual(ledger[SMS_CUSTOMER].requestIds, [requestId]);
    assert.deepEqual(ledger[SMS_CUSTOMER].entries[0].fields, ['email']);
  });

  it('phone change with risk: a second challenge on the new phone, whose verification applies the change', async function () {
    const s = await sandbox();
    const authenticationId = await verifiedAuthentication(s, RISKY_CUSTOMER);
    const requestId = id();
    const newPhone = { countryCode: '65', phoneNo: '91234567' };
    const modify = await call(s, 'modifyCustomer', {
      requestId,
      authenticationId,
      customer: { customerId: RISKY_CUSTOMER, user: { mobileNoInfo: newPhone } },
    });
    assertResult(modify, 'S', 'SUCCESS');
    assert.deepEqual(modify.json.actionForm, { challengeType: 'sms', challengeRenderValue: '+65******4567' });
    const second = modify.json.authenticationId as string;
    assert.match(second, /^\d{35}$/);
    assert.notEqual(second, authenticationId);
    assert.equal(
      s.dws.customers.view(RISKY_CUSTOMER)?.mobileNoInfo?.phoneNo,
      '81234567508',
      'not applied yet',
    );
    assert.equal(s.dws.ledger.forCustomer(RISKY_CUSTOMER).count, 0);

    // The second challenge is the resume, not another modify.
    const reuse = await call(s, 'modifyCustomer', {
      requestId: id(),
      authenticationId: second,
      customer: { customerId: RISKY_CUSTOMER, user: { mobileNoInfo: newPhone } },
    });
    assertResult(reuse, 'F', 'PROCESS_FAIL');

    const code = await sendCode(s, second);
    assert.equal(s.dws.outbox.latest({ authenticationId: second })?.destination, '+65******4567');
    const verify = await verifyOtp(s, second, code, id());
    assertResult(verify, 'S', 'SUCCESS');
    assert.equal(verify.json.authenticationId, second);
    assert.deepEqual(s.dws.customers.view(RISKY_CUSTOMER)?.mobileNoInfo, newPhone);
    const ledger = s.dws.ledger.forCustomer(RISKY_CUSTOMER);
    assert.equal(ledger.count, 1);
    assert.deepEqual(ledger.requestIds, [requestId]);
    assert.equal(ledger.entries[0]?.appliedBy, 'verifyAndResume');
  });

  it('flags any phone change to a number ending in 0000 as risky; other phone changes apply directly', async function () {
    const s = await sandbox();
    const risky = await call(s, 'modifyCustomer', {
      requestId: id(),
      authenticationId: await verifiedAuthentication(s, SMS_CUSTOMER),
      customer: {
        customerId: SMS_CUSTOMER,
        user: { mobileNoInfo: { countryCode: '65', phoneNo: '90000000' } },
      },
    });
    assertResult(risky, 'S', 'SUCCESS');
    assert.equal(risky.json.actionForm?.challengeRenderValue, '+65******0000');

    const plain = await call(s, 'modifyCustomer', {
      requestId: id(),
      authenticationId: await verifiedAuthentication(s, SMS_CUSTOMER),
      customer: {
        customerId: SMS_CUSTOMER,
        user: { mobileNoInfo: { countryCode: '60', phoneNo: '123456789' } },
      },
    });
    assertResult(plain, 'S', 'SUCCESS');
    assert.equal(plain.json.actionForm, undefined);
    assert.deepEqual(s.dws.customers.view(SMS_CUSTOMER)?.mobileNoInfo, {
      countryCode: '60',
      phoneNo: '123456789',
    });
    assert.equal(s.dws.ledger.forCustomer(SMS_CUSTOMER).count, 1);
  });

  it('PIN: each trigger mints a fresh key; a clear PIN, a stale key and a wrong PIN count; the right one verifies', async function () {
    const s = await sandbox();
    const { authenticationId } = await consult(s, PIN_CUSTOMER);
    const trigger = async (): Promise<Json> => {
      const answer = await call(s, 'triggerChallenge', {
        challengeId: authenticationId,
        triggerRequestId: id(),
      });
      assertResult(answer, 'S', 'SUCCESS');
      assert.equal(answer.json.challengeType, 'PAYMENT_PASSWORD');
      return answer.json.encryptionInfo as Json;
    };
    const pin = (passwordValue: string): Promise<Answer> =>
      call(s, 'verifyAndResume', {
        authenticationId,
        challengeData: { challengeType: 'PAYMENT_PASSWORD', passwordValue },
      });

    assertResult(await pin(await encryptPin('123456', issuePinKey().encryptionInfo)), 'F', 'PROCESS_FAIL');
    const first = await trigger();
    const info = await trigger();
    assert.equal(info.algorithm, 'RSA-OAEP-256');
    assert.notEqual(info.publicKey, first.publicKey, 'a fresh key pair per trigger');
    assert.notEqual(info.salt, first.salt);
    assert.deepEqual(s.dws.outbox.list({ customerId: PIN_CUSTOMER }), []);

    const refusals: [string, string][] = [
      ['the right PIN in clear', '123456'],
      ["the right PIN under the earlier trigger's key", await encryptPin('123456', first)],
      [
        "the right PIN under another challenge's key",
        await encryptPin('123456', issuePinKey().encryptionInfo),
      ],
      ['a wrong PIN, encrypted right', await encryptPin('654321', info)],
    ];
    for (const [index, [what, passwordValue]] of refusals.entries()) {
      const refused = await pin(passwordValue);
      assertResult(refused, 'F', 'VERIFY_CODE_INCORRECT');
      assert.match(refused.json.result.resultMessage, new RegExp(`${4 - index} attempt\\(s\\) left`), what);
    }
    const otpInstead = await verifyOtp(s, authenticationId, '123456');
    assertResult(otpInstead, 'F', 'PARAM_ILLEGAL');
    assertResult(await pin(await encryptPin('123456', info)), 'S', 'SUCCESS');

    const modify = await call(s, 'modifyCustomer', {
      requestId: id(),
      authenticationId,
      customer: { customerId: PIN_CUSTOMER, user: { email: 'bob.new@example.com' } },
    });
    assertResult(modify, 'S', 'SUCCESS');
    assert.equal(s.dws.customers.view(PIN_CUSTOMER)?.email, 'bob.new@example.com');
  });

  it('answers INVALID_PHONE_NUMBER to a malformed number and keeps the authentication usable', async function () {
    const s = await sandbox();
    const authenticationId = await verifiedAuthentication(s, SMS_CUSTOMER);
    for (const mobileNoInfo of [
      { countryCode: '+65', phoneNo: '85555555' },
      { countryCode: '6512', phoneNo: '85555555' },
      { countryCode: '65', phoneNo: '1234' },
      { countryCode: '65', phoneNo: '8555-5555' },
    ]) {
      const answer = await call(s, 'modifyCustomer', {
        requestId: id(),
        authenticationId,
        customer: { customerId: SMS_CUSTOMER, user: { mobileNoInfo } },
      });
      assertResult(answer, 'F', 'INVALID_PHONE_NUMBER');
    }
    const fixed = await call(s, 'modifyCustomer', {
      requestId: id(),
      authenticationId,
      customer: {
        customerId: SMS_CUSTOMER,
        user: { mobileNoInfo: { countryCode: '65', phoneNo: '85555555' } },
      },
    });
    assertResult(fixed, 'S', 'SUCCESS');
  });

  it('refuses a modify with an unverified, foreign or already used authentication', async function () {
    const s = await sandbox();
    const user = { email: 'alice.new@example.com' };
    const unverified = (await consult(s, SMS_CUSTOMER)).authenticationId;
    const attempt = (authenticationId: string, customerId = SMS_CUSTOMER): Promise<Answer> =>
      call(s, 'modifyCustomer', { requestId: id(), authenticationId, customer: { customerId, user } });

    const notVerified = await attempt(unverified);
    assertResult(notVerified, 'F', 'PROCESS_FAIL');
    assert.match(notVerified.json.result.resultMessage, /not verified/);

    const verified = await verifiedAuthentication(s, SMS_CUSTOMER);
    assertResult(await attempt(verified, RISKY_CUSTOMER), 'F', 'PROCESS_FAIL');
    assertResult(await attempt(verified), 'S', 'SUCCESS');
    const again = await attempt(verified);
    assertResult(again, 'F', 'PROCESS_FAIL');
    assert.match(again.json.result.resultMessage, /already used/);
    assert.equal(s.dws.ledger.forCustomer(SMS_CUSTOMER).count, 1);
  });
});

describe('DWS sandbox: challenges', function () {
  it('answers SEND_TIMES_EXCEED_LIMIT once the codes per authentication are used up', async function () {
    const s = await sandbox({ maxSendsPerAuthentication: 3 });
    const { authenticationId } = await consult(s, SMS_CUSTOMER);
    for (let i = 0; i < 3; i += 1) {
      assertResult(await call(s, 'triggerChallenge', { challengeId: authenticationId }), 'S', 'SUCCESS');
    }
    assertResult(
      await call(s, 'triggerChallenge', { challengeId: authenticationId }),
      'F',
      'SEND_TIMES_EXCEED_LIMIT',
    );
    assert.equal(s.dws.outbox.list({ authenticationId }).length, 3);
  });

  it('a new code invalidates the old one, and a code verifies only once', async function () {
    const s = await sandbox();
    const { authenticationId } = await consult(s, SMS_CUSTOMER);
    const first = await sendCode(s, authenticationId);
    let second = await sendCode(s, authenticationId);
    while (second === first) second = await sendCode(s, authenticationId);
    assertResult(await verifyOtp(s, authenticationId, first), 'F', 'VERIFY_CODE_INCORRECT');
    assertResult(await verifyOtp(s, authenticationId, second), 'S', 'SUCCESS');
    assertResult(await verifyOtp(s, authenticationId, second), 'F', 'PROCESS_FAIL');
  });

  it('counts wrong codes down and locks the authentication at the limit', async function () {
    const s = await sandbox({ maxVerifyAttempts: 3 });
    const { authenticationId } = await consult(s, SMS_CUSTOMER);
    const code = await sendCode(s, authenticationId);
    const first = await verifyOtp(s, authenticationId, wrongCode(code));
    assertResult(first, 'F', 'VERIFY_CODE_INCORRECT');
    assert.match(first.json.result.resultMessage, /2 attempt\(s\) left/);
    assert.ok(!first.raw.includes(code) && !first.raw.includes(wrongCode(code)), 'no code in the answer');
    assertResult(await verifyOtp(s, authenticationId, wrongCode(code)), 'F', 'VERIFY_CODE_INCORRECT');
    assertResult(await verifyOtp(s, authenticationId, wrongCode(code)), 'F', 'VERIFY_TIMES_EXCEED_LIMIT');
    assertResult(await verifyOtp(s, authenticationId, code), 'F', 'VERIFY_TIMES_EXCEED_LIMIT');
    assertResult(await call(s, 'triggerChallenge', { challengeId: authenticationId }), 'F', 'PROCESS_FAIL');
  });

  it('answers VERIFY_CODE_EXPIRED after the OTP lifetime, and a fresh code verifies', async function () {
    let now = Date.now();
    const s = await sandbox({ otpTtlMs: 60_000, now: () => now });
    const { authenticationId } = await consult(s, SMS_CUSTOMER);
    const stale = await sendCode(s, authenticationId);
    now += 60_000;
    assertResult(await verifyOtp(s, authenticationId, stale), 'F', 'VERIFY_CODE_EXPIRED');
    const fresh = await sendCode(s, authenticationId);
    now += 59_000;
    assertResult(await verifyOtp(s, authenticationId, fresh), 'S', 'SUCCESS');
  });

  it('keeps only a hash of the code in the authentication', async function () {
    const s = await sandbox();
    const { authenticationId } = await consult(s, SMS_CUSTOMER);
    const code = await sendCode(s, authenticationId);
    const state = s.dws.authentications.get(authenticationId);
    assert.ok(state?.code);
    assert.ok(!JSON.stringify(state).includes(code));
    assert.equal(state.code.secret.hash.length, 32);
  });
});

describe('DWS sandbox: idempotency', function () {
  it('the same modify requestId twice applies once and answers the same', async function () {
    const s = await sandbox();
    const body = {
      requestId: id(),
      authenticationId: await verifiedAuthentication(s, SMS_CUSTOMER),
      customer: { customerId: SMS_CUSTOMER, user: { email: 'alice.once@example.com' } },
    };
    const first = await call(s, 'modifyCustomer', body);
    // Same content, other key order and spacing.
    const again = await call(
      s,
      'modifyCustomer',
      JSON.stringify(
        { customer: body.customer, authenticationId: body.authenticationId, requestId: body.requestId },
        null,
        1,
      ),
    );
    assertResult(first, 'S', 'SUCCESS');
    assert.equal(again.raw, first.raw);
    assert.ok(responseSignatureValid(again, dwsPaths.modifyCustomer));
    assert.equal(s.dws.ledger.forCustomer(SMS_CUSTOMER).count, 1);
    assert.equal(s.dws.requests.list({ api: 'modifyCustomer' }).at(-1)?.replayed, true);
  });

  it('the same requestId with other content answers REPEAT_REQ_INCONSISTENT', async function () {
    const s = await sandbox();
    const requestId = id();
    await call(s, 'modifyCustomer', { requestId, customer: { customerId: SMS_CUSTOMER } });
    const other = await call(s, 'modifyCustomer', { requestId, customer: { customerId: PIN_CUSTOMER } });
    assertResult(other, 'F', 'REPEAT_REQ_INCONSISTENT');
    const sameScene = await call(s, 'modifyCustomer', {
      requestId,
      customer: { customerId: SMS_CUSTOMER },
      businessSceneCode: 'MOBILE_UNAVAILABLE',
    });
    assertResult(sameScene, 'F', 'REPEAT_REQ_INCONSISTENT');
  });

  it('a repeated trigger with the same triggerRequestId sends no new code', async function () {
    const s = await sandbox();
    const { authenticationId } = await consult(s, SMS_CUSTOMER);
    const body = { challengeId: authenticationId, triggerRequestId: id() };
    const first = await call(s, 'triggerChallenge', body);
    const again = await call(s, 'triggerChallenge', body);
    assertResult(again, 'S', 'SUCCESS');
    assert.equal(again.raw, first.raw);
    assert.equal(s.dws.outbox.list({ authenticationId }).length, 1);
    assertResult(
      await call(s, 'triggerChallenge', { challengeId: authenticationId, triggerRequestId: id() }),
      'S',
      'SUCCESS',
    );
    assert.equal(s.dws.outbox.list({ authenticationId }).length, 2);
  });

  it('a repeated verify with the same requestId consumes no attempt', async function () {
    const s = await sandbox({ maxVerifyAttempts: 2 });
    const { authenticationId } = await consult(s, SMS_CUSTOMER);
    const code = await sendCode(s, authenticationId);
    const requestId = id();
    const first = await verifyOtp(s, authenticationId, wrongCode(code), requestId);
    assertResult(first, 'F', 'VERIFY_CODE_INCORRECT');
    assert.equal((await verifyOtp(s, authenticationId, wrongCode(code), requestId)).raw, first.raw);
    assert.equal(s.dws.authentications.get(authenticationId)?.failedAttempts, 1);
    assertResult(await verifyOtp(s, authenticationId, code, requestId), 'F', 'REPEAT_REQ_INCONSISTENT');
    assertResult(await verifyOtp(s, authenticationId, code, id()), 'S', 'SUCCESS');
  });
});

describe('DWS sandbox: faults', function () {
  it('failNext: unknown twice, then the call goes through', async function () {
    const s = await sandbox({ faults: { failNext: [{ api: 'modifyCustomer', kind: 'unknown', count: 2 }] } });
    // Another API does not consume the entry.
    assertResult(await call(s, 'triggerChallenge', { challengeId: 'nope' }), 'F', 'PROCESS_FAIL');
    const body = { requestId: id(), customer: { customerId: SMS_CUSTOMER } };
    for (let i = 0; i < 2; i += 1) {
      const answer = await call(s, 'modifyCustomer', body);
      assertResult(answer, 'U', 'UNKNOWN_EXCEPTION');
      assert.ok(responseSignatureValid(answer, dwsPaths.modifyCustomer));
    }
    assertResult(await call(s, 'modifyCustomer', body), 'S', 'SUCCESS');
    const log = s.dws.requests.list({ api: 'modifyCustomer' });
    assert.deepEqual(
      log.map((e) => e.fault?.kind ?? e.resultCode),
      ['unknown', 'unknown', 'SUCCESS'],
    );
    assert.equal(log[0]?.requestId, body.requestId);
  });

  it("'before' faults change nothing: traffic limit and server error", async function () {
    const s = await sandbox({
      faults: {
        failNext: [
          { kind: 'trafficLimit', count: 1 },
          { kind: 'serverError', count: 1, status: 500 },
        ],
      },
    });
    const body = { requestId: id(), customer: { customerId: SMS_CUSTOMER } };
    const traffic = await call(s, 'modifyCustomer', body);
    assertResult(traffic, 'U', 'REQUEST_TRAFFIC_EXCEED_LIMIT');
    assert.ok(responseSignatureValid(traffic, dwsPaths.modifyCustomer));

    const raw = JSON.stringify(body);
    const path = dwsPaths.modifyCustomer;
    const response = await s.app.inject({
      method: 'POST',
      url: path,
      headers: signedHeaders(s, path, raw),
      payload: raw,
    });
    assert.equal(response.statusCode, 500);
    assert.ok(!response.body.includes('result'));
    assert.equal(response.headers.signature, undefined);

    // Nothing was processed, so nothing was kept for the requestId: the retry is a first consult.
    assertResult(await call(s, 'modifyCustomer', body), 'S', 'SUCCESS');
    assert.deepEqual(
      s.dws.requests.list().map((e) => [e.fault?.kind ?? e.resultCode, e.replayed ?? false]),
      [
        ['trafficLimit', false],
        ['serverError', false],
        ['SUCCESS', false],
      ],
    );
  });

  it("an 'after' drop applies the modify once, and the retry with the same requestId gets the stored S", async function () {
    const running = await startSandbox();
    try {
      const post = (api: DwsApi, body: unknown) => {
        const raw = JSON.stringify(body);
        return got.post(running.url + dwsPaths[api], {
          body: raw,
          headers: signedHeaders(running, dwsPaths[api], raw),
          retry: { limit: 0 },
        });
      };
      const consulted = JSON.parse(
        (await post('modifyCustomer', { requestId: id(), customer: { customerId: SMS_CUSTOMER } })).body,
      );
      const authenticationId = consulted.authenticationId as string;
      await post('triggerChallenge', { challengeId: authenticationId });
      const otpValue = running.dws.outbox.latest({ authenticationId })?.code;
      await post('verifyAndResume', {
        authenticationId,
        challengeData: { challengeType: 'SMS_OTP', otpValue },
      });

      await got.post(`${running.url}/sandbox/faults`, {
        json: { failNext: [{ api: 'modifyCustomer', kind: 'drop', phase: 'after', count: 1 }] },
      });
      const modify = {
        requestId: id(),
        authenticationId,
        customer: { customerId: SMS_CUSTOMER, user: { email: 'alice.dropped@example.com' } },
      };
      await assert.rejects(post('modifyCustomer', modify), (err: Error) => err.name === 'RequestError');
      assert.equal(
        running.dws.customers.view(SMS_CUSTOMER)?.email,
        'alice.dropped@example.com',
        'applied before the drop',
      );

      const retry = await post('modifyCustomer', modify);
      assert.equal(JSON.parse(retry.body).result.resultStatus, 'S');
      assert.ok(
        verifyMessage({
          method: 'POST',
          path: dwsPaths.modifyCustomer,
          clientId: String(retry.headers['client-id']),
          time: String(retry.headers['response-time']),
          body: retry.body,
          signatureHeader: String(retry.headers.signature),
          publicKey: providerPublicKey,
        }),
      );
      const ledger = await got(`${running.url}/sandbox/ledger?customerId=${SMS_CUSTOMER}`).json<Json>();
      assert.equal(ledger.count, 1);
      assert.deepEqual(ledger.requestIds, [modify.requestId]);
      const log = running.dws.requests.list({ api: 'modifyCustomer' }).slice(-2);
      assert.deepEqual(
        log.map((e) => [e.fault?.kind, e.resultCode, e.replayed ?? false]),
        [
          ['drop', 'SUCCESS', false],
          [undefined, 'SUCCESS', true],
        ],
      );
    } finally {
      await running.close();
    }
  });

  it("an 'after' unknown on trigger sends one code; the retry with the same triggerRequestId gets the stored S", async function () {
    const s = await sandbox({
      faults: { failNext: [{ api: 'triggerChallenge', kind: 'unknown', phase: 'after', count: 1 }] },
    });
    const { authenticationId } = await consult(s, SMS_CUSTOMER);
    const body = { challengeId: authenticationId, triggerRequestId: id() };
    const lost = await call(s, 'triggerChallenge', body);
    assertResult(lost, 'U', 'UNKNOWN_EXCEPTION');
    assert.ok(responseSignatureValid(lost, dwsPaths.triggerChallenge));
    assert.equal(s.dws.outbox.list({ authenticationId }).length, 1, 'processed before the answer was lost');
    const retry = await call(s, 'triggerChallenge', body);
    assertResult(retry, 'S', 'SUCCESS');
    assert.equal(s.dws.outbox.list({ authenticationId }).length, 1, 'no second code');
    assert.deepEqual(
      s.dws.requests
        .list({ api: 'triggerChallenge' })
        .map((e) => [e.fault?.phase, e.resultCode, e.replayed ?? false]),
      [
        ['after', 'SUCCESS', false],
        [undefined, 'SUCCESS', true],
      ],
    );
  });

  it('plans latency, slow delays by phase, and failNext entries only for their API', function () {
    const controller = new FaultController<DwsApi>({
      latencyMs: 5,
      slowMs: 20,
      rates: { slow: 1 },
      phase: { slow: 'after' },
      failNext: [{ api: 'verifyAndResume', kind: 'serverError', count: 1 }],
    });
    assert.deepEqual(controller.plan('modifyCustomer'), { delayBeforeMs: 5, delayAfterMs: 20 });
    const planned = controller.plan('verifyAndResume');
    assert.deepEqual(planned.fault, {
      kind: 'serverError',
      phase: 'before',
      source: 'failNext',
      status: 503,
    });
    assert.equal(controller.plan('verifyAndResume').fault, undefined);
    assert.deepEqual(controller.settings().failNext, []);
    controller.update({ rates: {}, phase: {}, failNext: [{ kind: 'slow', count: 1 }] });
    assert.deepEqual(controller.plan('triggerChallenge'), { delayBeforeMs: 25, delayAfterMs: 0 });
  });

  it('seeded rates repeat the same faults for the same calls', async function () {
    const faults = { seed: 42, rates: { unknown: 0.3, trafficLimit: 0.1, serverError: 0.2 } };
    const outcomes = async (seed: number): Promise<string[]> => {
      const s = await sandbox({ faults: { ...faults, seed } });
      const seen: string[] = [];
      for (let i = 0; i < 30; i += 1) {
        const raw = JSON.stringify({ requestId: `seeded-${i}`, customer: { customerId: SMS_CUSTOMER } });
        const path = dwsPaths.modifyCustomer;
        const response = await s.app.inject({
          method: 'POST',
          url: path,
          headers: signedHeaders(s, path, raw),
          payload: raw,
        });
        seen.push(
          response.statusCode === 200
            ? (response.json() as Json).result.resultCode
            : String(response.statusCode),
        );
      }
      return seen;
    };
    const first = await outcomes(42);
    assert.deepEqual(await outcomes(42), first);
    assert.notDeepEqual(await outcomes(7), first);
    for (const expected of ['SUCCESS', 'UNKNOWN_EXCEPTION', 'REQUEST_TRAFFIC_EXCEED_LIMIT']) {
      assert.ok(first.includes(expected), `${expected} in ${first.join(',')}`);
    }
    assert.ok(
      first.some((o) => o === '500' || o === '503'),
      first.join(','),
    );
  });

  it('reseeding over HTTP restarts the sequence; bad settings are refused naming the field', async function () {
    const s = await sandbox();
    const set = (body: unknown) =>
      s.app.inject({ method: 'POST', url: '/sandbox/faults', payload: body as object });
    const bad = await set({ failNext: [{ kind: 'explode' }] });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().field, 'failNext[0].kind');
    assert.equal((await set({ rates: { unknown: 0.7, drop: 0.6 } })).json().field, 'rates');
    assert.equal(
      (await set({ failNext: [{ kind: 'unknown', api: 'payments' }] })).json().field,
      'failNext[0].api',
    );

    const ok = await set({ seed: 5, rates: { unknown: 0.5 } });
    assert.equal(ok.statusCode, 200);
    const a = [0, 1, 2, 3, 4, 5].map(() => s.faults.plan('modifyCustomer').fault?.kind ?? '-');
    await set({ seed: 5 });
    const b = [0, 1, 2, 3, 4, 5].map(() => s.faults.plan('modifyCustomer').fault?.kind ?? '-');
    assert.deepEqual(b, a);
    assert.deepEqual((await s.app.inject({ method: 'GET', url: '/sandbox/faults' })).json().rates, {
      unknown: 0.5,
    });
  });
});

describe('DWS sandbox: control API', function () {
  it('adds a customer, shows it, and refuses bad ones naming the field', async function () {
    const s = await sandbox();
    const add = (body: object) => s.app.inject({ method: 'POST', url: '/sandbox/customers', payload: body });
    const created = await add({
      customerId: '2188000000000000099',
      email: 'dave@example.com',
      mobileNoInfo: { countryCode: '1', phoneNo: '2025550123' },
      challengeType: 'PAYMENT_PASSWORD',
      pin: '909090',
    });
    assert.equal(created.statusCode, 201);
    assert.equal(created.json().hasPin, true);
    assert.ok(!created.body.includes('909090'));
    const shown = await s.app.inject({ method: 'GET', url: '/sandbox/customers/2188000000000000099' });
    assert.equal(shown.json().email, 'dave@example.com');
    assert.equal((await s.app.inject({ method: 'GET', url: '/sandbox/customers/404' })).statusCode, 404);
    const bad = await add({
      customerId: 'x',
      challengeType: 'sms',
      mobileNoInfo: { countryCode: '1', phoneNo: '12' },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().field, 'mobileNoInfo');
    assert.equal((await add({ customerId: 'y', challengeType: 'PAYMENT_PASSWORD' })).json().field, 'pin');
  });

  it('logs calls without codes, phones or emails, and reset forgets everything', async function () {
    const s = await sandbox();
    const authenticationId = await verifiedAuthentication(s, SMS_CUSTOMER);
    const code = s.dws.outbox.latest({ authenticationId })?.code ?? '';
    await call(s, 'modifyCustomer', {
      requestId: id(),
      authenticationId,
      customer: {
        customerId: SMS_CUSTOMER,
        user: { mobileNoInfo: { countryCode: '65', phoneNo: '87776666' } },
      },
    });
    const log = await s.app.inject({ method: 'GET', url: '/sandbox/requests' });
    const entries = log.json() as Json[];
    assert.deepEqual(
      entries.map((e) => e.api),
      ['modifyCustomer', 'triggerChallenge', 'verifyAndResume', 'modifyCustomer'],
    );
    assert.ok(entries.every((e) => e.resultStatus === 'S'));
    for (const secret of [code, '87776666', '85555551', 'alice@example.com']) {
      assert.ok(!log.body.includes(secret), 'the log holds no secret or contact data');
    }

    assert.equal((await s.app.inject({ method: 'POST', url: '/sandbox/reset' })).statusCode, 200);
    assert.deepEqual(s.dws.outbox.list(), []);
    assert.deepEqual(s.dws.requests.list(), []);
    assert.equal(s.dws.ledger.forCustomer(SMS_CUSTOMER).count, 0);
    assert.equal(s.dws.customers.view(SMS_CUSTOMER)?.mobileNoInfo?.phoneNo, '85555551');
    assert.equal(s.dws.authentications.get(authenticationId), undefined);
  });
});
