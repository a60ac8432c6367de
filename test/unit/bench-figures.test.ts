import assert from 'node:assert/strict';
import { serverFigures, type Scrape } from '../../bench/metrics.js';
import { BenchOptionsError, parseBenchOptions } from '../../bench/options.js';
import { classifyTraces } from '../../bench/server-profile.js';

describe('the bench command line', () => {
  it('runs on the dev server unless --server cluster is given', () => {
    assert.equal(parseBenchOptions([], {}).server, 'dev');
    assert.equal(parseBenchOptions(['--server', 'cluster'], {}).server, 'cluster');
    assert.equal(parseBenchOptions(['--server=cluster', '--quick'], {}).capacity, 300);
  });

  it('names the flag it refuses', () => {
    assert.throws(() => parseBenchOptions(['--server', 'cloud'], {}), {
      name: 'BenchOptionsError',
      message: /--server must be one of dev, cluster/,
    });
    assert.throws(
      () => parseBenchOptions(['--server', 'cluster', '--server-db', 'file'], {}),
      (err: unknown) =>
        err instanceof BenchOptionsError && /--server-db is for the dev server/.test(err.message),
    );
    assert.throws(() => parseBenchOptions(['--capacity', '0'], {}), /--capacity must be a whole number/);
  });
});

describe("the cluster server's CPU profile", () => {
  // The shape `go tool pprof -traces` prints: a rule, the sample's value and innermost frame, its callers.
  const traces = [
    'File: server',
    'Type: cpu',
    '-----------+-------------------------------------------------------',
    '      30ms   github.com/jackc/pgx/v5/pgconn.(*PgConn).receiveMessage',
    '             go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql.(*db).UpdateExecutions',
    '             go.temporal.io/server/service/history/workflow.(*ContextImpl).UpdateWorkflowExecutionAsActive',
    '-----------+-------------------------------------------------------',
    '      50ms   go.temporal.io/server/service/history/workflow.(*MutableStateImpl).AddWorkflowTaskScheduledEvent',
    '             google.golang.org/grpc.(*Server).handleStream',
    '-----------+-------------------------------------------------------',
    '      10ms   runtime.scanobject',
    '             runtime.gcDrain',
    '             runtime.gcBgMarkWorker',
    '-----------+-------------------------------------------------------',
    '      20ms   go.temporal.io/server/service/frontend.(*WorkflowHandler).StartWorkflowExecution',
    '             google.golang.org/grpc.(*Server).handleStream',
    '-----------+-------------------------------------------------------',
    '      10ms   go.temporal.io/server/service/matching.(*matchingEngineImpl).AddWorkflowTask',
    '-----------+-------------------------------------------------------',
    '      10ms   syscall.Syscall6',
    '             google.golang.org/grpc/internal/transport.(*loopyWriter).run',
    '-----------+-------------------------------------------------------',
  ].join('\n');

  it('gives each sample to the innermost part of the server it passes through', () => {
    const { cpuSeconds, sharePercent } = classifyTraces(traces);
    assert.equal(cpuSeconds, 0.13);
    assert.deepEqual(sharePercent, {
      'persistence (SQL store, PostgreSQL driver)': 23.1,
      'history service': 38.5,
      'matching service': 7.7,
      'frontend service': 15.4,
      'gRPC, protobuf, network': 7.7,
      'garbage collection': 7.7,
    });
  });

  it('reads an empty profile as no CPU, not as a division by zero', () => {
    assert.deepEqual(classifyTraces('File: server\nType: cpu\n'), { cpuSeconds: 0, sharePercent: {} });
  });
});

describe("the server's database calls per flow", () => {
  const series = (operation: string, service: string) =>
    `{namespace="default",operation="${operation}",service_name="${service}"}`;
  const scrape = (entries: Array<[string, number]>): Scrape => new Map(entries);

  it('counts the calls and the time waited between two scrapes, by service and operation', () => {
    const update = series('UpdateWorkflowExecution', 'history');
    const tasks = series('CreateTasks', 'matching');
    const before = scrape([
      [`persistence_latency_count${update}`, 100],
      [`persistence_latency_sum${update}`, 1],
      [`persistence_latency_count${tasks}`, 50],
      [`persistence_latency_sum${tasks}`, 0.2],
    ]);
    const after = scrape([
      [`persistence_latency_count${update}`, 140],
      [`persistence_latency_sum${update}`, 1.4],
      [`persistence_latency_count${tasks}`, 60],
      [`persistence_latency_sum${tasks}`, 0.25],
    ]);
    const figures = serverFigures(before, after, 10)!;
    assert.deepEqual(figures.persistence, {
      requestsPerFlow: 5,
      msPerFlow: 45,
      meanMs: 9,
      requestsPerFlowByService: { history: 4, matching: 1 },
      slowestMsPerFlow: { UpdateWorkflowExecution: 40, CreateTasks: 5 },
    });
  });
});
