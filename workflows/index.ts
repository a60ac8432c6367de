// The workflow bundle's entry point: every workflow type the worker runs.
import type { ChangeWonderPaymentMethodWorkflow, VerifyContactChangeWorkflow } from './types.js';
import { changeWonderPaymentMethod } from './payment-method.js';
import { verifyContactChange } from './verification.js';
import { deliverWebhooks } from './webhook-delivery.js';

export { verifyContactChange, changeWonderPaymentMethod, deliverWebhooks };

// The client library calls them by these signatures: a workflow that drifts from its one fails to compile.
void (verifyContactChange satisfies VerifyContactChangeWorkflow);
void (changeWonderPaymentMethod satisfies ChangeWonderPaymentMethodWorkflow);
