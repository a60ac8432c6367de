/**
 * The Go runtime settings both Temporal servers (the CLI's dev server, the cluster's temporal-server) start
 * with. Go collects when the heap has grown by GOGC percent since the last collection; at Go's default of
 * 100 the server spent about a tenth of its CPU collecting (BENCHMARKS.md, round 3). A larger target trades
 * heap for CPU: measured in round 4 (`npm run bench:levers -- --levers gogc`). An operator's own GOGC or
 * GOMEMLIMIT in the environment wins.
 */
export const serverGoGc = '200';

export function temporalServerGoEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return env.GOGC !== undefined || env.GOMEMLIMIT !== undefined ? {} : { GOGC: serverGoGc };
}
