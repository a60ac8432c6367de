import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';

/** A provider's final "no" (or its silence past the retry budget) as a code and a message. */
export function providerFailure(err: unknown): { code: string; message: string } | undefined {
  if (!(err instanceof ActivityFailure)) return undefined;
  const cause = err.cause;
  if (cause instanceof ApplicationFailure)
    return { code: cause.type ?? 'APPLICATION_FAILURE', message: cause.message };
  if (cause instanceof TimeoutFailure) {
    return {
      code: 'PROVIDER_UNAVAILABLE',
      message: `no final answer from the provider within the retry budget (${err.activityType})`,
    };
  }
  return { code: 'PROVIDER_FAILURE', message: cause?.message ?? err.message };
}
