/**
 * The one error for a setting that is missing or malformed. Its message is one sentence that starts with
 * the variable's name and says what it must be, so one line of a crash log tells the operator what to
 * fix. A secret's value never appears in it; other values are quoted (`got "..."`) to show the typo.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    /** the variable (or, for the embedded default's own files, the file) the value came from */
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}.`);
  }
}

/** How an entry point ends when it cannot start: the one sentence on stderr, exit code 2, no stack trace. */
export function exitForStartFailure(err: unknown): never {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}

/** Reads an entry point's settings; any problem ends the process through `exitForStartFailure`. */
export function loadOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    return exitForStartFailure(err);
  }
}
