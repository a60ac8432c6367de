/**
 * One customer's contact change at DWS, from request to a final outcome:
 * consult → challenge → wait for the user's code → verify → modify (→ another challenge "with risk")
 * → optionally carry the change to the Wonder customer record.
 * Every provider call is an activity or a local activity (workflows/provider-activities.ts); every
 * requestId is made in the workflow once, so retries reuse it.
 */
import {
  CancellationScope,
  deprecatePatch,
  isCancellation,
  log,
  ParentClosePolicy,
  proxyLocalActivities,
  setHandler,
  startChild,
  uuid4,
  workflowInfo,
  type WorkflowInfo,
} from '@temporalio/workflow';
import type { CustomerUser } from '../activities/dws/types.js';
import type { WebhookActivities } from '../activities/webhooks/types.js';
import type { WonderCustomerUpdate } from '../activities/wonder/types.js';
import { callerMemoKey, defaultCallerName, webhookDeliveryWorkflowId } from './ids.js';
import { contactChangeInputProblem } from './input-contract.js';
import { VerificationJourney } from './journey.js';
import { patches } from './patches.js';
import {
  cancelSignal,
  challengeSentUpdate,
  requestResendUpdate,
  resendOtpSignal,
  stateQuery,
  submitOtpSignal,
  verifyOtpUpdate,
} from './messages.js';
import { dws, wonder } from './provider-activities.js';
import { providerFailure } from './provider-failure.js';
import type { VerificationInput, VerificationOutcome, WonderSyncTarget } from './types.js';
import { deliverWebhooks } from './webhook-delivery.js';

type Modified = Extract<VerificationOutcome, { status: 'MODIFIED' }>;

/**
 * Local activities, bounded since the outcome waits for them: the caller's endpoints, asked in the first
 * workflow task beside the consult (one action for both), and, at the finish, the events, masked, only
 * when the caller has an endpoint: a flow whose caller has none pays nothing for its webhooks.
 */
