/**
 * The provider activities as the workflows call them. One retry policy for every provider call, bounded:
 * an unknown answer is retried for minutes, never forever; a final "no" is a non-retryable failure
 * raised by the activity itself.
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { DwsActivities } from '../activities/dws/activities.js';
import type { WonderActivities } from '../activities/wonder/activities.js';

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
