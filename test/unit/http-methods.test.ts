import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildHttpApp } from '../../http/app.js';
import type { VerificationClient } from '../../client/index.js';
import { defaultPolicy } from '../../workflows/types.js';

/**
 * A method a known path does not answer is a 405 naming the ones it does (`Allow`), as HTTP asks; only an
 * unknown path is a 404. No request here reaches a route, so the app needs no Temporal.
 */
describe('HTTP methods the service does not answer', function () {
  let app: FastifyInstance;

  before(async function () {
    app = await buildHttpApp({
      // the start body's document is built from the operator's policy, the one thing read at build time
      verifications: { policy: defaultPolicy } as VerificationClient,
      authTokens: ['methods-test-token-0123456789abcdef'],
    });
  });

  after(async () => app.close());

  const id = 'contact-change-2188000000000000001';

  it('answers 405 with Allow on a known path, authenticated or not', async function () {
    const cases: Array<[string, string, string]> = [
      ['TRACE', '/healthz', 'GET, HEAD'],
      ['PUT', '/verifications', 'POST'],
      ['DELETE', `/verifications/${id}`, 'GET, HEAD'],
      ['PATCH', `/verifications/${id}/otp`, 'POST'],
      ['OPTIONS', `/verifications/${id}/cancel`, 'POST'],
      ['GET', `/verifications/${id}/resend?x=1`, 'POST'],
      ['POST', `/verifications/${id}/outcome`, 'GET, HEAD'],
      // QUERY takes a body, and Fastify refuses one without Content-Type before looking for a route.
      ['QUERY', `/verifications/${id}`, 'GET, HEAD'],
    ];
    for (const [method, url, allow] of cases) {
      const answer = await app.inject({ method: method as 'GET', url });
      assert.equal(answer.statusCode, 405, `${method} ${url}: ${answer.body}`);
      assert.equal(answer.headers.allow, allow, `${method} ${url}`);
      assert.equal(answer.json<{ error: string }>().error, 'METHOD_NOT_ALLOWED');
    }
  });

  it('answers 404 on a path no route has, whatever the method', async function () {
    for (const [method, url] of [
      ['GET', '/nowhere'],
      ['QUERY', '/nowhere'],
      ['POST', `/verifications/${id}/otp/extra`],
      ['GET', '/verifications/a/b/c'],
    ]) {
      const answer = await app.inject({ method: method as 'GET', url });
      assert.equal(answer.statusCode, 404, `${method} ${url}: ${answer.body}`);
      assert.equal(answer.headers.allow, undefined);
    }
  });
});
