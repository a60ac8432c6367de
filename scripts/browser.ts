/**
 * The real browser the UI tests drive: Debian's Chromium, through playwright-core (which never downloads a
 * browser of its own; machines here reach package registries only). `npm run browser:install` installs
 * it; the tests do the same when it is missing.
 *
 * Found, or installed, by ./debian-tool.ts (`CHROMIUM_PATH` names another binary).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { debianToolPath, ToolMissingError, type DebianTool } from './debian-tool.js';

export const debianChromium = '/usr/bin/chromium';

/** Debian's Chromium; CHROMIUM_PATH names another (Chrome works too). */
export const chromiumTool: DebianTool = {
  label: 'Chromium',
  pathVariable: 'CHROMIUM_PATH',
  debianPath: debianChromium,
  aptPackage: 'chromium',
};

export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return debianToolPath(chromiumTool, env);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Chromium refuses its sandbox as root (CI here runs as root).
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(`Chromium: ${chromiumPath()}`);
  } catch (err) {
    console.error(err instanceof ToolMissingError ? err.message : String(err));
    process.exit(1);
  }
}
