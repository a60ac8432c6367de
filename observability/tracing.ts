/**
 * The one home of tracing: whether it is on, and everything it registers when it is. The worker and the
 * HTTP service call `startTracing` once at start and `shutdown` on their way out.
 *
 * Off unless the standard OpenTelemetry variables ask for it: `OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` set, or `OTEL_TRACES_EXPORTER=otlp`; `OTEL_SDK_DISABLED=true` or
 * `OTEL_TRACES_EXPORTER=none` keep it off whatever else is set. Off means nothing is registered: no
 * provider, no span processor, no exporter, no interceptor; the OpenTelemetry API stays its no-op self.
 *
 * On: one NodeTracerProvider, registered globally (the Temporal interceptors and the W3C propagator find
 * it there), a batch span processor, and OTLP over HTTP/protobuf. `OTEL_SERVICE_NAME` names the process
 * (default per process), `OTEL_RESOURCE_ATTRIBUTES` adds to it, `OTEL_TRACES_SAMPLER[_ARG]` samples.
 * The SDK 1.x line is the one `@temporalio/interceptors-opentelemetry` 1.24 is built against: its span
 * sinks hand the SDK's own ReadableSpan objects across, so the two must agree.
 */
import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResourcesSync, envDetectorSync, Resource } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { ConfigError } from '../config/errors.js';
import { parseUrl, readString, type Env } from '../config/settings.js';

/** The tracer every span of ours is made by; the Temporal interceptors use their own names. */
export const tracerName = 'dws-verify';

/**
 * Span attribute names of our own, shared by the HTTP, activity and provider spans. Each holds an id or a
 * provider's vocabulary, never a code, PIN, phone number, email or token.
 */
export const spanAttributes = {
  verificationId: 'verification.id',
  step: 'verification.step',
  localActivity: 'temporal.activity.local',
  caller: 'dws.caller',
  provider: 'provider.name',
  providerApi: 'provider.api',
  resultStatus: 'provider.result_status',
  resultCode: 'provider.result_code',
} as const;

export interface TracingSettings {
  /** where spans go: the full OTLP/HTTP traces URL */
  tracesUrl: string;
  serviceName: string;
  sampler: Sampler;
  /** the variable that decided the sampler, for the start line */
  samplerName: string;
}

/** Tracing as started: off (nothing registered), or on with the processor the workflow spans go to. */
export type Tracing =
  | { enabled: false; shutdown(): Promise<void> }
  | {
      enabled: true;
      settings: Pick<TracingSettings, 'serviceName' | 'samplerName'> & { tracesUrl?: string };
      provider: NodeTracerProvider;
      /** the processor workflow spans are handed to (they are made in the sandbox, exported by a sink) */
      spanProcessor: SpanProcessor;
      resource: Resource;
      /** flushes what is batched */
      flush(): Promise<void>;
      /** flushes, stops exporting and unregisters everything globally registered */
      shutdown(): Promise<void>;
    };

const off: Tracing = { enabled: false, shutdown: async () => undefined };

/**
 * The settings the environment asks for, or undefined when tracing is off. A value that cannot be
 * meant (an exporter or protocol this build does not ship, a sampler ratio out of range) stops the
 * process with a sentence naming the variable.
 */
