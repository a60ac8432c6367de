import { stopServers } from './temporal.js';

export async function mochaGlobalTeardown(): Promise<void> {
  await stopServers();
}
