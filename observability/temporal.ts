/**
 * Temporal's OpenTelemetry interceptors, wired the one way this project uses them, and only when tracing
 * is on (./tracing.ts): off, every function here returns nothing to add.
 *
 * - client: a span per Temporal client call (start, update-with-start, update, query, signal), whose
 *   context travels to the workflow in the call's headers;
 * - workflow: the interceptor module bundled into the workflow code (a span per workflow run, update,
 *   signal and activity scheduled), its spans handed out of the sandbox by a sink to the same processor;
 * - activity: a span per activity and local activity, a child of the workflow's scheduling span.
 *
 * The sink the SDK ships copies the whole WorkflowInfo onto every workflow span (memo, search
 * attributes, last failure: objects that are no valid attribute values, and not ours to publish), so
 * ours hands on only the identifiers.
 */
import { createRequire } from 'node:module';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client/index.js';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/worker/index.js';
import type { ClientInterceptors } from '@temporalio/client';
import type { InjectedSinks, WorkerInterceptors } from '@temporalio/worker';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions.js';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { Tracing } from './tracing.js';

/** The workflow interceptor module, for the bundler: bundled only into a traced worker's code. */
export const workflowTracingModule = createRequire(import.meta.url).resolve(
  '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors',
);

/** The client's interceptors: a span per call, its context passed on in the call's headers. */
export function tracingClientInterceptors(tracing: Tracing): ClientInterceptors | undefined {
  if (!tracing.enabled) return undefined;
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

export interface WorkerTracing {
  interceptors: WorkerInterceptors;
  sinks: InjectedSinks<OpenTelemetrySinks>;
  /** for the bundler's workflowInterceptorModules */
  workflowModules: string[];
}

export function workerTracing(tracing: Tracing): WorkerTracing | undefined {
  if (!tracing.enabled) return undefined;
  const exporter = makeWorkflowExporter(tracing.spanProcessor, tracing.resource).export;
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: {
      exporter: {
        export: {
          fn: (info, spans) => exporter.fn(workflowIdentity(info) as unknown as WorkflowInfo, spans),
          // Replayed spans were exported when the task first ran; a cache eviction must not send them twice.
          callDuringReplay: false,
        },
      },
    },
    workflowModules: [workflowTracingModule],
  };
}

/** What a workflow span says about its workflow: identifiers, never memo, input or search attributes. */
function workflowIdentity(info: WorkflowInfo): Record<string, string | number> {
  return {
    temporalWorkflowId: info.workflowId,
    temporalRunId: info.runId,
    temporalWorkflowType: info.workflowType,
    temporalTaskQueue: info.taskQueue,
    temporalNamespace: info.namespace,
    'verification.id': info.workflowId,
  };
}
