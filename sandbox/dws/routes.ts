/**
 * The DWS provider over HTTP: every path under /ams, so a wrong method or an unknown API gets the
 * provider's own signed answer rather than Fastify's 404. Register it as an encapsulated plugin: its
 * raw-body parser and fault hooks stay inside it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DwsApi } from '../../activities/dws/types.js';
import { injectedFaultOf, registerFaultInjection, type FaultController } from '../faults.js';
import {
  apiForPath,
  envelopeProblem,
  pathOf,
  signedAnswer,
  type EnvelopeRules,
  type IncomingCall,
} from './envelope.js';
import { idsForLog, type RequestLogEntry } from './request-log.js';
import { failure, unknownOutcome, type DwsAnswer } from './results.js';
import type { DwsSimulator } from './simulator.js';

export interface DwsRoutesOptions {
  simulator: DwsSimulator;
  faults: FaultController<DwsApi>;
  envelope: EnvelopeRules;
}

function incomingCall(request: FastifyRequest): IncomingCall {
  return {
    method: request.method,
    url: request.url,
    headers: request.headers,
    rawBody: typeof request.body === 'string' ? request.body : '',
  };
}

export async function dwsRoutes(app: FastifyInstance, options: DwsRoutesOptions): Promise<void> {
  const { simulator, faults, envelope } = options;

  // The signature covers the exact bytes sent, so the body stays a string whatever its content type.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
    done(null, body),
  );
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  const apiOf = (request: FastifyRequest): DwsApi | undefined =>
    request.method === 'POST' ? apiForPath(pathOf(request.url)) : undefined;

  const logEntry = (request: FastifyRequest, api: DwsApi | undefined): RequestLogEntry => ({
    ...(api ? { api } : {}),
    method: request.method,
    path: pathOf(request.url),
    ...(api ? idsForLog(api, incomingCall(request).rawBody) : {}),
    at: simulator.now(),
  });

  registerFaultInjection(app, faults, {
    apiOf,
    render: (kind, request) => signedAnswer(incomingCall(request), unknownOutcome(kind), envelope),
    onFault: (request, fault, api) => {
      // An 'after' fault was logged by the handler, which knew it would be.
      if (fault.phase === 'before') {
        simulator.requests.add({
          ...logEntry(request, api),
          fault: { kind: fault.kind, phase: fault.phase },
        });
      }
    },
  });

  app.all('/ams/*', async (request, reply) => {
    const call = incomingCall(request);
    const api = apiOf(request);
    const problem = envelopeProblem(call, envelope);
    let answer: DwsAnswer;
    let replayed = false;
    if (problem || api === undefined) {
      answer = { result: problem ?? failure('INVALID_API', 'API is invalid (or not active).') };
    } else {
      ({ answer, replayed } = simulator.handle(api, call.rawBody));
    }
    const fault = injectedFaultOf(request);
    simulator.requests.add({
      ...logEntry(request, api),
      resultStatus: answer.result.resultStatus,
      resultCode: answer.result.resultCode,
      ...(replayed ? { replayed } : {}),
      ...(fault?.phase === 'after' ? { fault: { kind: fault.kind, phase: fault.phase } } : {}),
    });
    const rendered = signedAnswer(call, answer, envelope);
    return reply.code(rendered.statusCode).headers(rendered.headers).send(rendered.body);
  });
}
