/**
 * The Wonder activity: carry a verified change to the gateway's customer record. The workflow makes the
 * requestId once and passes it in, so every retry sends the same X-Request-ID and the provider applies
 * the update once. The result holds no personal data (it enters workflow history): which fields the
 * update set or cleared, and the record's identifiers.
 */
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { WonderClient } from './client.js';
import { wonderFailureTypes } from './outcomes.js';
import { describeUpdate, validateWonderCustomerUpdate, WonderInputError } from './update.js';
import type { WonderCustomerUpdate, WonderLang, WonderUpdateField } from './types.js';

export interface PutWonderCustomerInput {
  /** X-Request-ID; the same value on every retry of this logical call */
  requestId: string;
  /** Wonder's customer uuid (data.customer.uuid) */
  customerUuid: string;
  update: WonderCustomerUpdate;
  lang?: WonderLang;
}

export interface PutWonderCustomerResult {
  customer: {
    uuid: string;
    reference_number: string;
    /** fields the update set to a new value */
    changed: WonderUpdateField[];
    /** fields the update cleared (default_payment_method, default_payment_token) */
    cleared: WonderUpdateField[];
  };
}

export interface WonderActivityLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

function inActivity(): boolean {
  try {
    Context.current();
    return true;
  } catch {
    return false;
  }
}

/** The worker's activity logger (with the activity's own attributes) when running as an activity. */
const activityLogger: WonderActivityLogger = {
  info: (message, meta) => (inActivity() ? log.info(message, meta) : undefined),
  warn: (message, meta) => (inActivity() ? log.warn(message, meta) : undefined),
};

function attempt(): number | undefined {
  return inActivity() ? Context.current().info.attempt : undefined;
}

export function createWonderActivities(client: WonderClient, logger: WonderActivityLogger = activityLogger) {
  return {
    async putWonderCustomer(input: PutWonderCustomerInput): Promise<PutWonderCustomerResult> {
      const { requestId, customerUuid, lang } = input;
      const meta = { requestId, customerUuid, attempt: attempt() };
      try {
        const update = validateWonderCustomerUpdate(input.update);
        const { changed, cleared } = describeUpdate(update);
        const customer = await client.putCustomer(customerUuid, update, {
          requestId,
          ...(lang ? { lang } : {}),
        });
        logger.info('Wonder putCustomer applied', { ...meta, changed, cleared });
        return {
          customer: { uuid: customer.uuid, reference_number: customer.reference_number, changed, cleared },
        };
      } catch (err) {
        const failure =
          err instanceof WonderInputError
            ? ApplicationFailure.create({
                message: `Wonder putCustomer not sent: ${err.message}`,
                type: wonderFailureTypes.invalidInput,
                nonRetryable: true,
                details: [{ field: err.field }],
              })
            : err;
        logger.warn('Wonder putCustomer failed', {
          ...meta,
          failureType: failure instanceof ApplicationFailure ? failure.type : (failure as Error)?.name,
          retryable: failure instanceof ApplicationFailure ? !failure.nonRetryable : true,
        });
        throw failure;
      }
    },
  };
}

export type WonderActivities = ReturnType<typeof createWonderActivities>;
