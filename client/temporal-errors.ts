/**
 * The one place the library reads what the Temporal SDK threw: by the SDK's error classes, the
 * `ApplicationFailure` type a workflow or the server set, and the gRPC status code and details, never by
 * message text. Pure: it says what an error means; turning a meaning into the library's typed error,
 * which may take a describe (a finished run and a missing one answer alike to some calls), is
 * ./flow-calls.ts's.
 */
import {
  isGrpcCancelledError,
  isGrpcDeadlineError,
  isGrpcServiceError,
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
  TerminatedFailure,
  TimeoutFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/common';
import proto from '@temporalio/proto';
import { callerFailureType } from '../workflows/failures.js';
import type { UnavailableReason } from './errors.js';

/** What an SDK error says about the workflow the call was for. */
export type SdkErrorMeaning =
  /** nothing under the id answered: no run exists, or the latest has closed (a describe tells which) */
  | { kind: 'no-run' }
  /** the run has closed; `status` when the error itself names it (Temporal's status name) */
  | { kind: 'closed'; status?: string }
  /** a start found the id taken by a run that has not closed (as far as the server knew) */
  | { kind: 'already-started' }
  /** verifyOtp's validator refused the code's format; nothing was recorded */
  | { kind: 'invalid-code'; message: string }
  /** the server cannot answer from this run yet: closed before any worker ran it, or its task keeps failing */
  | { kind: 'not-ready' }
  | { kind: 'outage'; reason: UnavailableReason }
  /** not a state this library's calls can meet: a bug or a misconfiguration, logged and answered 500 */
  | { kind: 'unexpected' };

// gRPC status codes (grpc-js `status`): the library does not depend on grpc-js directly.
export const grpcCodes = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/**
 * Codes that say the server did not take or finish the call, not what it thinks of the workflow: the
 * same call later may well succeed. Credentials refused are here too: from the caller's side the
 * service cannot reach Temporal, which is what the 503 says, and the operator's log says why.
 */
const outageCodes = new Set<number>([
  grpcCodes.CANCELLED,
  grpcCodes.UNKNOWN,
  grpcCodes.DEADLINE_EXCEEDED,
  grpcCodes.PERMISSION_DENIED,
  grpcCodes.RESOURCE_EXHAUSTED,
  grpcCodes.ABORTED,
  grpcCodes.INTERNAL,
  grpcCodes.UNAVAILABLE,
  grpcCodes.UNAUTHENTICATED,
]);

/** The server's own update failure for an update accepted by a run that then closed. */
const acceptedUpdateCompletedWorkflow = 'AcceptedUpdateCompletedWorkflow';

interface GrpcLike {
  code: number;
  metadata: { get(key: string): unknown[] };
}

/** The gRPC error an SDK error stands on: itself, or the cause a ServiceError wraps. */
function grpcErrorOf(err: unknown): GrpcLike | undefined {
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e)) return e as unknown as GrpcLike;
  }
  return undefined;
}

/** Temporal's status name for a closed run, from the failure its result carries. */
function closedStatusOf(err: WorkflowFailedError): string {
  if (err.cause instanceof TerminatedFailure) return 'TERMINATED';
  if (err.cause instanceof TimeoutFailure) return 'TIMED_OUT';
  if (err.cause instanceof CancelledFailure) return 'CANCELLED';
  return 'FAILED';
}

function statusName(code: number): string {
  const name = proto.temporal.api.enums.v1.WorkflowExecutionStatus[code] ?? 'UNSPECIFIED';
  return name.replace(/^WORKFLOW_EXECUTION_STATUS_/, '');
}

/**
 * Whether a long poll (the outcome's wait for the close event) ended without an answer: the client's
 * deadline, or the server giving up the poll as that deadline nears, which it may answer CANCELLED
 * instead of DEADLINE_EXCEEDED. Either way the run had not closed when the wait ended.
 */
