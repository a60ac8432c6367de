/**
 * One JSON line per log entry, for the worker's own lines and for workflow and activity context loggers
 * (which add workflowId, activityType, attempt, ...). Callers log ids and result codes only; personal data
 * never reaches a logger in this project, so nothing is scrubbed here.
 */
import { DefaultLogger, type LogEntry, type LogLevel } from '@temporalio/worker';

export function jsonLogLine(entry: LogEntry): string {
  const at = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  return JSON.stringify({ at, level: entry.level, msg: entry.message, ...entry.meta }, (_key, value) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
}

export function createJsonLogger(
  level: LogLevel = 'INFO',
  write: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
) {
  return new DefaultLogger(level, (entry) => write(jsonLogLine(entry)));
}
