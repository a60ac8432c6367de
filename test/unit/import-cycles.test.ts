import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCircular, parseDependencyTree } from 'dpdm';

// A cycle hides which module is the contract and which the implementation, and a value import inside one
// can meet a module that is not initialised yet. Type-only imports count: they tie the modules all the same.
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const notOurSources = new Set(['node_modules', 'dist', '.git', '.temporal', '.bench', 'test-artifacts']);
const sourceFiles = '*.{ts,mts,cts,js,mjs,cjs}';

/** The sources under `root` and every import cycle among them, as paths relative to it, resolved as tsc does. */
async function importGraph(root: string): Promise<{ modules: string[]; cycles: string[][] }> {
  const folders = readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !notOurSources.has(entry.name))
    .map((entry) => `${entry.name}/**/${sourceFiles}`);
  const tree = await parseDependencyTree([sourceFiles, ...folders], {
    cwd: root,
    context: root,
    tsconfig: join(root, 'tsconfig.json'),
    transform: false,
    skipDynamicImports: false,
  });
  return { modules: Object.keys(tree), cycles: parseCircular(tree) };
}

describe('import cycles', function () {
  it('the project has none', async function () {
    const { modules, cycles } = await importGraph(projectRoot);
    for (const module of [
      'workflows/verification.ts',
      'sandbox/main.ts',
      'test/unit/import-cycles.test.ts',
    ]) {
      assert.ok(modules.includes(module), `${module} is read`);
    }
    assert.deepEqual(
      cycles.map((cycle) => cycle.join(' -> ')),
      [],
      'move the shared contract into a module both sides import',
    );
  });

  it('are found through type-only imports written with .js specifiers', async function () {
    const root = mkdtempSync(join(tmpdir(), 'import-cycles-'));
    try {
      const files = {
        'package.json': '{ "type": "module" }',
        'tsconfig.json': '{ "compilerOptions": { "module": "NodeNext", "moduleResolution": "NodeNext" } }',
        'src/contract.ts':
          "import type { Impl } from './impl.js';\nexport type Contract = { impl?: Impl };\n",
        'src/impl.ts':
          "import type { Contract } from './contract.js';\nexport type Impl = { contract?: Contract };\n",
        'src/user.ts':
          "import type { Contract } from './contract.js';\nexport const use = (c: Contract) => c;\n",
      };
      mkdirSync(join(root, 'src'));
      for (const [path, text] of Object.entries(files)) writeFileSync(join(root, path), text);
      assert.deepEqual((await importGraph(root)).cycles, [['src/contract.ts', 'src/impl.ts']]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
