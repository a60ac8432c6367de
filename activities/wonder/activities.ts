/**
 * The Wonder activity: carry a verified change to the gateway's customer record, in the shared shape
 * (shared/provider-call.ts): validate (validate.ts), call (client.ts), classify (outcomes.ts), one log
 * line, and the ApplicationFailure that decides the retry. The workflow makes the requestId once and
 * passes it in, so every retry sends the same X-Request-ID and the provider applies the update once. The
 * result holds no personal data (it enters workflow history): which fields the update set or cleared, and
 * the record's identifiers.
 *
 * Two provider calls, each through that shape: a read of the record Wonder keeps under the merchant's
 * reference_number, then the PUT, sent only when that record is the uuid named. The uuid comes from the
 * backend and proves nothing about whose record it is; the reference_number is the merchant's own key for
 * the customer who proved possession, so the gateway can say whether the two belong together. A retry
 * repeats the read (it changes nothing) and the PUT (same X-Request-ID, applied once).
 */
import { randomUUID } from 'node:crypto';
import { runProviderCall, type CallLogger } from '../shared/provider-call.js';
import type { WonderClient } from './client.js';
import { ownershipOutcome, putCustomerOutcome } from './outcomes.js';
import type { PutWonderCustomerInput, PutWonderCustomerResult, WonderActivities } from './types.js';
import { describeUpdate } from './update.js';
import { putCustomerRequest, type PutCustomerRequest } from './validate.js';

/** `logger` replaces the activity context's logger as the destination of the one line per call. */
export function createWonderActivities(client: WonderClient, logger?: CallLogger): WonderActivities {
  async function putWonderCustomer(input: PutWonderCustomerInput): Promise<PutWonderCustomerResult> {
    const fields = {
      requestId: input?.requestId,
      customerUuid: input?.customerUuid,
      referenceNumber: input?.referenceNumber,
    };
    const readRequestId = randomUUID();
    const cleared: PutCustomerRequest = await runProviderCall(
      {
        provider: 'Wonder',
        api: 'getCustomerByRef',
        activity: 'putWonderCustomer',
        fields: { ...fields, readRequestId },
        // The whole input is checked here, so a write that would be refused costs no read either.
        validate: () => putCustomerRequest(input),
        call: ({ referenceNumber, options }, signal) =>
          client.findCustomerByReference(referenceNumber, {
            requestId: readRequestId,
            ...(options.lang ? { lang: options.lang } : {}),
            signal,
          }),
        describe: (holder, { uuid }) => ({ referenceFound: !!holder, ownerMatches: holder?.uuid === uuid }),
        classify: (holder, request) => ownershipOutcome(holder, request),
      },
      logger,
    );

    return runProviderCall(
      {
        provider: 'Wonder',
        api: 'putCustomer',
        activity: 'putWonderCustomer',
        fields,
        validate: () => cleared,
        call: ({ uuid, update, options }, signal) => client.putCustomer(uuid, update, { ...options, signal }),
        describe: (_customer, { update }) => describeUpdate(update),
        classify: (customer, { update }) => putCustomerOutcome(customer, update),
      },
      logger,
    );
  }

  return { putWonderCustomer };
}
