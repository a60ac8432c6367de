/**
 * A provider call's last failure reaches the workflow in two shapes, and both must be read the same way,
 * or a replay takes another path than its run (a nondeterminism error that stops the flow).
 */
import assert from 'node:assert/strict';
import { DefaultFailureConverter, defaultPayloadConverter, type ProtoFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import { providerFailure, stillUnanswered } from '../../workflows/provider-failure.js';

const { TimeoutType, RetryState } = proto.temporal.api.enums.v1;
const converter = new DefaultFailureConverter();
const asError = (failure: ProtoFailure) => converter.failureToError(failure, defaultPayloadConverter);

const timeout: ProtoFailure = {
  message: 'Activity timed out',
  timeoutFailureInfo: { timeoutType: TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE },
};
/** what a running workflow gets from sdk-core for a local activity whose last attempt timed out */
const wrappedTimeout: ProtoFailure = {
  message: 'Local Activity task timed out',
  activityFailureInfo: {
    activityType: { name: 'consultModification' },
    activityId: '2',
    retryState: RetryState.RETRY_STATE_TIMEOUT,
  },
  cause: timeout,
};
const retryableNo: ProtoFailure = {
  message: 'DWS modifyCustomer answered U',
  applicationFailureInfo: { type: 'UNKNOWN_EXCEPTION', nonRetryable: false },
};
const finalNo: ProtoFailure = {
  message: 'DWS modifyCustomer answered F',
  applicationFailureInfo: { type: 'USER_NOT_EXIST', nonRetryable: true },
};

describe('a provider failure, however it reached the workflow', function () {
  it('takes a local timeout replayed bare from its marker as the run took it wrapped', function () {
    const run = asError(wrappedTimeout);
    const replay = asError(timeout);
    assert.equal(stillUnanswered(run), true);
    assert.equal(stillUnanswered(replay), true);
    assert.deepEqual(providerFailure(replay), providerFailure(run));
    assert.deepEqual(providerFailure(run), {
      code: 'PROVIDER_UNAVAILABLE',
      message: 'no final answer from the provider within the retry budget',
      bare: false,
    });
  });

  it('still tells a retryable answer from a final one, wrapped or bare', function () {
    for (const failure of [retryableNo, { ...wrappedTimeout, cause: retryableNo }]) {
      assert.equal(stillUnanswered(asError(failure)), true, failure.message ?? '');
    }
    for (const failure of [finalNo, { ...wrappedTimeout, cause: finalNo }]) {
      assert.equal(stillUnanswered(asError(failure)), false, failure.message ?? '');
      assert.equal(providerFailure(asError(failure))?.code, 'USER_NOT_EXIST');
    }
    assert.equal(providerFailure(asError(finalNo))?.bare, true);
  });

  it("never takes the workflow's own errors for a provider's answer", function () {
    assert.equal(stillUnanswered(new Error('a bug')), false);
    assert.equal(providerFailure(new Error('a bug')), undefined);
  });
});
