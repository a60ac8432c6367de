/**
 * The one shape of a provider activity, for DWS and Wonder alike:
 *
 *   validate → call → classify → log one line → throw the ApplicationFailure that decides the retry
 *
 * The steps are the provider's; the order, the log line and the throw live here once, so no activity can
 * log twice, forget to log a refusal, or throw a failure that does not say whether a retry can help.
 */
import { trace } from '@opentelemetry/api';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { spanAttributes } from '../../observability/tracing.js';
import { unexpectedFailure } from './errors.js';

export type Outcome<T> = { ok: true; value: T } | { ok: false; failure: ApplicationFailure };

export type LogFields = Record<string, string | number | boolean | readonly string[] | undefined>;

/** Where the line goes: the activity's logger by default; tests pass their own. Temporal's Logger fits. */
export interface CallLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

export interface ProviderCall<Request, Answer, Output> {
  /** e.g. 'DWS', 'Wonder': the start of every line and failure message */
  provider: string;
  /** the provider's name of the call, e.g. 'modifyCustomer' */
  api: string;
  /** the activity's name, when it differs from the api (two activities share modifyCustomer) */
  activity: string;
  /** identifiers for the operator; never a code, a PIN, a full phone number or an email */
  fields: LogFields;
  /** throws the non-retryable input failure; nothing is sent */
  validate(): Request;
  /** the provider's authenticated answer, or thrown: the ApplicationFailure of an exchange without one */
  call(request: Request, signal: AbortSignal | undefined): Promise<Answer>;
  /** what the line says about the answer (result status and code, never personal data) */
  describe(answer: Answer, request: Request): LogFields;
  /** the answer as the workflow's value, or as the failure that ends or retries the activity */
  classify(answer: Answer, request: Request): Outcome<Output>;
}

export async function runProviderCall<Request, Answer, Output>(
  spec: ProviderCall<Request, Answer, Output>,
  logger: CallLogger | undefined,
): Promise<Output> {
  const context = activityContext();
  const log = logger ?? context?.log;
  const label = `${spec.provider} ${spec.api}`;
  const line: LogFields = { api: spec.api, activity: spec.activity, ...spec.fields };
  line.attempt = context?.info.attempt;

  let outcome: Outcome<Output>;
  try {
    const request = spec.validate();
    const answer = await spec.call(request, context?.cancellationSignal);
    Object.assign(line, spec.describe(answer, request));
    outcome = spec.classify(answer, request);
  } catch (error) {
    // validate() and call() throw the failure they decided; anything else is a bug of ours.
    outcome = {
      ok: false,
      failure: error instanceof ApplicationFailure ? error : unexpectedFailure(label, error),
    };
  }

  describeOnSpan(spec, line, context, outcome);
  if (outcome.ok) {
    const said = line.resultStatus ?? line.httpStatus;
    log?.info(said === undefined ? `${label} answered` : `${label} answered ${String(said)}`, line);
    return outcome.value;
  }
  log?.warn(`${label} failed`, {
    ...line,
    failureType: outcome.failure.type,
    retryable: !outcome.failure.nonRetryable,
  });
  throw outcome.failure;
}

/**
 * An activity input the workflow should never have sent: final, since the same input fails again. The
 * message names the field, never its value (it may be an email address or a phone number).
 */
export function invalidInput(type: string, label: string, field: string, reason: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${label} not sent: ${field} ${reason}`,
    type,
    nonRetryable: true,
    details: [{ field }],
  });
}

/**
 * The activity's span (the OpenTelemetry activity interceptor's, when tracing is on) says which
 * verification, step and provider, and what the provider answered: identifiers and result codes only.
 */
function describeOnSpan(
  spec: Pick<ProviderCall<unknown, unknown, unknown>, 'provider' | 'api' | 'activity'>,
  line: LogFields,
  context: Context | undefined,
  outcome: Outcome<unknown>,
): void {
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return;
  const workflowId = context?.info.workflowExecution?.workflowId;
  span.setAttributes({
    [spanAttributes.provider]: spec.provider,
    [spanAttributes.providerApi]: spec.api,
    [spanAttributes.step]: spec.activity,
    ...(workflowId ? { [spanAttributes.verificationId]: workflowId } : {}),
    // The interceptor names local and ordinary activities alike; which one ran is worth seeing.
    ...(context ? { [spanAttributes.localActivity]: context.info.isLocal } : {}),
    ...(typeof line.resultStatus === 'string' ? { [spanAttributes.resultStatus]: line.resultStatus } : {}),
    ...(typeof line.resultCode === 'string' ? { [spanAttributes.resultCode]: line.resultCode } : {}),
    ...(outcome.ok ? {} : { 'dws.failure_type': outcome.failure.type ?? 'unknown' }),
  });
}

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}
