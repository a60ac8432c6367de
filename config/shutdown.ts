/**
 * How every long-running entry point (worker aside: the Temporal Runtime handles its signals) ends on
 * SIGINT (Ctrl-C) or SIGTERM (an orchestrator's stop): `stop` runs once, and the process exits 0 when it
 * completes, 1 when it fails. A second signal while stopping exits 1 at once: the operator means "now".
 */
export function stopOnSignals(
  stop: (signal: NodeJS.Signals) => Promise<unknown>,
  stopFailed: (err: unknown) => void = (err) => process.stderr.write(`stop failed: ${String(err)}\n`),
): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    stop(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        stopFailed(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
