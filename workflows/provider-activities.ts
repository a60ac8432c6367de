/**
 * The provider activities as the workflows call them. One retry policy for every provider call, bounded:
 * an unknown answer is retried for minutes, never forever; a final "no" is a non-retryable failure
 * raised by the activity itself.
 */
import {
  proxyActivities,
  proxyLocalActivities,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { DwsActivities } from '../activities/dws/types.js';
import type { WonderActivities } from '../activities/wonder/types.js';

export const providerCall: ActivityOptions = {
  startToCloseTimeout: '20 seconds',
  scheduleToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 12,
  },
};

export const dws = proxyActivities<DwsActivities>(providerCall);
export const wonder = proxyActivities<WonderActivities>(providerCall);

/**
 * The calls a user waits on (sending the code, checking it) run as local activities: in the workflow
 * task that needs them, with no activity task to dispatch and no second workflow task for the result.
 * The same bounded retry and the same request ids (made in the workflow, replayed unchanged after a
 * crash). Backoffs longer than the threshold become durable timers instead of holding the workflow task.
 */
export const userFacingCall: LocalActivityOptions = {
  startToCloseTimeout: providerCall.startToCloseTimeout,
  scheduleToCloseTimeout: providerCall.scheduleToCloseTimeout,
  retry: providerCall.retry,
  localRetryThreshold: '2 seconds',
};

export const dwsLocal = proxyLocalActivities<DwsActivities>(userFacingCall);

/**
 * The consult's first seconds, local: it runs in the flow's first workflow task, beside the trigger that
 * follows it, so the code goes out in that task. Three attempts (at 0, 1 s and 3 s) cover a normal answer
 * and two quick retries of an unknown one. They are counted, not timed: the SDK's scheduleToCloseTimeout
 * does not stop a local activity's retries (seen with sdk 1.24: a U answered for ever was retried at 7 s
 * and 15 s). A consult still without a final answer then carries on as the activity
 * `dws.consultModification`, with the same requestId: a pending activity with its attempt count, where
 * operators look for a flow stuck at the provider (docs/operators.md#the-list). With sdk 1.24 an attempt
 * after the first can be cut short by the previous attempt's start-to-close timer, which sdk-core leaves
 * running (TimeoutBag::mark_started); the last attempt's timeout then replays bare (provider-failure.ts).
 */
export const consultLocalBudget: LocalActivityOptions = {
  startToCloseTimeout: '3 seconds',
  scheduleToCloseTimeout: '10 seconds',
  retry: { ...providerCall.retry, maximumAttempts: 3 },
};

export const dwsConsultLocal =
  proxyLocalActivities<Pick<DwsActivities, 'consultModification'>>(consultLocalBudget);
