/**
 * The Wonder activity's input checked before anything is sent. It arrives through workflow history, not
 * only from typed code, so every field is checked at run time; a refusal names the field, never its value.
 */
import { invalidInput } from '../shared/provider-call.js';
import { wonderFailureTypes } from './outcomes.js';
import {
  wonderLangs,
  type PutWonderCustomerInput,
  type WonderCustomerUpdate,
  type WonderRequestOptions,
} from './types.js';
import { validateWonderCustomerUpdate, WonderInputError } from './update.js';

/** X-Request-ID: printable ASCII without spaces, as HTTP headers and the provider's logs take it. */
const REQUEST_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;
const MAX_PATH_ID_LENGTH = 255;

/** The create page caps reference_number at 255 characters. */
const MAX_REFERENCE_LENGTH = 255;

export interface PutCustomerRequest {
  uuid: string;
  /** the reference_number the record at `uuid` must carry before anything is written */
  referenceNumber: string;
  update: WonderCustomerUpdate;
  options: WonderRequestOptions;
}

export function putCustomerRequest(input: PutWonderCustomerInput): PutCustomerRequest {
  try {
    const { requestId, customerUuid, referenceNumber, lang } = input ?? {};
    if (requestId === undefined) {
      throw new WonderInputError('requestId', 'must be given: it is the idempotency key every retry reuses');
    }
    if (typeof requestId !== 'string' || !REQUEST_ID_PATTERN.test(requestId)) {
      throw new WonderInputError('requestId', 'must be 1 to 128 printable characters without spaces');
    }
    if (
      typeof customerUuid !== 'string' ||
      customerUuid.trim() === '' ||
      customerUuid.length > MAX_PATH_ID_LENGTH
    ) {
      throw new WonderInputError(
        'customerUuid',
        `must be a non-empty string of at most ${MAX_PATH_ID_LENGTH} characters`,
      );
    }
    if (referenceNumber === undefined) {
      // A flow started before the field was required: without it the record's owner cannot be checked.
      throw new WonderInputError(
        'referenceNumber',
        "must be given: a Wonder record is written only once it is known to carry the customer's reference_number",
      );
    }
    if (
      typeof referenceNumber !== 'string' ||
      referenceNumber.trim() === '' ||
      referenceNumber.length > MAX_REFERENCE_LENGTH
    ) {
      throw new WonderInputError(
        'referenceNumber',
        `must be a non-empty string of at most ${MAX_REFERENCE_LENGTH} characters`,
      );
    }
    if (lang !== undefined && !wonderLangs.includes(lang)) {
      throw new WonderInputError('lang', `must be one of ${wonderLangs.join(', ')}`);
    }
    const update = validateWonderCustomerUpdate(input.update);
    return {
      uuid: customerUuid,
      referenceNumber,
      update,
      options: { requestId, ...(lang ? { lang } : {}) },
    };
  } catch (error) {
    if (!(error instanceof WonderInputError)) throw error;
    throw invalidInput(wonderFailureTypes.invalidInput, 'Wonder putCustomer', error.field, error.reason);
  }
}
