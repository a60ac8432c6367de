/**
 * What one app journey costs the Temporal frontend, counted on the HTTP service's own connection with a
 * gRPC interceptor, on a real dev server with the real workflow: a named caller's start, code and
 * outcome. The count is the contract the latency depends on: a describe coming back before the code's
 * update (the ownership check a known run makes unneeded) or a poll after the start's update-with-start
 * fails it. The guarantees the shortcut must keep (another caller's 404, a finished flow's 409, a known
 * key's verdict after the end) are asserted alongside.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { VerificationClient } from '@dws-verify/client';
import { buildHttpApp } from '../http/app.js';
import { verificationWorkflowId } from '../workflows/ids.js';
import { uniqueName } from './helpers/temporal.js';
import {
  verificationStack,
  withVerificationWorker,
  type VerificationRig,
} from './helpers/verification-env.js';

type GrpcInterceptor = NonNullable<
  NonNullable<Parameters<typeof Connection.connect>[0]>['interceptors']
>[number];

const token = () => `trips-${randomBytes(12).toString('hex')}`;
const tokens = { app: token(), other: token() };

describe('HTTP journey: frontend round trips', function () {
  this.timeout(120_000);
  const stack = verificationStack();
  /** The frontend methods the HTTP service's connection called, in order. */
  const calls: string[] = [];
  let connection: Connection;

  before(async () => {
    const countCalls: GrpcInterceptor = (options, nextCall) => {
      calls.push(options.method_definition.path.replace(/^.*\//, ''));
      return nextCall(options) as ReturnType<GrpcInterceptor>;
    };
    // After the SDK's retry interceptor, which `interceptors` replaces unless listed: each attempt counts.
    connection = await Connection.connect({
      address: stack.env.address,
      interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), countCalls],
    });
  });
  after(async () => connection?.close());

  async function withApp<T>(rig: VerificationRig, fn: (app: FastifyInstance) => Promise<T>): Promise<T> {
    const client = new Client({ connection, namespace: stack.env.namespace ?? 'default' });
    const app = await buildHttpApp({
      verifications: new VerificationClient(client, rig.taskQueue),
      callers: [
        { name: 'app-backend', tokens: [tokens.app], operator: false },
        { name: 'support-tool', tokens: [tokens.other], operator: false },
      ],
    });
    try {
      return await fn(app);
    } finally {
      await app.close();
    }
  }

  function call(
    app: FastifyInstance,
    who: keyof typeof tokens,
    method: 'GET' | 'POST',
    url: string,
    payload?: object,
    key?: string,
  ) {
    return app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tokens[who]}`, ...(key ? { 'idempotency-key': key } : {}) },
      ...(payload ? { payload } : {}),
    });
  }

  /** The calls `step` made, and nothing before it. */
  async function counted<T>(step: () => Promise<T>): Promise<{ answer: T; made: string[] }> {
    calls.length = 0;
    const answer = await step();
    return { answer, made: [...calls] };
  }

  it('starts, takes the code and answers the outcome in the fewest frontend calls, keeping every refusal', async function () {
    await withVerificationWorker(stack.env, stack.sandbox, (rig) =>
      withApp(rig, async (app) => {
        const { customerId } = await rig.control.addCustomer();
        const id = verificationWorkflowId(customerId);
        const start = await counted(() =>
          call(
            app,
            'app',
            'POST',
            '/verifications',
            { customerId, change: { email: 'trips@example.com' } },
            uniqueName('start'),
          ),
        );
        assert.equal(start.answer.statusCode, 201, start.answer.body);
        const code = await rig.control.latestOtp(customerId);

        // Another caller first: refused as a missing flow by the describe alone, and it cost the owner nothing.
        const foreign = await counted(() =>
          call(app, 'other', 'POST', `/verifications/${id}/otp`, { customerId, code }, 'k-foreign'),
        );
        assert.equal(foreign.answer.statusCode, 404, foreign.answer.body);
        assert.equal(foreign.answer.json<{ error: string }>().error, 'NOT_FOUND');
        assert.deepEqual(foreign.made, ['DescribeWorkflowExecution'], 'no update reached the flow');

        const state = await counted(() => call(app, 'app', 'GET', `/verifications/${id}`));
        assert.equal(state.answer.json<{ step: string }>().step, 'AWAITING_INPUT');
        assert.deepEqual(state.made, ['QueryWorkflow'], 'the state of the run the start made');

        const otpKey = uniqueName('otp');
        const otp = await counted(() =>
          call(app, 'app', 'POST', `/verifications/${id}/otp`, { customerId, code }, otpKey),
        );
        assert.deepEqual(otp.answer.json(), { verdict: 'ACCEPTED' });
        const outcome = await counted(() => call(app, 'app', 'GET', `/verifications/${id}/outcome`));
        assert.equal(outcome.answer.json<{ status: string }>().status, 'MODIFIED');

        // The start's key is looked up before it (a finished run with it must not start again); the
        // update-with-start answers with the challenge itself; the code goes to the run the start made;
        // the outcome, a read that a closed run answers too, still asks which run is the latest.
        assert.deepEqual(
          { start: start.made, otp: otp.made, outcome: outcome.made },
          {
            start: ['DescribeWorkflowExecution', 'ExecuteMultiOperation'],
            otp: ['UpdateWorkflowExecution'],
            outcome: ['DescribeWorkflowExecution', 'GetWorkflowExecutionHistory'],
          },
        );

        // Finished: the same key still answers its verdict, a new one is 409 with the status, a foreign caller 404.
        const replay = await call(
          app,
          'app',
          'POST',
          `/verifications/${id}/otp`,
          { customerId, code },
          otpKey,
        );
        assert.deepEqual(replay.json(), { verdict: 'ACCEPTED' });
        const late = await call(
          app,
          'app',
          'POST',
          `/verifications/${id}/otp`,
          { customerId, code },
          uniqueName('late'),
        );
        assert.equal(late.statusCode, 409, late.body);
        assert.deepEqual(
          { ...late.json<object>(), message: undefined },
          { error: 'VERIFICATION_FINISHED', verificationId: id, status: 'COMPLETED', message: undefined },
        );
        const foreignLate = await call(
          app,
          'other',
          'POST',
          `/verifications/${id}/otp`,
          { customerId, code },
          otpKey,
        );
        assert.equal(foreignLate.statusCode, 404, foreignLate.body);
      }),
    );
  });

  it("follows a newer run the process did not start: its own is reached, another caller's is a 404", async function () {
    await withVerificationWorker(stack.env, stack.sandbox, (rig) =>
      withApp(rig, async (app) => {
        const { customerId } = await rig.control.addCustomer();
        const id = verificationWorkflowId(customerId);
        const input = { customerId, change: { email: 'stale@example.com' } };
        const first = await call(app, 'app', 'POST', '/verifications', input);
        assert.equal(first.statusCode, 201, first.body);
        const cancelled = await call(app, 'app', 'POST', `/verifications/${id}/cancel`, { customerId });
        assert.equal(cancelled.statusCode, 202, cancelled.body);
        const firstRun = stack.env.client.workflow.getHandle(id, first.json<{ runId: string }>().runId);
        assert.equal((await firstRun.result()).status, 'CANCELLED');

        // A read of the remembered run once it has closed: refused by the closed run, then asked as before.
        const closedState = await counted(() => call(app, 'app', 'GET', `/verifications/${id}`));
        assert.equal(
          closedState.answer.json<{ outcome: string }>().outcome,
          'CANCELLED',
          closedState.answer.body,
        );
        assert.deepEqual(closedState.made, ['QueryWorkflow', 'DescribeWorkflowExecution', 'QueryWorkflow']);

        // A second run started here, then ended and followed by a third through another process
        // (another client on another connection): this app still remembers the second, which has closed.
        const second = await call(app, 'app', 'POST', '/verifications', input);
        assert.equal(second.statusCode, 201, second.body);
        const elsewhere = new VerificationClient(stack.env.client, rig.taskQueue, { caller: 'app-backend' });
        await elsewhere.cancel(customerId);
        const secondRun = stack.env.client.workflow.getHandle(id, second.json<{ runId: string }>().runId);
        assert.equal((await secondRun.result()).status, 'CANCELLED');
        const third = await elsewhere.start(input);
        const code = await rig.control.latestOtp(customerId);
        const otp = await counted(() =>
          call(app, 'app', 'POST', `/verifications/${id}/otp`, { customerId, code }, uniqueName('otp')),
        );
        assert.deepEqual(otp.answer.json(), { verdict: 'ACCEPTED' }, 'the newer run took the code');
        assert.deepEqual(otp.made, [
          'UpdateWorkflowExecution',
          'DescribeWorkflowExecution',
          'UpdateWorkflowExecution',
        ]);
        assert.equal((await elsewhere.result(customerId)).status, 'MODIFIED');

        // Now another caller's run follows this caller's: the remembered run is not a way into it.
        const fourth = await new VerificationClient(stack.env.client, rig.taskQueue, {
          caller: 'support-tool',
        }).start(input);
        assert.notEqual(fourth.runId, third.runId);
        const stateRefused = await counted(() => call(app, 'app', 'GET', `/verifications/${id}`));
        assert.equal(stateRefused.answer.statusCode, 404, stateRefused.answer.body);
        assert.deepEqual(
          stateRefused.made,
          ['QueryWorkflow', 'DescribeWorkflowExecution'],
          'refused by the closed run',
        );
        const otherCode = await rig.control.latestOtp(customerId);
        const refused = await call(
          app,
          'app',
          'POST',
          `/verifications/${id}/otp`,
          { customerId, code: otherCode },
          uniqueName('otp'),
        );
        assert.equal(refused.statusCode, 404, refused.body);
        const theirs = await call(app, 'other', 'GET', `/verifications/${id}`);
        assert.equal(
          theirs.json<{ attemptsLeft: number }>().attemptsLeft,
          5,
          'no attempt of theirs was spent',
        );
        await stack.env.client.workflow.getHandle(id).terminate('test over');
      }),
    );
  });
});
