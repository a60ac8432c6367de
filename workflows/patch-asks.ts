/**
 * Which of the patches a flow takes, asked where its answer replays the same (docs/patches.md).
 *
 * sdk-core tells a replay which patches a workflow task recorded only when it replays that task. The
 * code that reacts to a local activity's result can run in the task after the one holding the activity's
 * marker (a query or a heartbeat ends the task while the activity is still running), while its replay
 * runs it in the task of the marker: a patch asked first there reads as not taken, and the replay stops
 * with TMPRL1100 "Non-deprecated patch marker encountered … but there is no corresponding change
 * command" (found by replaying every flow the tests ran, test/helpers/verification-env.ts). So a flow
 * that began with `local-consult` asks that one patch, first thing, before any local activity, and takes
 * every earlier patch without asking: it began after all of them shipped. A new patch follows the same
 * rule: asked in the flow's first activation, or implied by one that was.
 */
import { patched } from '@temporalio/workflow';
import { patches, type PatchId } from './patches.js';

export class PatchAsks {
  /** the flow began with the consult local (patches.localConsult), after every earlier patch shipped */
  readonly localConsult: boolean;

  constructor() {
    this.localConsult = patched(patches.localConsult);
  }

  /**
   * A patch older than local-consult: taken without asking by a flow that began with it; asked, where
   * the code always asked it, by a flow that began before (those replay as they ran).
   */
  takes(patch: Exclude<PatchId, typeof patches.localConsult>): boolean {
    return this.localConsult || patched(patch);
  }
}