export function waitEndedUnanswered(err: unknown): boolean {
  return isGrpcDeadlineError(err) || isGrpcCancelledError(err);
}

/** The outage an SDK error stands for, or undefined when it is an answer about the workflow. */
export function outageReason(err: unknown): UnavailableReason | undefined {
  if (err instanceof NamespaceNotFoundError) return 'NAMESPACE_UNKNOWN';
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return 'NO_ANSWER_IN_TIME';
  if (waitEndedUnanswered(err)) return 'NO_ANSWER_IN_TIME';
  const grpc = grpcErrorOf(err);
  // A ServiceError without a gRPC status: the SDK could not even make the call (the connection failed).
  if (!grpc) return err instanceof ServiceError ? 'TEMPORAL_UNREACHABLE' : undefined;
  if (grpc.code === grpcCodes.RESOURCE_EXHAUSTED) return 'TEMPORAL_BUSY';
  return outageCodes.has(grpc.code) ? 'TEMPORAL_UNREACHABLE' : undefined;
}

/**
 * What the error means, for every error the SDK raises on the calls the library makes:
 * start and update-with-start (WorkflowExecutionAlreadyStartedError; a multi-operation failure is
 * rethrown by the SDK as the failing operation's raw gRPC error), executeUpdate
 * (WorkflowUpdateFailedError with the validator's or the server's failure type,
 * WorkflowUpdateRPCTimeoutOrCancelledError), query (QueryRejectedError, QueryNotRegisteredError,
 * WorkflowNotReady), signal, describe and result (WorkflowNotFoundError, WorkflowFailedError), and the
 * outages any call can meet.
 */
export function meaningOf(err: unknown): SdkErrorMeaning {
  if (err instanceof WorkflowNotFoundError) return { kind: 'no-run' };
  if (err instanceof WorkflowExecutionAlreadyStartedError) return { kind: 'already-started' };
  if (err instanceof WorkflowUpdateFailedError) return updateFailureMeaning(err.cause);
  if (err instanceof WorkflowFailedError) return { kind: 'closed', status: closedStatusOf(err) };
  // Only sent when a call asks for a reject condition; the status is then the run's.
  if (err instanceof QueryRejectedError) return { kind: 'closed', status: statusName(err.status) };
  // Every run of these workflow types registers the state query: a worker without it is a deployment fault.
  if (err instanceof QueryNotRegisteredError) return { kind: 'unexpected' };
  // Runs are always followed to their last; an error naming a next run is a misuse of the SDK here.
  if (err instanceof WorkflowContinuedAsNewError) return { kind: 'unexpected' };
  const reason = outageReason(err);
  if (reason) return { kind: 'outage', reason };
  const grpc = grpcErrorOf(err);
  // The server's two refusals of a call no worker can answer now: a run closed before its first task
  // (with a WorkflowNotReadyFailure detail), and a query to a task queue no worker polls ("no poller seen
  // recently", no detail). Both are settled the same way: describe says closed (finished) or running (503).
  if (grpc?.code === grpcCodes.FAILED_PRECONDITION) return { kind: 'not-ready' };
  // Raw, not as WorkflowNotFoundError: the SDK rethrows an update-with-start's failing operation as is.
  if (grpc?.code === grpcCodes.NOT_FOUND) return { kind: 'no-run' };
  if (grpc?.code === grpcCodes.ALREADY_EXISTS) return { kind: 'already-started' };
  return { kind: 'unexpected' };
}

function updateFailureMeaning(cause: unknown): SdkErrorMeaning {
  switch (callerFailureType(cause)) {
    case 'VERIFICATION_FINISHED':
      return { kind: 'closed' };
    case 'CODE_FORMAT':
      return { kind: 'invalid-code', message: (cause as ApplicationFailure).message };
    case undefined:
      break;
  }
  if (cause instanceof ApplicationFailure && cause.type === acceptedUpdateCompletedWorkflow)
    return { kind: 'closed' };
  return { kind: 'unexpected' };
}
