import assert from 'node:assert/strict';
import {
  QueryNotRegisteredError,
  QueryRejectedError,
  ServiceError,
  WorkflowContinuedAsNewError,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import {
  ApplicationFailure,
  CancelledFailure,
  NamespaceNotFoundError,
  RetryState,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/common';
import proto from '@temporalio/proto';
import {
  InvalidVerificationInputError,
  unavailableFrom,
  VerificationAlreadyRunningError,
  VerificationFinishedError,
  VerificationNotFoundError,
  VerificationUnavailableError,
} from '@dws-verify/client';
import {
  grpcCodes,
  meaningOf,
  waitEndedUnanswered,
  type SdkErrorMeaning,
} from '../../client/temporal-errors.js';
import { answerFor } from '../../http/error-answers.js';
import { callerFailure } from '../../workflows/failures.js';

/** A gRPC error as grpc-js raises it, with the status details the Temporal server attaches. */
function grpcError(code: number, detailTypes: string[] = []): Error {
  const details = proto.google.rpc.Status.encode({
    code,
    details: detailTypes.map((type) => ({
      type_url: `type.googleapis.com/${type}`,
      value: new Uint8Array(),
    })),
  }).finish();
  const metadata = {
    get: (key: string) => (key === 'grpc-status-details-bin' ? [Buffer.from(details)] : []),
  };
  return Object.assign(new Error(`${code} gRPC`), { code, details: 'detail', metadata });
}

const wrapped = (code: number, detailTypes: string[] = []) =>
  new ServiceError('Failed to query Workflow', { cause: grpcError(code, detailTypes) });

const notReady = 'temporal.api.errordetails.v1.WorkflowNotReadyFailure';
const updateFailed = (cause: Error) => new WorkflowUpdateFailedError('Workflow Update failed', cause);
const workflowFailed = (cause: Error) =>
  new WorkflowFailedError('Workflow execution failed', cause, RetryState.NON_RETRYABLE_FAILURE);
const completed = proto.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED;

describe('what an SDK error means to the client library (by class, failure type and gRPC status)', function () {
  const cases: [string, unknown, SdkErrorMeaning][] = [
    [
      'describe/signal/query/result: WorkflowNotFoundError',
      new WorkflowNotFoundError('gone', 'w', undefined),
      { kind: 'no-run' },
    ],
    [
      'start: WorkflowExecutionAlreadyStartedError',
      new WorkflowExecutionAlreadyStartedError('x', 'w', 't'),
      { kind: 'already-started' },
    ],
    [
      'update-with-start: the failing start operation, raw',
      grpcError(grpcCodes.ALREADY_EXISTS),
      { kind: 'already-started' },
    ],
    [
      'update-with-start: the failing update operation, raw',
      grpcError(grpcCodes.NOT_FOUND),
      { kind: 'no-run' },
    ],
    [
      'update: the validator VERIFICATION_FINISHED',
      updateFailed(callerFailure('VERIFICATION_FINISHED', 'done')),
      { kind: 'closed' },
    ],
    [
      'update: the validator CODE_FORMAT',
      updateFailed(callerFailure('CODE_FORMAT', 'code must be 4 to 8 digits')),
      { kind: 'invalid-code', message: 'code must be 4 to 8 digits' },
    ],
    [
      'update: accepted, then the run closed (server)',
      updateFailed(ApplicationFailure.create({ type: 'AcceptedUpdateCompletedWorkflow', message: 'm' })),
      { kind: 'closed' },
    ],
    // The words of the old message match; the type does not: the meaning follows the type.
    [
      'update: an untyped failure saying "already finished"',
      updateFailed(ApplicationFailure.create({ message: 'the verification has already finished' })),
      { kind: 'unexpected' },
    ],
    ['update: a plain Error cause', updateFailed(new Error('already finished')), { kind: 'unexpected' }],
    [
      'update: the call timed out',
      new WorkflowUpdateRPCTimeoutOrCancelledError('t'),
      { kind: 'outage', reason: 'NO_ANSWER_IN_TIME' },
    ],
    [
      'result: terminated',
      workflowFailed(new TerminatedFailure('t')),
      { kind: 'closed', status: 'TERMINATED' },
    ],
    [
      'result: timed out',
      workflowFailed(new TimeoutFailure('t', undefined, 'START_TO_CLOSE' as never)),
      { kind: 'closed', status: 'TIMED_OUT' },
    ],
    ['result: cancelled', workflowFailed(new CancelledFailure('c')), { kind: 'closed', status: 'CANCELLED' }],
    [
      'result: failed',
      workflowFailed(ApplicationFailure.create({ message: 'boom' })),
      { kind: 'closed', status: 'FAILED' },
    ],
    [
      'result: continued as new (never followed here)',
      new WorkflowContinuedAsNewError('c', 'r2'),
      { kind: 'unexpected' },
    ],
    [
      'query: rejected for the run status',
      new QueryRejectedError(completed),
      { kind: 'closed', status: 'COMPLETED' },
    ],
    [
      'query: not registered',
      new QueryNotRegisteredError('q', grpcCodes.INVALID_ARGUMENT as never),
      { kind: 'unexpected' },
    ],
    [
      'query: a run closed before any worker ran it',
      wrapped(grpcCodes.FAILED_PRECONDITION, [notReady]),
      { kind: 'not-ready' },
    ],
    [
      'query: no worker polls the task queue (FAILED_PRECONDITION without a detail)',
      wrapped(grpcCodes.FAILED_PRECONDITION),
      { kind: 'not-ready' },
    ],
    [
      'any: invalid argument (a deployment fault, not an outage)',
      wrapped(grpcCodes.INVALID_ARGUMENT),
      { kind: 'unexpected' },
    ],
    [
      'any: server unavailable',
      wrapped(grpcCodes.UNAVAILABLE),
      { kind: 'outage', reason: 'TEMPORAL_UNREACHABLE' },
    ],
    ['any: deadline', wrapped(grpcCodes.DEADLINE_EXCEEDED), { kind: 'outage', reason: 'NO_ANSWER_IN_TIME' }],
    [
      'any: cancelled by the bound',
      wrapped(grpcCodes.CANCELLED),
      { kind: 'outage', reason: 'NO_ANSWER_IN_TIME' },
    ],
    ['any: rate limited', wrapped(grpcCodes.RESOURCE_EXHAUSTED), { kind: 'outage', reason: 'TEMPORAL_BUSY' }],
    [
      'any: credentials refused',
      wrapped(grpcCodes.UNAUTHENTICATED),
      { kind: 'outage', reason: 'TEMPORAL_UNREACHABLE' },
    ],
    [
      'any: no gRPC status at all',
      new ServiceError('Unexpected error while making gRPC request'),
      { kind: 'outage', reason: 'TEMPORAL_UNREACHABLE' },
    ],
    [
      'any: unknown namespace',
      new NamespaceNotFoundError('nope'),
      { kind: 'outage', reason: 'NAMESPACE_UNKNOWN' },
    ],
    ['a bug of ours', new TypeError('x is undefined'), { kind: 'unexpected' }],
  ];
  for (const [name, err, meaning] of cases) {
    it(name, function () {
      assert.deepEqual(meaningOf(err), meaning);
    });
  }

  it('names the unknown namespace in the outage it maps to', function () {
    const error = unavailableFrom(new NamespaceNotFoundError('payments'), 'start', 10_000);
    assert.equal(error?.reason, 'NAMESPACE_UNKNOWN');
    assert.match(error?.message ?? '', /"payments"/);
    assert.equal(unavailableFrom(wrapped(grpcCodes.INVALID_ARGUMENT), 'start', 10_000), undefined);
  });
});

describe("the HTTP answer for each of the library's errors", function () {
  const cases: [Error, number, string][] = [
    [new InvalidVerificationInputError('code', 'code must be 4 to 8 digits'), 400, 'BAD_REQUEST'],
    [new VerificationNotFoundError('contact-change-1'), 404, 'NOT_FOUND'],
    [new VerificationFinishedError('contact-change-1', 'TERMINATED'), 409, 'VERIFICATION_FINISHED'],
    [new VerificationAlreadyRunningError('contact-change-1'), 409, 'ALREADY_RUNNING'],
    [new VerificationUnavailableError('NO_ANSWER_IN_TIME', 5, 'no answer'), 503, 'TEMPORAL_UNAVAILABLE'],
  ];
  for (const [error, statusCode, code] of cases) {
    it(`${error.name} → ${statusCode} ${code}`, function () {
      const answer = answerFor(error);
      assert.equal(answer?.statusCode, statusCode);
      assert.equal(answer?.body.error, code);
    });
  }

  it('answers an SDK error no mapping knows as nothing (the handler logs it and answers 500)', function () {
    assert.equal(answerFor(wrapped(grpcCodes.INVALID_ARGUMENT)), undefined);
    assert.equal(answerFor(new TypeError('x is undefined')), undefined);
  });
});

describe("the outcome's wait: when it ended without the close event", function () {
  it('takes the deadline and a poll the server gave up (CANCELLED) as "not finished yet", nothing else', function () {
    assert.equal(waitEndedUnanswered(wrapped(grpcCodes.DEADLINE_EXCEEDED)), true);
    assert.equal(waitEndedUnanswered(wrapped(grpcCodes.CANCELLED)), true);
    assert.equal(waitEndedUnanswered(grpcError(grpcCodes.CANCELLED)), true);
    // An outage stays an outage: the route answers 503, not "still running".
    assert.equal(waitEndedUnanswered(wrapped(grpcCodes.UNAVAILABLE)), false);
    assert.equal(waitEndedUnanswered(wrapped(grpcCodes.NOT_FOUND)), false);
    assert.equal(waitEndedUnanswered(new Error('no gRPC status')), false);
  });
});
