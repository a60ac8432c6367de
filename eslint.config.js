import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

// Every Node builtin, bare and with the node: prefix, from Node itself rather than a hand list.
const nodeBuiltins = [
  ...new Set(builtinModules.flatMap((name) => [name, `node:${name.replace(/^node:/, '')}`])),
];

export default tseslint.config(
  // The generated validators are Ajv's code (npm run generate:validators), not written to these rules.
  {
    ignores: [
      'node_modules/',
      '**/dist/',
      '.temporal/',
      '.tools/',
      '.bench/',
      'workflows/wire-validators.generated.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      // Type-aware rules: a promise nobody awaits is a bug in activities, clients and tests alike.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['**/*.cjs', '**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Workflow code runs in the deterministic sandbox: the clock and randomness come from the SDK only.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../activities/*', '../activities/**'],
              allowTypeImports: true,
              message: 'Import activities as types only.',
            },
            {
              group: ['got', '@temporalio/activity', '@temporalio/client', '@temporalio/worker'],
              message: 'No I/O in workflow code.',
            },
          ],
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Node builtins are not available in the workflow sandbox.',
          })),
        },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Date',
          property: 'now',
          message: 'Use the workflow clock (Date is replayed by the SDK, but be explicit).',
        },
        { object: 'Math', property: 'random', message: 'Use uuid4() from @temporalio/workflow.' },
      ],
    },
  },
);