const webhooksLocal = proxyLocalActivities<WebhookActivities>({
  startToCloseTimeout: '5 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});

export async function verifyContactChange(input: VerificationInput): Promise<VerificationOutcome> {
  const inputProblem = contactChangeInputProblem(input);
  // Not even an object (a direct start): the flow still ends with its outcome, not a failing task.
  if (typeof input !== 'object' || input === null) input = {} as VerificationInput;
  const journey = new VerificationJourney<{ customerId: string }, Modified>(
    'verification',
    { customerId: input.customerId },
    {
      policy: input.policy,
      inputProblem,
      customerId: input.customerId,
      wonderCustomerUuid: input.wonder?.customerUuid,
      firstStep: 'CONSULTING',
      wonderSync: input.wonder ? 'PENDING' : 'NOT_REQUESTED',
    },
  );
  const { state, journal, session } = journey;
  setHandler(stateQuery, journey.readState);
  setHandler(challengeSentUpdate, journey.challengeSent, { validator: session.checkOpen });
  setHandler(submitOtpSignal, session.submitCode);
  setHandler(verifyOtpUpdate, session.verifyCode, { validator: session.checkCode });
  setHandler(resendOtpSignal, session.queueResend);
  setHandler(requestResendUpdate, session.requestResend, { validator: session.checkOpen });
  setHandler(cancelSignal, session.cancel);

  // Known from the journey's first ask (patch-asks.ts): flows that began before patches.localConsult
  // looked nothing up at their start and replay so, preparing their events at the finish whatever.
  const endpointsAtStart = journey.patches.localConsult ? lookUpEndpoints() : Promise.resolve(undefined);
  const outcome = await changeContact();
  // Outside the flow's own cancellation: a cancelled flow's outcome is announced like any other.
  await CancellationScope.nonCancellable(() => announce(outcome));
  return outcome;

  async function changeContact(): Promise<VerificationOutcome> {
    try {
      const refused = journey.refusedInput();
      if (refused) return journey.finish(refused);
      const possession = await session.confirmPossession(input);
      if (!possession.proven) return journey.finish(journey.unproven(possession));
      if (session.cancelled) return journey.finish(journey.cancelled());

      journal.enter('MODIFYING');
      const modifyRequest = {
        requestId: uuid4(),
        authenticationId: possession.challenge.authenticationId,
        customerId: input.customerId,
        user: input.change,
        env: input.env,
      };
      // Once sent, the modify runs to its answer even if the workflow is cancelled: the outcome must say
      // what the provider did, not what we hoped.
      const modified = await CancellationScope.nonCancellable(() => dws.modifyCustomer(modifyRequest));
      if (modified.applied) {
        journal.note('modified', modified.resultCode);
      } else {
        // A challenge the modify call added is resumed by verifyAndResume, which applies the change itself.
        journal.note('modification needs another challenge', modified.resultCode);
        const resumed = await session.passRounds(
          { authenticationId: modified.authenticationId, actionForm: modified.actionForm },
          possession.round + 1,
        );
        if (!resumed.proven) return journey.finish(journey.unproven(resumed));
      }

      const wonderFailure = input.wonder ? await carryToWonder(input.wonder) : undefined;
      return journey.finish({
        status: 'MODIFIED',
        ...journey.base(),
        wonderSync: state.wonderSync,
        ...(wonderFailure ? { wonderFailure } : {}),
      });
    } catch (err) {
      return journey.failed(err);
    }
  }

  /**
   * The caller's backends learn the outcome without asking (docs/webhooks.md): the events go to a
   * delivery workflow of their own, started as an abandoned child, so this flow ends as soon as the
   * delivery has started and never waits for a receiver. Flows from before it (no marker) announce nothing.
   */
  async function announce(final: VerificationOutcome): Promise<void> {
    if (!journey.patches.takes(patches.webhookEvents)) return;
    // A caller without an endpoint when the flow started gets no events from it (endpoints change with a
    // worker's configuration, so only across a deploy); the endpoints the events go to are read below.
    if ((await endpointsAtStart)?.length === 0) return;
    const info = workflowInfo();
    const caller = callerOf(info);
    const first = session.firstChallenge;
    const numberOnFile =
      first?.challengeType === 'sms' &&
      first.challengeRenderValue &&
      (input.businessSceneCode ?? 'MOBILE_AVAILABLE') === 'MOBILE_AVAILABLE'
        ? first.challengeRenderValue
        : undefined;
    try {
      const prepared = await webhooksLocal.prepareWebhookEvents({
        caller,
        verificationId: info.workflowId,
        runId: info.runId,
        customerId: typeof input.customerId === 'string' ? input.customerId : '',
        ...(typeof input.requestKey === 'string' ? { requestKey: input.requestKey } : {}),
        finishedAt: new Date().toISOString(),
        outcome: final.status,
        ...('resultCode' in final
          ? { resultCode: final.resultCode, failedStep: final.failedStep }
          : state.lastResultCode
            ? { resultCode: state.lastResultCode }
            : {}),
        wonderSync: state.wonderSync,
        change: input.change ?? {},
        ...(state.maskedDestination ? { maskedDestination: state.maskedDestination } : {}),
        ...(numberOnFile ? { numberOnFile } : {}),
      });
      if (prepared.endpoints.length === 0) return;
      const deliveryId = webhookDeliveryWorkflowId(info.workflowId, info.runId);
      await startChild(deliverWebhooks, {
        workflowId: deliveryId,
        args: [
          {
            verificationId: info.workflowId,
            caller,
            endpoints: prepared.endpoints,
            events: prepared.events,
            retryHours: prepared.retryHours,
            timeoutSeconds: prepared.timeoutSeconds,
            firstRetrySeconds: prepared.firstRetrySeconds,
          },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `Webhook events of ${info.workflowId} (${final.status}) to ${caller}: ${prepared.endpoints.join(', ')}`,
      });
      journal.record(
        'DONE',
        `events ${prepared.events.map((e) => e.type).join(', ')} handed to ${deliveryId} for ${prepared.endpoints.length} endpoint(s)`,
      );
    } catch (err) {
      // The outcome stands whatever happens to its announcement; the operator reads why in the timeline.
      journal.record('DONE', `events not handed over: ${err instanceof Error ? err.message : String(err)}`);
      log.warn('webhook events not handed over', { error: String(err) });
    }
  }

  /**
   * The caller's endpoint ids, or undefined when the look-up failed (or an operator's cancel stopped it):
   * the finish then prepares its events as flows before the look-up did, so no flow loses its events.
   */
  function lookUpEndpoints(): Promise<string[] | undefined> {
    return webhooksLocal.webhookEndpoints({ caller: callerOf(workflowInfo()) }).catch(() => undefined);
  }

  /**
   * The DWS change stands whatever happens here: a failure after retries is reported in the state and the
   * outcome, never undone and never silent.
   */
  async function carryToWonder(target: WonderSyncTarget): Promise<string | undefined> {
    deprecatePatch(patches.wonderSync);
    journal.enter('SYNCING_WONDER');
    const lang = target.lang ?? wonderLangOf(input.language);
    try {
      await wonder.putWonderCustomer({
        requestId: uuid4(),
        customerUuid: target.customerUuid,
        // Absent from flows started before it was required: the activity then refuses to write at all.
        referenceNumber: target.referenceNumber,
        update: wonderUpdateFor(input.change),
        ...(lang ? { lang } : {}),
      });
      state.wonderSync = 'SYNCED';
      journal.note('carried to the Wonder customer record');
      return undefined;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const failure = providerFailure(err) ?? { code: 'WONDER_SYNC_FAILED', message: String(err) };
      state.wonderSync = 'FAILED';
      journal.note(`Wonder sync failed: ${failure.code}`, failure.code);
      return failure.code;
    }
  }
}

/** The caller the HTTP service started the flow for (its memo), or the default caller of a direct start. */
function callerOf(info: WorkflowInfo): string {
  const owner = info.memo?.[callerMemoKey];
  return typeof owner === 'string' ? owner : defaultCallerName;
}

/** The user's language (BCP 47) as Wonder's x-i18n-lang, when Wonder has that language. */
export function wonderLangOf(language: string | undefined): WonderSyncTarget['lang'] {
  const [primary, ...subtags] = (language ?? '').toLowerCase().split('-');
  if (primary === 'en') return 'en';
  if (primary !== 'zh') return undefined;
  const traditional = subtags.some((tag) => ['hant', 'hk', 'mo', 'tw'].includes(tag));
  return traditional ? 'zh-HK' : 'zh-CN';
}

function wonderUpdateFor(change: CustomerUser): WonderCustomerUpdate {
  return {
    ...(change.email ? { email: change.email } : {}),
    ...(change.mobileNoInfo
      ? { phone: `+${change.mobileNoInfo.countryCode}${change.mobileNoInfo.phoneNo}` }
      : {}),
  };
}
