import { quietRuntime, stopServers } from './temporal.js';

export function mochaGlobalSetup(): void {
  quietRuntime();
}

export async function mochaGlobalTeardown(): Promise<void> {
  await stopServers();
}
