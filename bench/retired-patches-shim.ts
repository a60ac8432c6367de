/**
 * `@temporalio/workflow` as the bench's retired-patches worker bundles it (bench/retired-patches-worker.ts):
 * everything the SDK exports, except that every patch is taken as removed. `patched()` answers true without
 * writing its marker or its TemporalChangeVersion upsert, and `deprecatePatch()` writes nothing, which is
 * what the code will do once docs/patches.md's lifecycle lets each patch go. Never in a product bundle: a
 * flow started on it could not be replayed by the real code, and one started elsewhere not by it.
 */
// The package's own entry by path: the bundle aliases only the bare name to this module.
export * from '@temporalio/workflow/lib/index.js';

export function patched(_patchId: string): boolean {
  return true;
}

export function deprecatePatch(_patchId: string): void {}
