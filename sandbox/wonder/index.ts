export { wonderSimulator, type WonderSimulatorPluginOptions } from './plugin.js';
export {
  WonderSimulator,
  sandboxWonderPublicKey,
  wonderApis,
  wonderErrorCodes,
  WONDER_SUCCESS_CODE,
  type LedgerEntry,
  type RequestLogEntry,
  type WonderAnswer,
  type WonderApi,
  type WonderSimulatorOptions,
} from './simulator.js';
export { seededWonderCustomers, type StoredCustomer, type StoredPaymentToken } from './customers.js';
export { wonderAuthCodes, MAX_CLOCK_SKEW_MS, NONCE_RETENTION_MS } from './auth.js';
