/**
 * The worker process: `npm run worker` (or `node dist/worker/main.js`). Configuration comes from the
 * environment; see docs/deploying.md.
 */
import { runWorkerProcess } from './process.js';

await runWorkerProcess();
