/**
 * Fault injection shared by the provider simulators: a controller that decides, per call, which fault
 * (if any) to inject, and the Fastify hooks that carry it out. Decisions come from a deterministic
 * `failNext` queue first, then from rates drawn from a seeded PRNG, so a run repeats exactly.
 *
 * Usage (inside the plugin that declares the provider's routes):
 *   registerFaultInjection(app, controller, { apiOf, render, onFault });
 *   registerFaultRoutes(app, controller, { path: '/sandbox/faults', apis });
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { mulberry32, type Prng } from './prng.js';
import {
  defaultFaultSettings,
  FaultSettingsError,
  lossyFaultKinds,
  parseFaultSettings,
  type FaultKind,
  type FaultPhase,
  type FaultSettings,
  type LossyFaultKind,
  type ServerErrorStatus,
} from './fault-settings.js';

export * from './fault-settings.js';

export interface InjectedFault {
  kind: LossyFaultKind;
  phase: FaultPhase;
  source: 'failNext' | 'rate';
  /** serverError only */
  status?: ServerErrorStatus;
}

/** What one call gets: at most one lossy fault, plus delays. */
export interface FaultPlan {
  fault?: InjectedFault;
  /** fixed latency plus a 'before' slow fault */
  delayBeforeMs: number;
  /** an 'after' slow fault: processed, then answered late */
  delayAfterMs: number;
}

export class FaultController<Api extends string = string> {
  private current: FaultSettings<Api>;
  private prng: Prng;

  constructor(initial: Partial<FaultSettings<Api>> = {}) {
    this.current = { ...defaultFaultSettings<Api>(), ...initial };
    this.prng = mulberry32(this.current.seed);
  }

  /** A copy of the settings, with what is left of the failNext queue. */
  settings(): FaultSettings<Api> {
    return structuredClone(this.current);
  }

  /** Replaces the fields given; a given `seed` restarts the PRNG sequence. */
  update(patch: Partial<FaultSettings<Api>>): FaultSettings<Api> {
    this.current = { ...this.current, ...structuredClone(patch) };
    if (patch.seed !== undefined) this.prng = mulberry32(patch.seed);
    return this.settings();
  }

  reset(initial: Partial<FaultSettings<Api>> = {}): void {
    this.current = { ...defaultFaultSettings<Api>(), ...structuredClone(initial) };
    this.prng = mulberry32(this.current.seed);
  }

  /** Decides the faults of one call and consumes what it uses. */
  plan(api: Api): FaultPlan {
    const s = this.current;
    // Two draws on every call, whatever is decided, so the sequence depends only on the number of calls.
    const lossyDraw = this.prng.next();
    const slowDraw = this.prng.next();

    let fault: InjectedFault | undefined;
    let slowPhase: FaultPhase | undefined;

    const queued = s.failNext.findIndex((entry) => entry.api === undefined || entry.api === api);
    const entry = s.failNext[queued];
    if (entry) {
      entry.count -= 1;
      if (entry.count <= 0) s.failNext.splice(queued, 1);
      const phase = entry.phase ?? this.phaseOf(entry.kind);
      if (entry.kind === 'slow') {
        slowPhase = phase;
      } else {
        fault = { kind: entry.kind, phase, source: 'failNext' };
        if (entry.kind === 'serverError') fault.status = entry.status ?? 503;
      }
    }

    if (!fault) {
      let edge = 0;
      for (const kind of lossyFaultKinds) {
        const rate = s.rates[kind] ?? 0;
        if (lossyDraw < edge + rate) {
          fault = { kind, phase: this.phaseOf(kind), source: 'rate' };
          // The lower half of the band answers 500, the upper half 503, so callers meet both.
          if (kind === 'serverError') fault.status = lossyDraw < edge + rate / 2 ? 500 : 503;
          break;
        }
        edge += rate;
      }
    }
    if (slowPhase === undefined && slowDraw < (s.rates.slow ?? 0)) slowPhase = this.phaseOf('slow');

    return {
      ...(fault ? { fault } : {}),
      delayBeforeMs: s.latencyMs + (slowPhase === 'before' ? s.slowMs : 0),
      delayAfterMs: slowPhase === 'after' ? s.slowMs : 0,
    };
  }

