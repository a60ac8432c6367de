import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import {
  answerOutcome,
  TIMES_EXCEED_LIMIT_RETRY_DELAY_MS,
  userVerdict,
} from '../../activities/dws/outcomes.js';
import { transportFailure } from '../../activities/shared/errors.js';
import type { Outcome } from '../../activities/shared/provider-call.js';
import { DwsClient } from '../../activities/dws/client.js';
import { sandboxDwsConfig } from '../../activities/dws/config.js';
import { sandboxKeyPath } from '../../config/project-files.js';
import { signMessage } from '../../activities/dws/signing.js';
import type { ModifyCustomerResponse, Result } from '../../activities/dws/types.js';

function answer(result: Result): Outcome<ModifyCustomerResponse> {
  return answerOutcome<ModifyCustomerResponse>('modifyCustomer', {
    result,
    customerId: '2188000000000000001',
  });
}

function failureOf(outcome: Outcome<unknown>): ApplicationFailure {
  assert.equal(outcome.ok, false, 'the outcome is a failure');
  if (outcome.ok) throw new Error('unreachable');
  assert.ok(outcome.failure instanceof ApplicationFailure);
  return outcome.failure;
}

function assertFinal(failure: ApplicationFailure, type: string, message: string, status: string): void {
  assert.equal(failure.type, type);
  assert.equal(failure.nonRetryable, true);
  assert.equal(failure.message, message);
  assert.deepEqual(failure.details, [{ resultCode: type, resultStatus: status }]);
}

/** An S that does not verify is never retried into acceptance: final. */
function assertFinalSignature(failure: ApplicationFailure): void {
  assert.equal(failure.type, 'INVALID_RESPONSE_SIGNATURE');
  assert.equal(failure.nonRetryable, true);
}

function assertRetryable(failure: ApplicationFailure, type: string): void {
  assert.equal(failure.type, type);
  assert.equal(failure.nonRetryable, false);
}

