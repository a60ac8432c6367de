/**
 * Rolling out a new worker build with Temporal Worker Deployments, for the team that runs the workers:
 *
 *   npm run rollout -- status                  every version of the deployment, and the flows pinned to each
 *   npm run rollout -- promote <build id>      make that build current (roll out, or roll back)
 *   npm run rollout -- drain <build id>        wait until no flow is pinned to that build any more
 *
 * The deployment is WORKER_DEPLOYMENT_NAME and the server the TEMPORAL_* settings, the same variables the
 * workers read. The `temporal worker deployment` CLI commands do the same on the server; this adds the
 * waiting (for the new build's pollers, for the old build to drain) that a rollout needs.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { exitForStartFailure } from '../config/errors.js';
import { readInt, requireString } from '../config/settings.js';
import { temporalTargetFromEnv, type TemporalTarget } from '../config/temporal.js';

const { WorkerDeploymentVersionStatus } = proto.temporal.api.enums.v1;

export type VersionStatus = 'CREATED' | 'CURRENT' | 'RAMPING' | 'DRAINING' | 'DRAINED' | 'INACTIVE';

export interface VersionReport {
  buildId: string;
  status: VersionStatus;
  /** open flows pinned to this build, from visibility (a few seconds behind) */
  runningFlows: number;
}

export interface DeploymentReport {
  deploymentName: string;
  current?: string;
  versions: VersionReport[];
}

export interface WaitOptions {
  timeoutMs: number;
  /** between two looks at the server */
  intervalMs?: number;
  onProgress?: (line: string) => void;
}

const statusNames: Record<number, VersionStatus> = {
  [WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_CREATED]: 'CREATED',
  [WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT]: 'CURRENT',
  [WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_RAMPING]: 'RAMPING',
  [WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING]: 'DRAINING',
  [WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED]: 'DRAINED',
  [WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_INACTIVE]: 'INACTIVE',
};

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export class Rollout {
  private readonly identity = `rollout@${hostname()}`;

  private constructor(
    private readonly client: Client,
    private readonly namespace: string,
    readonly deploymentName: string,
  ) {}

  static async connect(target: TemporalTarget, deploymentName: string): Promise<Rollout> {
    const connection = await Connection.connect(
      target.connectConfig.connectionOptions as Parameters<typeof Connection.connect>[0],
    );
    return new Rollout(
      new Client({ connection, namespace: target.namespace }),
      target.namespace,
      deploymentName,
    );
  }

  private get service() {
    return this.client.workflowService;
  }

  async status(): Promise<DeploymentReport> {
    const { workerDeploymentInfo: info } = await this.service.describeWorkerDeployment({
      namespace: this.namespace,
      deploymentName: this.deploymentName,
    });
    const versions = await Promise.all(
      (info?.versionSummaries ?? []).map(async (summary) => {
        const buildId = summary.deploymentVersion?.buildId ?? '';
        return {
          buildId,
          status: statusNames[summary.status ?? 0] ?? 'INACTIVE',
          runningFlows: await this.runningFlows(buildId),
        };
      }),
    );
    const current = info?.routingConfig?.currentDeploymentVersion?.buildId;
    return { deploymentName: this.deploymentName, ...(current ? { current } : {}), versions };
  }

  /** Open flows pinned to (or, unpinned, last run on) this build. */
  async runningFlows(buildId: string): Promise<number> {
    const version = `${this.deploymentName}:${buildId}`.replaceAll("'", "\\'");
    const { count } = await this.client.workflow.count(
      `TemporalWorkerDeploymentVersion = '${version}' AND ExecutionStatus = 'Running'`,
    );
    return count;
  }

  /**
   * Makes the build current: new flows start on it; flows pinned elsewhere stay there. The server refuses
   * a version no worker has polled yet, so this first waits for the build's workers to show up. Returns
   * the build that was current before, the one to promote again to roll back.
   */
  async promote(buildId: string, wait: WaitOptions): Promise<string | undefined> {
    const deadline = Date.now() + wait.timeoutMs;
    while (!(await this.hasPollers(buildId))) {
      if (Date.now() > deadline) {
        throw new Error(
          `no worker of build ${buildId} has polled deployment ${this.deploymentName} within ${wait.timeoutMs / 1000} s; start it with WORKER_DEPLOYMENT_NAME=${this.deploymentName} WORKER_BUILD_ID=${buildId}`,
        );
      }
      wait.onProgress?.(`waiting for workers of build ${buildId} to poll`);
      await sleep(wait.intervalMs ?? 500);
    }
    const { conflictToken } = await this.service.describeWorkerDeployment({
      namespace: this.namespace,
      deploymentName: this.deploymentName,
    });
    const answer = await this.service.setWorkerDeploymentCurrentVersion({
      namespace: this.namespace,
      deploymentName: this.deploymentName,
      buildId,
      // Another operator's change in between makes this call fail rather than be silently undone.
      conflictToken,
      identity: this.identity,
    });
    return answer.previousDeploymentVersion?.buildId || undefined;
  }

  private async hasPollers(buildId: string): Promise<boolean> {
    try {
      const { workerDeploymentVersionInfo: info } = await this.service.describeWorkerDeploymentVersion({
        namespace: this.namespace,
        deploymentVersion: { deploymentName: this.deploymentName, buildId },
      });
      return (info?.taskQueueInfos ?? []).length > 0;
    } catch (err) {
      // NOT_FOUND: no worker of this version has polled yet.
      if ((err as { code?: number }).code === 5) return false;
      throw err;
    }
  }

  /**
   * Resolves once the server reports the build DRAINED: not current, and no open flow pinned to it. Its
   * workers can then stop. The server rechecks on its own schedule (matching.wv.VersionDrainageStatus*).
   */
  async drain(buildId: string, wait: WaitOptions): Promise<void> {
    const deadline = Date.now() + wait.timeoutMs;
    for (;;) {
      const version = (await this.status()).versions.find((v) => v.buildId === buildId);
      if (!version) throw new Error(`deployment ${this.deploymentName} has no build ${buildId}`);
      if (version.status === 'DRAINED') return;
      if (version.status === 'CURRENT' || version.status === 'RAMPING') {
        throw new Error(`build ${buildId} is ${version.status}; promote another build before draining it`);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `build ${buildId} is still ${version.status} with ${version.runningFlows} running flows after ${wait.timeoutMs / 1000} s`,
        );
      }
      wait.onProgress?.(
        `build ${buildId}: ${version.status}, ${version.runningFlows} running flows pinned to it`,
      );
      await sleep(wait.intervalMs ?? 5000);
    }
  }

  async close(): Promise<void> {
    await this.client.connection.close();
  }
}