  private phaseOf(kind: FaultKind): FaultPhase {
    return this.current.phase[kind] ?? 'before';
  }
}

/** A provider-shaped answer that a fault substitutes for the real one. */
export interface RenderedAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export interface FaultInjectionOptions<Api extends string> {
  /** The API a request calls, or undefined for requests that are never faulted. */
  apiOf(request: FastifyRequest): Api | undefined;
  /** The provider's own answer for an unknown-outcome or traffic-limit fault (signed, if it signs). */
  render(kind: 'unknown' | 'trafficLimit', request: FastifyRequest): RenderedAnswer;
  /** Called once for every injected lossy fault, at the moment it is carried out. */
  onFault?(request: FastifyRequest, fault: InjectedFault, api: Api): void;
}

const plans = new WeakMap<FastifyRequest, FaultPlan>();

/** The lossy fault planned for a request, e.g. so a handler can log that its answer will be lost. */
export function injectedFaultOf(request: FastifyRequest): InjectedFault | undefined {
  return plans.get(request)?.fault;
}

const serverErrorText: Record<ServerErrorStatus, string> = {
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function clearHeaders(reply: FastifyReply): void {
  for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
}

/**
 * Adds the hooks to `app` (a plugin context: only its routes are affected). 'before' faults are carried
 * out in preHandler, so the body is parsed and can be logged but the handler never runs; 'after' faults
 * in onSend, once the handler has done its work.
 */
export function registerFaultInjection<Api extends string>(
  app: FastifyInstance,
  controller: FaultController<Api>,
  options: FaultInjectionOptions<Api>,
): void {
  app.addHook('preHandler', async (request, reply) => {
    const api = options.apiOf(request);
    if (api === undefined) return;
    const plan = controller.plan(api);
    plans.set(request, plan);
    if (plan.delayBeforeMs > 0) await sleep(plan.delayBeforeMs);
    const fault = plan.fault;
    if (!fault || fault.phase !== 'before') return;
    options.onFault?.(request, fault, api);
    switch (fault.kind) {
      case 'drop':
        reply.hijack();
        reply.raw.destroy();
        return reply;
      case 'serverError':
        return reply
          .code(fault.status ?? 503)
          .type('text/plain')
          .send(serverErrorText[fault.status ?? 503]);
      default: {
        const answer = options.render(fault.kind, request);
        return reply.code(answer.statusCode).headers(answer.headers).send(answer.body);
      }
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const plan = plans.get(request);
    if (!plan) return payload;
    if (plan.delayAfterMs > 0) await sleep(plan.delayAfterMs);
    const fault = plan.fault;
    if (!fault || fault.phase !== 'after') return payload;
    const api = options.apiOf(request);
    if (api !== undefined) options.onFault?.(request, fault, api);
    switch (fault.kind) {
      case 'drop':
        reply.raw.destroy();
        return payload;
      case 'serverError':
        clearHeaders(reply);
        reply.code(fault.status ?? 503).type('text/plain');
        return serverErrorText[fault.status ?? 503];
      default: {
        const answer = options.render(fault.kind, request);
        clearHeaders(reply);
        reply.code(answer.statusCode).headers(answer.headers);
        return answer.body;
      }
    }
  });
}

/** `GET path` answers the settings; `POST path` replaces the fields given (400 naming a bad field). */
export function registerFaultRoutes<Api extends string>(
  app: FastifyInstance,
  controller: FaultController<Api>,
  options: { path: string; apis?: readonly Api[] },
): void {
  app.get(options.path, async () => controller.settings());
  app.post(options.path, async (request, reply) => {
    try {
      return controller.update(parseFaultSettings(request.body ?? {}, options.apis));
    } catch (err) {
      if (err instanceof FaultSettingsError)
        return reply.code(400).send({ error: err.message, field: err.field });
      throw err;
    }
  });
}
