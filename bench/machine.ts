/**
 * What the figures were measured on, and how busy the machine was with work that is not the bench's:
 * a figure taken while a test suite ran beside it is a different figure, and says so.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { cpuOf, round, type Measured } from './processes.js';

export interface MachineDescription {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  /** the 1-minute load average when the run started */
  loadAtStart: number;
  /** cores busy with other processes over two seconds just before the run */
  otherLoadAtStartCores: number;
}

export async function describeMachine(): Promise<MachineDescription> {
  const idle = new ForeignLoad(() => [process.pid]);
  idle.start();
  await new Promise((r) => setTimeout(r, 2000));
  const otherLoadAtStartCores = idle.stop();
  const cpuList = cpus();
  return {
    cores: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAtStart: round(loadavg()[0] ?? 0, 2),
    otherLoadAtStartCores,
  };
}

/** Busy CPU time of the whole machine so far, in seconds (all cores, from /proc/stat). */
function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / 100;
  } catch {
    return undefined;
  }
}

/**
 * Measures the CPU the machine spent on processes other than the given ones over an interval, as an
 * average number of cores: near 0 means the bench had the machine to itself.
 */
export class ForeignLoad {
  readonly #pids: () => Measured[];
  #busyAtStart = 0;
  #ownAtStart = 0;
  #startedAt = 0;

  constructor(pids: () => Measured[]) {
    this.#pids = pids;
  }

  start(): void {
    this.#busyAtStart = machineBusySeconds() ?? 0;
    this.#ownAtStart = this.#ownSeconds();
    this.#startedAt = performance.now();
  }

  /** average cores used by everything else since start() */
  stop(): number {
    const seconds = (performance.now() - this.#startedAt) / 1000;
    const busy = (machineBusySeconds() ?? 0) - this.#busyAtStart;
    const own = this.#ownSeconds() - this.#ownAtStart;
    return seconds > 0 ? round(Math.max(0, busy - own) / seconds, 2) : 0;
  }

  #ownSeconds(): number {
    return this.#pids().reduce<number>((sum, pid) => sum + (cpuOf(pid) ?? 0), 0);
  }
}
