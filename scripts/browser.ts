/**
 * The real browser the UI tests drive: Debian's Chromium, through playwright-core (which never downloads a
 * browser of its own; machines here reach package registries only). `npm run browser:install` installs
 * it; the tests do the same when it is missing.
 *
 * Order: `CHROMIUM_PATH`, then `/usr/bin/chromium`; when neither exists and we run as root, `apt-get
 * install chromium` (after one `apt-get update`); otherwise one sentence saying what to install.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const debianChromium = '/usr/bin/chromium';

export class BrowserMissingError extends Error {
  override name = 'BrowserMissingError';
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function chromiumPath(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = (line) => console.error(line),
): string {
  const configured = env.CHROMIUM_PATH;
  if (configured) {
    if (!executable(configured)) {
      throw new BrowserMissingError(`CHROMIUM_PATH is set to ${configured}, which is not executable.`);
    }
    return configured;
  }
  if (executable(debianChromium)) return debianChromium;
  if (process.getuid?.() !== 0) {
    throw new BrowserMissingError(
      `Chromium is not installed at ${debianChromium}: run \`sudo apt-get install -y chromium\` (Debian/Ubuntu) or set CHROMIUM_PATH to a Chromium or Chrome binary.`,
    );
  }
  log('Installing Chromium with apt-get (once) ...');
  const apt = (args: string[]) =>
    execFileSync('apt-get', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  try {
    apt(['update']);
    apt(['install', '-y', 'chromium']);
  } catch (err) {
    const reason = String((err as { stderr?: Buffer }).stderr ?? '')
      .trim()
      .split('\n')
      .pop();
    throw new BrowserMissingError(
      `apt-get could not install chromium (${reason || 'apt-get failed'}); install it yourself or set CHROMIUM_PATH.`,
    );
  }
  if (!executable(debianChromium)) {
    throw new BrowserMissingError(`apt-get installed chromium but ${debianChromium} is missing.`);
  }
  return debianChromium;
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
    console.error(err instanceof BrowserMissingError ? err.message : String(err));
    process.exit(1);
  }
}
