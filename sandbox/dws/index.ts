export { DwsSimulator, type DwsSimulatorOptions, type DwsOutcome } from './simulator.js';
export { dwsRoutes, type DwsRoutesOptions } from './routes.js';
export { dwsControlRoutes, dwsApis, type DwsControlOptions } from './control-routes.js';
export {
  loadDwsKeys,
  apiForPath,
  type DwsKeyMaterial,
  type DwsKeys,
  type EnvelopeRules,
} from './envelope.js';
export { defaultCustomers, type CustomerSeed, type CustomerView } from './customers.js';
export { isRiskyPhoneChange } from './operations/modify.js';
export { maskEmail, maskPhone } from './masking.js';
export type { OutboxMessage, OutboxFilter } from './outbox.js';
export type { LedgerEntry, CustomerLedger } from './ledger.js';
export type { RequestLogEntry } from './request-log.js';
export type { DwsAnswer } from './results.js';
