// The workflow bundle's entry point: every workflow type the worker runs.
export { verifyContactChange } from './verification.js';
export { changeWonderPaymentMethod } from './payment-method.js';
