/**
 * The bench's `retired-patches` worker: worker/main.ts's process (worker/process.ts, same settings, same
 * activities, same workflows) with every patch taken as removed, so a run beside the `verification` worker
 * measures what retiring the patches (docs/patches.md) will save: no `core_patch` marker and no
 * TemporalChangeVersion search attribute upsert per patch a flow passes. The workflow bundle is built at
 * start, with `@temporalio/workflow` resolved to bench/retired-patches-shim.ts. Bench-only: its flows'
 * histories are not the product's (its task queue must be one no product worker polls).
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runWorkerProcess } from '../worker/process.js';
import { buildWorkflowBundle, workflowsPath } from '../worker/run.js';

/** The shim beside this file, .ts under tsx and .js once compiled (the bench's --compiled). */
const shim = fileURLToPath(
  new URL(`./retired-patches-shim${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

await runWorkerProcess({
  workflowBundle: (interceptorModules) =>
    buildWorkflowBundle(workflowsPath, undefined, interceptorModules, (config) => ({
      ...config,
      resolve: {
        ...config.resolve,
        // Exact match only: the shim itself reaches the SDK through its path, not its name.
        alias: { ...config.resolve?.alias, '@temporalio/workflow$': shim },
      },
    })),
});
