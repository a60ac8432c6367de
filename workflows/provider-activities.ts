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
