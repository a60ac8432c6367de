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
} as const;

export type PatchId = (typeof patches)[keyof typeof patches];

/** The workflow types of workflows/index.ts, by the names histories carry. */
export type WorkflowTypeName = 'verifyContactChange' | 'changeWonderPaymentMethod';

export interface PatchLife {
  /**
   * The day (UTC) each workflow type's code began asking for the patch: a flow of that type started
   * before may lack the marker. Its history of the code before is the fixture.
   */
  since: Partial<Record<WorkflowTypeName, string>>;
  /** 'active': `patched()`, both branches; 'deprecated': `deprecatePatch()`, the new branch only */
  phase: 'active' | 'deprecated';
  /** the first day `deprecatePatch` may ship: the last `since` plus the longest flow life, in whole days */
  deprecateFrom: string;
  /** for a deprecated patch: the day it shipped, and the first day the call may go entirely */
  deprecated?: { on: string; removeFrom: string };
}

export const patchLives: Record<PatchId, PatchLife> = {
  'wonder-sync': {
    since: { verifyContactChange: '2026-11-23' },
    phase: 'active',
    deprecateFrom: '2026-11-27',
  },
  'outcome-result-code': {
    since: { verifyContactChange: '2026-12-01', changeWonderPaymentMethod: '2026-12-02' },
    phase: 'active',
    deprecateFrom: '2026-12-06',
  },
  'encrypted-pin-code': {
    since: { verifyContactChange: '2026-12-01', changeWonderPaymentMethod: '2026-12-01' },
    phase: 'active',
    deprecateFrom: '2026-12-05',
  },
  'local-user-calls': {
    since: { verifyContactChange: '2026-12-01', changeWonderPaymentMethod: '2026-12-01' },
    phase: 'active',
    deprecateFrom: '2026-12-05',
  },
  'search-attributes-where-filtered': {
    since: { verifyContactChange: '2026-12-01', changeWonderPaymentMethod: '2026-12-01' },
    phase: 'active',
    deprecateFrom: '2026-12-05',
  },
  'payment-method-cancel-outcome': {
    since: { changeWonderPaymentMethod: '2026-12-02' },
    phase: 'active',
    deprecateFrom: '2026-12-06',
  },
};

/**
 * The longest a flow can run under the policy maxima, rounded up to whole days (docs/patches.md works it
 * out: 64 hours). A `since` day counts whole, so a phase may end this many days after the day that follows it.
 */
export const longestFlowLifeDays = 3;
