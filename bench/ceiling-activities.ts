/**
 * The ceiling's activities: the four DWS activities' names and types, answering at once with what the
 * provider would. With no provider time left, a flow costs only what Temporal and the worker cost.
 */
import type {
  ConsultInput,
  ConsultOutput,
  DwsActivities,
  ModifyInput,
  ModifyOutput,
  TriggerChallengeInput,
  TriggerChallengeOutput,
  VerifyInput,
  VerifyOutput,
} from '../activities/dws/types.js';

/** Tells the bench a code was "sent", as the sandbox's outbox does for the real activities. */
export type CodeSent = (customerId: string, code: string) => void;

const authenticationPrefix = 'ceiling:';
/** Any six digits pass: the ceiling measures the path a code takes, not its check. */
export const ceilingCode = '246810';

// Typed as the real contract, so a changed activity signature fails here rather than in a bench run.
export function createCeilingActivities(codeSent: CodeSent): DwsActivities {
  return {
    async consultModification(input: ConsultInput): Promise<ConsultOutput> {
      return {
        // Carries the customer so triggerChallenge knows whose phone to "send" to, as DWS's own id would.
        authenticationId: `${authenticationPrefix}${input.customerId}`,
        actionForm: { challengeType: 'sms', challengeRenderValue: '+65******0000' },
        resultCode: 'SUCCESS',
      };
    },

    async triggerChallenge(input: TriggerChallengeInput): Promise<TriggerChallengeOutput> {
      codeSent(input.challengeId.slice(authenticationPrefix.length), ceilingCode);
      return { challengeType: 'sms', challengeRenderValue: '+65******0000', resultCode: 'SUCCESS' };
    },

    async verifyAndResume(_input: VerifyInput): Promise<VerifyOutput> {
      return { verdict: 'ACCEPTED', resultCode: 'SUCCESS' };
    },

    async modifyCustomer(_input: ModifyInput): Promise<ModifyOutput> {
      return { applied: true, resultCode: 'SUCCESS' };
    },
  };
}