describe('DWS outcomes', function () {
  describe("every row of the seed's result table", function () {
    it('SUCCESS (S) gives the response', function () {
      const outcome = answer({ resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success.' });
      assert.equal(outcome.ok, true);
      assert.equal(outcome.ok && outcome.value.customerId, '2188000000000000001');
    });

    const finalRows: [code: string, message: string][] = [
      ['REPEAT_REQ_INCONSISTENT', 'Repeated requests are inconsistent.'],
      ['PARAM_ILLEGAL', 'Illegal parameters exist. For example, a non-numeric input, or an invalid date.'],
      ['PROCESS_FAIL', "A general business failure occurred. Don't retry."],
      ['INVALID_PHONE_NUMBER', 'invalid phone number'],
      ['INVALID_API', 'API is invalid (or not active).'],
      ['INVALID_CLIENT', 'Invalid client.'],
      ['INVALID_SIGNATURE', 'Signature is invalid.'],
      ['ACCESS_DENIED', 'Access denied.'],
      ['SEND_TIMES_EXCEED_LIMIT', 'The send times exceed the limit.'],
      ['METHOD_NOT_SUPPORTED', 'The server does not implement the requested HTTP method.'],
    ];
    for (const [code, message] of finalRows) {
      it(`${code} (F) is a non-retryable failure of that type with the provider's message`, function () {
        const failure = failureOf(answer({ resultCode: code, resultStatus: 'F', resultMessage: message }));
        assertFinal(failure, code, message, 'F');
      });
    }

    it('UNKNOWN_EXCEPTION (U) is retryable', function () {
      const failure = failureOf(
        answer({
          resultCode: 'UNKNOWN_EXCEPTION',
          resultStatus: 'U',
          resultMessage: 'An API cal failed, which is caused by unknown reasons.',
        }),
      );
      assertRetryable(failure, 'UNKNOWN_EXCEPTION');
      assert.deepEqual(failure.details, [{ resultCode: 'UNKNOWN_EXCEPTION', resultStatus: 'U' }]);
    });

    it('REQUEST_TRAFFIC_EXCEED_LIMIT (U) is retryable', function () {
      const failure = failureOf(
        answer({
          resultCode: 'REQUEST_TRAFFIC_EXCEED_LIMIT',
          resultStatus: 'U',
          resultMessage: 'Request traffic exceeds the limit.',
        }),
      );
      assertRetryable(failure, 'REQUEST_TRAFFIC_EXCEED_LIMIT');
    });

    it('TIMES_EXCEED_LIMIT (F, no message) is retryable after the longer delay', function () {
      const failure = failureOf(answer({ resultCode: 'TIMES_EXCEED_LIMIT', resultStatus: 'F' }));
      assertRetryable(failure, 'TIMES_EXCEED_LIMIT');
      assert.equal(failure.nextRetryDelay, TIMES_EXCEED_LIMIT_RETRY_DELAY_MS);
      assert.equal(TIMES_EXCEED_LIMIT_RETRY_DELAY_MS, 30_000);
      assert.match(failure.message, /TIMES_EXCEED_LIMIT/);
    });
  });

  describe('codes outside the table', function () {
    it('U with an unlisted code is retryable, typed by the code', function () {
      assertRetryable(failureOf(answer({ resultCode: 'SOMETHING_NEW', resultStatus: 'U' })), 'SOMETHING_NEW');
    });

    it('F with an unlisted code is final, typed by the code', function () {
      const failure = failureOf(
        answer({ resultCode: 'USER_NOT_EXIST', resultStatus: 'F', resultMessage: 'x' }),
      );
      assertFinal(failure, 'USER_NOT_EXIST', 'x', 'F');
    });

    it('UNKNOWN_EXCEPTION is retryable even when it comes with F', function () {
      assertRetryable(
        failureOf(answer({ resultCode: 'UNKNOWN_EXCEPTION', resultStatus: 'F' })),
        'UNKNOWN_EXCEPTION',
      );
    });

    it('masks contact data a provider echoes in its message', function () {
      const failure = failureOf(
        answer({
          resultCode: 'PROCESS_FAIL',
          resultStatus: 'F',
          resultMessage: 'cannot change to example@example.com or +65 8555 5555',
        }),
      );
      assert.doesNotMatch(failure.message, /example@example\.com|8555 5555/);
      assert.match(failure.message, /e\*+e@example\.com/);
    });
  });

  describe("the verify codes are the user's answer", function () {
    const rows = [
      ['VERIFY_CODE_INCORRECT', 'INCORRECT'],
      ['VERIFY_CODE_EXPIRED', 'EXPIRED'],
      ['VERIFY_TIMES_EXCEED_LIMIT', 'LOCKED'],
    ] as const;
    for (const [code, verdict] of rows) {
      it(`${code} is the verdict ${verdict}`, function () {
        assert.deepEqual(userVerdict({ resultCode: code, resultStatus: 'F', resultMessage: 'wrong code' }), {
          verdict,
          resultCode: code,
          resultMessage: 'wrong code',
        });
      });
    }

    it('other results are no verdict', function () {
      assert.equal(userVerdict({ resultCode: 'SUCCESS', resultStatus: 'S' }), undefined);
      assert.equal(userVerdict({ resultCode: 'PROCESS_FAIL', resultStatus: 'F' }), undefined);
      assert.equal(userVerdict({ resultCode: 'VERIFY_CODE_INCORRECT', resultStatus: 'U' }), undefined);
    });
  });

  describe('exchanges without a trustworthy result (through the client)', function () {
    const providerKey = createPrivateKey(readFileSync(sandboxKeyPath('dws-provider.private.pem'), 'utf8'));
    let server: Server;
    let baseUrl: string;
    let handle: (req: IncomingMessage, body: string, res: ServerResponse) => void;
    const request = {
      requestId: 'outcome-1',
      customer: { customerId: '2188000000000000001' },
      businessSceneCode: 'MOBILE_AVAILABLE' as const,
    };

    function signedAnswer(
      res: ServerResponse,
      req: IncomingMessage,
      status: number,
      body: string,
      key: KeyObject,
    ) {
      const responseTime = String(Date.now());
      res.writeHead(status, {
        'content-type': 'application/json',
        'response-time': responseTime,
        signature: signMessage({
          method: 'POST',
          path: req.url ?? '',
          clientId: 'MERCHANT_SANDBOX_CLIENT',
          time: responseTime,
          body,
          privateKey: key,
        }),
      });
      res.end(body);
    }

    const sResult = JSON.stringify({
      result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success.' },
      authenticationId: 'forged',
    });

    before(async function () {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    after(async function () {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    async function failureFrom(config = sandboxDwsConfig(baseUrl)): Promise<ApplicationFailure> {
      const client = new DwsClient(config);
      try {
        await client.modifyCustomer(request);
      } catch (err) {
        assert.ok(err instanceof ApplicationFailure, `an ApplicationFailure, not ${String(err)}`);
        return err;
      } finally {
        client.close();
      }
      assert.fail('the call should have failed');
    }

    it('a signed answer of any status comes back as the response', async function () {
      handle = (req, _body, res) =>
        signedAnswer(
          res,
          req,
          200,
          JSON.stringify({ result: { resultCode: 'PROCESS_FAIL', resultStatus: 'F', resultMessage: 'no' } }),
          providerKey,
        );
      const client = new DwsClient(sandboxDwsConfig(baseUrl));
      try {
        const response = await client.modifyCustomer(request);
        assert.deepEqual(response.result, {
          resultCode: 'PROCESS_FAIL',
          resultStatus: 'F',
          resultMessage: 'no',
        });
      } finally {
        client.close();
      }
    });

    it('HTTP 5xx is retryable, typed HTTP_<status>, whatever its body claims', async function () {
      handle = (_req, _body, res) => {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html>Bad gateway</html>');
      };
      assertRetryable(await failureFrom(), 'HTTP_502');
      handle = (req, _body, res) => signedAnswer(res, req, 500, sResult, providerKey);
      assertRetryable(await failureFrom(), 'HTTP_500');
    });

    it('HTTP 429 is retryable', async function () {
      handle = (_req, _body, res) => {
        res.writeHead(429);
        res.end();
      };
      assertRetryable(await failureFrom(), 'HTTP_429');
    });

    it('a signed HTTP 4xx without a result is final, typed HTTP_<status>', async function () {
      handle = (req, _body, res) => signedAnswer(res, req, 404, 'not found', providerKey);
      const failure = await failureFrom();
      assert.equal(failure.type, 'HTTP_404');
      assert.equal(failure.nonRetryable, true);
    });

    it("an unsigned HTTP 4xx page (a gateway's, not DWS's) is an unknown outcome: retryable", async function () {
      handle = (_req, _body, res) => {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
      };
      const failure = await failureFrom();
      assertRetryable(failure, 'INVALID_RESPONSE_SIGNATURE');
      assert.deepEqual(failure.details, [
        { httpStatus: 404, claimedResultStatus: undefined, claimedResultCode: undefined },
      ]);
    });

    it('an unsigned U, and an F signed with another key, are unknown outcomes: retryable', async function () {
      const uResult = JSON.stringify({
        result: { resultCode: 'UNKNOWN_EXCEPTION', resultStatus: 'U', resultMessage: 'try again' },
      });
      handle = (_req, _body, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(uResult);
      };
      const unsigned = await failureFrom();
      assertRetryable(unsigned, 'INVALID_RESPONSE_SIGNATURE');
      assert.deepEqual(unsigned.details, [
        { httpStatus: 200, claimedResultStatus: 'U', claimedResultCode: 'UNKNOWN_EXCEPTION' },
      ]);

      const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const fResult = JSON.stringify({
        result: { resultCode: 'PROCESS_FAIL', resultStatus: 'F', resultMessage: 'no' },
      });
      handle = (req, _body, res) => signedAnswer(res, req, 200, fResult, otherKey);
      assertRetryable(await failureFrom(), 'INVALID_RESPONSE_SIGNATURE');
    });

    it('a timeout is retryable, naming the phase', async function () {
      handle = () => undefined; // never answers
      const failure = await failureFrom(sandboxDwsConfig(baseUrl, { timeouts: { response: 200 } }));
      assertRetryable(failure, 'TIMEOUT');
      assert.deepEqual(failure.details, [{ phase: 'response' }]);
    });

    it('a refused connection is retryable', async function () {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const failure = await failureFrom(sandboxDwsConfig(`http://127.0.0.1:${port}`));
      assertRetryable(failure, 'NETWORK_ERROR');
      assert.deepEqual(failure.details, [{ code: 'ECONNREFUSED' }]);
    });

    it('a dropped connection is retryable', async function () {
      handle = (req) => req.socket.destroy();
      const failure = await failureFrom();
      assertRetryable(failure, 'NETWORK_ERROR');
      assert.deepEqual(failure.details, [{ code: 'ECONNRESET' }]);
    });

    it('an S signed with another key is never accepted: INVALID_RESPONSE_SIGNATURE, final', async function () {
      const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      handle = (req, _body, res) => signedAnswer(res, req, 200, sResult, otherKey);
      const failure = await failureFrom();
      assert.equal(failure.type, 'INVALID_RESPONSE_SIGNATURE');
      assert.equal(failure.nonRetryable, true);
      assert.deepEqual(failure.details, [
        { httpStatus: 200, claimedResultStatus: 'S', claimedResultCode: 'SUCCESS' },
      ]);
    });

    it('an unsigned S, and an S whose body was altered after signing, are never accepted', async function () {
      handle = (_req, _body, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'response-time': String(Date.now()) });
        res.end(sResult);
      };
      assertFinalSignature(await failureFrom());

      handle = (req, _body, res) => {
        const responseTime = String(Date.now());
        res.writeHead(200, {
          'response-time': responseTime,
          signature: signMessage({
            method: 'POST',
            path: req.url ?? '',
            clientId: 'MERCHANT_SANDBOX_CLIENT',
            time: responseTime,
            body: sResult,
            privateKey: providerKey,
          }),
        });
        res.end(sResult.replace('forged', 'altered'));
      };
      assertFinalSignature(await failureFrom());
    });

    it('an unsigned 200 that is not a DWS answer (a proxy page) is not trusted either: an unknown outcome', async function () {
      handle = (_req, _body, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>Welcome</html>');
      };
      assertRetryable(await failureFrom(), 'INVALID_RESPONSE_SIGNATURE');
    });

    it('a signed 200 without a result is a final MALFORMED_RESPONSE', async function () {
      handle = (req, _body, res) => signedAnswer(res, req, 200, '{"hello":"world"}', providerKey);
      const failure = await failureFrom();
      assert.equal(failure.type, 'MALFORMED_RESPONSE');
      assert.equal(failure.nonRetryable, true);
    });

    it('maps an error that is not got’s as retryable UNEXPECTED_ERROR', function () {
      assertRetryable(transportFailure('DWS triggerChallenge', new TypeError('boom')), 'UNEXPECTED_ERROR');
    });
  });
});
