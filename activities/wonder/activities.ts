/**
 * The Wonder activity: carry a verified change to the gateway's customer record, in the shared shape
 * (shared/provider-call.ts): validate (validate.ts), call (client.ts), classify (outcomes.ts), one log
 * line, and the ApplicationFailure that decides the retry. The workflow makes the requestId once and
 * passes it in, so every retry sends the same X-Request-ID and the provider applies the update once. The
 * result holds no personal data (it enters workflow history): which fields the update set or cleared, and
 * the record's identifiers.
 */
import { runProviderCall, type CallLogger } from '../shared/provider-call.js';
import type { WonderClient } from './client.js';
import { putCustomerOutcome } from './outcomes.js';
import type { PutWonderCustomerInput, PutWonderCustomerResult, WonderActivities } from './types.js';
import { describeUpdate } from './update.js';
import { putCustomerRequest } from './validate.js';

/** `logger` replaces the activity context's logger as the destination of the one line per call. */
export function createWonderActivities(client: WonderClient, logger?: CallLogger): WonderActivities {
  function putWonderCustomer(input: PutWonderCustomerInput): Promise<PutWonderCustomerResult> {
    return runProviderCall(
      {
        provider: 'Wonder',
        api: 'putCustomer',
        activity: 'putWonderCustomer',
        fields: { requestId: input?.requestId, customerUuid: input?.customerUuid },
        validate: () => putCustomerRequest(input),
        call: ({ uuid, update, options }, signal) => client.putCustomer(uuid, update, { ...options, signal }),
        describe: (_customer, { update }) => describeUpdate(update),
        classify: (customer, { update }) => putCustomerOutcome(customer, update),
      },
      logger,
    );
  }

  return { putWonderCustomer };
}
