/**
 * The cluster's long-running children. Their output goes to a log file (a server that logs to a pipe
 * nobody reads blocks once the pipe is full), and stopping one waits until it is really gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

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

export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

/** Sends `signal`, then SIGKILL if the process is still there after `graceMs`. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  const gone = exited(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
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