export function formatReport(report: DeploymentReport): string {
  const lines = [
    `deployment ${report.deploymentName}, current build: ${report.current ?? 'none (unversioned)'}`,
  ];
  for (const v of report.versions) lines.push(`  ${v.buildId}  ${v.status}  ${v.runningFlows} running flows`);
  return lines.join('\n');
}

const usage = 'usage: npm run rollout -- status | promote <build id> | drain <build id>';

async function main(argv: string[]): Promise<void> {
  const [command, buildId] = argv;
  const env = process.env;
  let settings: { target: TemporalTarget; deploymentName: string; waitMinutes: number };
  if (!['status', 'promote', 'drain'].includes(command ?? '') || (command !== 'status' && !buildId)) {
    console.error(usage);
    process.exit(2);
  }
  try {
    settings = {
      target: temporalTargetFromEnv(env),
      deploymentName: requireString(env, 'WORKER_DEPLOYMENT_NAME'),
      waitMinutes: readInt(env, 'ROLLOUT_MAX_WAIT_MINUTES', 60, { min: 1 }),
    };
  } catch (err) {
    return exitForStartFailure(err);
  }
  const rollout = await Rollout.connect(settings.target, settings.deploymentName);
  const wait: WaitOptions = {
    timeoutMs: settings.waitMinutes * 60_000,
    onProgress: (line) => console.log(`${new Date().toISOString()} ${line}`),
  };
  try {
    if (command === 'promote') {
      const previous = await rollout.promote(buildId!, wait);
      console.log(`build ${buildId} is current; new flows start on it.`);
      if (previous)
        console.log(`build ${previous} drains; roll back with: npm run rollout -- promote ${previous}`);
    } else if (command === 'drain') {
      await rollout.drain(buildId!, wait);
      console.log(`build ${buildId} is drained; its workers can stop.`);
    }
    console.log(formatReport(await rollout.status()));
  } finally {
    await rollout.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error((err as Error).message);
    process.exit(1);
  });
}