export function readTracingSettings(env: Env, defaultServiceName: string): TracingSettings | undefined {
  if (readString(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return undefined;
  const exporter = readString(env, 'OTEL_TRACES_EXPORTER')?.toLowerCase();
  if (exporter === 'none') return undefined;
  if (exporter !== undefined && exporter !== 'otlp') {
    throw new ConfigError('OTEL_TRACES_EXPORTER', `must be "otlp" or "none", got "${exporter}"`);
  }
  const protocol =
    readString(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? readString(env, 'OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocol !== undefined && protocol !== 'http/protobuf') {
    throw new ConfigError(
      readString(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') !== undefined
        ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
        : 'OTEL_EXPORTER_OTLP_PROTOCOL',
      `must be "http/protobuf" (the exporter this build ships), got "${protocol}"`,
    );
  }
  const tracesEndpoint = readString(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const endpoint = readString(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (exporter === undefined && tracesEndpoint === undefined && endpoint === undefined) return undefined;
  // As the specification says: the traces endpoint is used as it is, the general one gets /v1/traces.
  const tracesUrl = tracesEndpoint
    ? parseUrl(tracesEndpoint, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
    : `${parseUrl(endpoint ?? 'http://localhost:4318', 'OTEL_EXPORTER_OTLP_ENDPOINT')}/v1/traces`;
  return {
    tracesUrl,
    serviceName: readString(env, 'OTEL_SERVICE_NAME', defaultServiceName),
    ...readSampler(env),
  };
}

/** The specification's sampler names; the default, as the specification says, is parentbased_always_on. */
function readSampler(env: Env): { sampler: Sampler; samplerName: string } {
  const name = readString(env, 'OTEL_TRACES_SAMPLER', 'parentbased_always_on').toLowerCase();
  const ratio = () => {
    const arg = readString(env, 'OTEL_TRACES_SAMPLER_ARG', '1');
    const value = Number(arg);
    if (!Number.isFinite(value) || value < 0 || value > 1) {
      throw new ConfigError('OTEL_TRACES_SAMPLER_ARG', `must be a number from 0 to 1, got "${arg}"`);
    }
    return new TraceIdRatioBasedSampler(value);
  };
  const samplers: Record<string, () => Sampler> = {
    always_on: () => new AlwaysOnSampler(),
    always_off: () => new AlwaysOffSampler(),
    traceidratio: ratio,
    parentbased_always_on: () => new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    parentbased_always_off: () => new ParentBasedSampler({ root: new AlwaysOffSampler() }),
    parentbased_traceidratio: () => new ParentBasedSampler({ root: ratio() }),
  };
  const make = samplers[name];
  if (!make) {
    throw new ConfigError(
      'OTEL_TRACES_SAMPLER',
      `must be one of ${Object.keys(samplers).join(', ')}, got "${name}"`,
    );
  }
  return { sampler: make(), samplerName: name };
}

export interface StartTracingOptions {
  /** the process's name when OTEL_SERVICE_NAME is not set: dws-verify-worker, dws-verify-http */
  serviceName: string;
  /**
   * Tests: export to this processor (an in-memory exporter behind a SimpleSpanProcessor) instead of
   * OTLP, whatever the environment says; tracing is then on.
   */
  spanProcessor?: SpanProcessor;
}

let started: Tracing | undefined;

/**
 * Registers tracing for this process as the environment asks, once: a second call returns the first
 * one's (one global provider per process), until that one is shut down.
 */
export function startTracing(env: Env, options: StartTracingOptions): Tracing {
  if (started) return started;
  const settings = options.spanProcessor ? undefined : readTracingSettings(env, options.serviceName);
  if (!settings && !options.spanProcessor) return off;
  const serviceName = settings?.serviceName ?? readString(env, 'OTEL_SERVICE_NAME', options.serviceName);
  // OTEL_RESOURCE_ATTRIBUTES (read by the SDK's detector from the process's environment) adds to the
  // resource; the service name is the one the given environment names, or the process's default.
  const resource = Resource.default()
    .merge(detectResourcesSync({ detectors: [envDetectorSync] }))
    .merge(new Resource({ [ATTR_SERVICE_NAME]: serviceName }));
  const spanProcessor =
    options.spanProcessor ?? new BatchSpanProcessor(new OTLPTraceExporter({ url: settings!.tracesUrl }));
  const provider = new NodeTracerProvider({
    resource,
    ...(settings ? { sampler: settings.sampler } : {}),
    spanProcessors: [spanProcessor],
  });
  // The global provider, the AsyncLocalStorage context manager and the W3C traceparent propagator.
  provider.register();
  const tracing: Tracing = {
    enabled: true,
    settings: {
      serviceName,
      samplerName: settings?.samplerName ?? 'always_on',
      ...(settings ? { tracesUrl: settings.tracesUrl } : {}),
    },
    provider,
    spanProcessor,
    resource,
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      if (started !== tracing) return;
      started = undefined;
      try {
        await provider.shutdown();
      } finally {
        trace.disable();
        context.disable();
        propagation.disable();
      }
    },
  };
  started = tracing;
  return tracing;
}

/** For the start line: where spans go, or off. */
export function describeTracing(tracing: Tracing): string {
  if (!tracing.enabled) return 'off';
  const { serviceName, samplerName, tracesUrl } = tracing.settings;
  return `${serviceName} to ${tracesUrl ?? 'a processor of the host'} (sampler ${samplerName})`;
}

/** The tracing this process started, or off. */
export function currentTracing(): Tracing {
  return started ?? off;
}

/** Our tracer: a no-op one while tracing is off. */
export function tracer(): Tracer {
  return trace.getTracer(tracerName);
}
