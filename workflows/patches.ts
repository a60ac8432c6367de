/**
 * Patch ids, all in one place, each with its life (docs/patches.md): a patch marks a change to a
 * workflow's commands made while flows of the code before it may still run. test/unit/replay.test.ts
 * replays, for each id and each workflow type that asks for it, the recorded history its phase needs
 * (test/fixtures/histories/<id>.<workflow type>.<before|marker>[.<variant>].json).
 */
export const patches = {
  /** the verified change carried to the Wonder customer record */
  wonderSync: 'wonder-sync',
  /** a REJECTED flow's result code in the outcome's upsert (VerificationResultCode) */
  outcomeResultCode: 'outcome-result-code',
  /** a PIN challenge takes the app's encrypted PIN instead of six clear digits */
  encryptedPin: 'encrypted-pin-code',
  /** triggerChallenge and verifyAndResume as local activities: the two calls a user waits on */
  localUserCalls: 'local-user-calls',
  /** search attributes only where operators filter: AWAITING_INPUT, and one upsert at the end */
  searchAttributesWhereFiltered: 'search-attributes-where-filtered',
  /** an operator's cancel of a payment-method change finishes it (DONE, CANCELLED) instead of abandoning it */
  paymentMethodCancelOutcome: 'payment-method-cancel-outcome',
  /** the input checked against the wire contract (INVALID_INPUT) and the policy clamped to its bounds */
  checkedInput: 'checked-input',
  /** a local activity's final "no" (trigger, verify) ends the flow REJECTED instead of failing the workflow */
  localUserCallFailures: 'local-user-call-failures',
  /** a finished contact change hands its events to the caller's webhook endpoints (a delivery child) */
  webhookEvents: 'webhook-events',
  /**
   * the consult local for its first seconds, then an activity; a contact change looks up its caller's
   * webhook endpoints in the same first workflow task, and a caller without any costs nothing at the finish
   */
  localConsult: 'local-consult',
} as const;

export type PatchId = (typeof patches)[keyof typeof patches];

/** The workflow types of workflows/index.ts, by the names histories carry. */
export type WorkflowTypeName = 'verifyContactChange' | 'changeWonderPaymentMethod' | 'deliverWebhooks';

export interface PatchLife {
  /**
   * The day (UTC) each workflow type's code began asking for the patch: a flow of that type started
   * before may lack the marker. Its history of the code before is the fixture.
   */
  since: Partial<Record<WorkflowTypeName, string>>;
  /** 'active': `patched()`, both branches; 'deprecated': `deprecatePatch()`, the new branch only */
  phase: 'active' | 'deprecated';
  /** the first day `deprecatePatch` may ship: the day after the last `since`, plus patchPhaseDays */
  deprecateFrom: string;
  /** for a deprecated patch: the day it shipped, and the first day the call may go (the day after, plus patchPhaseDays) */
  deprecated?: { on: string; removeFrom: string };
}

export const patchLives: Record<PatchId, PatchLife> = {
  'wonder-sync': {
    since: { verifyContactChange: '2026-11-23' },
    phase: 'deprecated',
    deprecateFrom: '2026-11-30',
    deprecated: { on: '2026-12-02', removeFrom: '2026-12-09' },
  },
  'outcome-result-code': {
    since: { verifyContactChange: '2026-12-01', changeWonderPaymentMethod: '2026-12-02' },
    phase: 'active',
    deprecateFrom: '2026-12-09',
  },
  'encrypted-pin-code': {
    since: { verifyContactChange: '2026-12-01', changeWonderPaymentMethod: '2026-12-01' },
    phase: 'active',
    deprecateFrom: '2026-12-08',
  },
  'local-user-calls': {
    since: { verifyContactChange: '2026-12-01', changeWonderPaymentMethod: '2026-12-01' },
    phase: 'active',
    deprecateFrom: '2026-12-08',
  },
  'search-attributes-where-filtered': {
    since: { verifyContactChange: '2026-12-01', changeWonderPaymentMethod: '2026-12-01' },
    phase: 'active',
    deprecateFrom: '2026-12-08',
  },
  'payment-method-cancel-outcome': {
    since: { changeWonderPaymentMethod: '2026-12-02' },
    phase: 'active',
    deprecateFrom: '2026-12-09',
  },
  'checked-input': {
    since: { verifyContactChange: '2026-12-02', changeWonderPaymentMethod: '2026-12-02' },
    phase: 'active',
    deprecateFrom: '2026-12-09',
  },
  'local-user-call-failures': {
    since: { verifyContactChange: '2026-12-02', changeWonderPaymentMethod: '2026-12-02' },
    phase: 'active',
    deprecateFrom: '2026-12-09',
  },
  'webhook-events': {
    since: { verifyContactChange: '2026-12-02' },
    phase: 'active',
    deprecateFrom: '2026-12-09',
  },
  'local-consult': {
    since: { verifyContactChange: '2026-12-03', changeWonderPaymentMethod: '2026-12-03' },
    phase: 'active',
    deprecateFrom: '2026-12-10',
  },
};

/**
 * How long a phase lasts, in whole days (docs/patches.md): the longest a flow can run under the policy
 * maxima (64 hours, so 3 days, for flows started before checked-input's bounds; 1 day from 2026-12-06),
 * plus the namespace retention we deploy with (3 days, scripts/cluster/cluster.ts), because reading a
 * closed flow's state replays its history with the current code.
 */
export const patchPhaseDays = 3 + 3;
