/**
 * The child processes that scripts, the bench and the tests start: where the project is, a port to put a
 * server on, a node program started so that its pid is the program's own, waiting for the line that says
 * it is ready, and stopping it with a grace period that cannot turn into a hang.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { projectRootOf } from '../config/project-files.js';

export const projectRoot = projectRootOf(import.meta.url);

/** What worker/main.ts logs once it polls: the worker's readiness line for waitForLine. */
export const workerStartedLine = /"msg":"worker started"/;

/** A loopback port nothing listens on right now (the kernel's pick, so never a well-known one). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? resolvePort(port) : reject(new Error('no free port was handed out'))));
    });
  });
}

export interface SpawnNodeOptions {
  env: NodeJS.ProcessEnv;
  /** adds an IPC channel (process.send in the child) */
  ipc?: boolean;
  /** another Node binary (the bench's Node 24 runs); default this process's */
  node?: string;
  /** another checkout to run from (the bench's earlier commit); default the project root */
  cwd?: string;
}

/**
 * `node --import tsx <entry>` for a .ts entry (a .js one runs as it is), from the project root, stdout and
 * stderr piped. Not the `tsx` command: it forks a second node, and that one is the process to measure or kill.
 */
export function spawnNode(entry: string, options: SpawnNodeOptions): ChildProcess {
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  return spawn(options.node ?? process.execPath, [...loader, entry], {
    cwd: options.cwd ?? projectRoot,
    env: options.env,
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
}

export interface WaitForLineOptions {
  /** what the error sentences call the process */
  name: string;
  timeoutMs: number;
}

// Enough of the process's last output to show why it did not get ready, not a whole log.
const outputTailChars = 4000;

/**
 * Resolves with the first line the child prints on stdout that `pattern` matches. Rejects if the child
 * exits first or takes longer than `timeoutMs`, with its last output (stdout and stderr) in the message;
 * the child is left running on a timeout, for its owner to stop.
 */
export function waitForLine(
  child: ChildProcess,
  pattern: RegExp,
  options: WaitForLineOptions,
): Promise<string> {
  const { stdout, stderr } = child;
  if (!stdout) return Promise.reject(new Error(`${options.name} has no stdout to watch`));
  return new Promise<string>((resolveLine, reject) => {
    let tail = '';
    let partial = '';
    const fail = (why: string) => {
      cleanup();
      const output = tail.trim() === '' ? 'it printed nothing' : `its last output:\n${tail.trimEnd()}`;
      reject(new Error(`${options.name} ${why}; ${output}`));
    };
    const remember = (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-outputTailChars);
    };
    const onStdout = (chunk: Buffer) => {
      remember(chunk);
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      const line = lines.find((candidate) => pattern.test(candidate));
      if (line === undefined) return;
      cleanup();
      resolveLine(line);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(`exited (code ${code}, signal ${signal}) before it printed ${pattern}`);
    const timer = setTimeout(
      () => fail(`did not print ${pattern} within ${options.timeoutMs / 1000} s`),
      options.timeoutMs,
    );
    const cleanup = () => {
      clearTimeout(timer);
      stdout.off('data', onStdout);
      stderr?.off('data', remember);
      child.off('exit', onExit);
    };
    stdout.on('data', onStdout);
    stderr?.on('data', remember);
    child.once('exit', onExit);
  });
}

function hasExited(child: ChildProcess): boolean {
  // A child that never started (no pid) will not emit 'exit' either.
  return child.pid === undefined || child.exitCode !== null || child.signalCode !== null;
}

export interface StopOptions {
  /** default SIGTERM, the graceful stop; SIGKILL for a crash on purpose */
  signal?: NodeJS.Signals;
  /** how long the process has to exit before SIGKILL */
  graceMs: number;
}

/** Sends `signal`, then SIGKILL once `graceMs` has passed; resolves when the process is gone. */
export async function stopProcess(child: ChildProcess, options: StopOptions): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill(options.signal ?? 'SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), options.graceMs);
  await exited;
  clearTimeout(killer);
}

/**
 * A long-running child whose output goes to a log file: a server that logs to a pipe nobody reads blocks
 * once the pipe is full.
 */
export interface SpawnLoggedOptions {
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** run as this user (PostgreSQL refuses to run as root) */
  uid?: number;
  gid?: number;
}

export function spawnLogged(command: string, args: string[], options: SpawnLoggedOptions): ChildProcess {
  const out = openSync(options.logFile, 'a');
  try {
    return spawn(command, args, {
      env: options.env ?? process.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
      stdio: ['ignore', out, out],
    });
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(out);
  }
}

/** Rejects when the child exits before `ready` settles, with the end of its log as the reason. */
export async function readyOrExit<T>(
  child: ChildProcess,
  ready: Promise<T>,
  what: string,
  logFile: string,
): Promise<T> {
  let onExit: (() => void) | undefined;
  const early = new Promise<never>((_, reject) => {
    onExit = () =>
      reject(
        new Error(
          `${what} exited while starting (code ${child.exitCode}, signal ${child.signalCode}): ${logTail(logFile)}; full log: ${logFile}`,
        ),
      );
    if (child.exitCode !== null || child.signalCode !== null) onExit();
    else child.once('exit', onExit);
  });
  try {
    return await Promise.race([ready, early]);
  } finally {
    if (onExit) child.off('exit', onExit);
  }
}

/** The last lines of a log, the server's JSON lines cut down to their message and error. */
export function logTail(logFile: string, lines = 3): string {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return '(no log)';
  }
  return text
    .trim()
    .split('\n')
    .slice(-lines)
    .map((line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; error?: string };
        return [entry.msg, entry.error].filter(Boolean).join(': ');
      } catch {
        return line.slice(0, 300);
      }
    })
    .join(' / ');
}

/** Polls `check` until it resolves true, or throws after `timeoutMs` naming what never became ready. */
export async function pollUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  intervalMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what} within ${timeoutMs / 1000} s${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
