// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'cdk.out/**',
      'dist/**',
      'coverage/**',
      '**/*.js',
      '**/*.mjs',
      'drill-out/**',
      'bench-out/**',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },

  // Import direction (docs/ARCHITECTURE.md, Code layout): core <- lambda <- lib/cli/harness <-
  // bin/drill/bench. A later block replaces an earlier one's no-restricted-imports for the same file,
  // so each block lists every rule its files obey.
  {
    files: ['bin/**/*.ts', 'lib/**/*.ts', 'cli/**/*.ts', 'drill/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+test(/|$)',
              message:
                'nothing outside test/ imports test/: move what production code, the drill or a bench needs into harness/ (or core/).',
            },
          ],
        },
      ],
    },
  },
  {
    // The CLI and the drill talk to the functions through their contracts (event schema, example,
    // answer type), never through their logic modules.
    files: ['cli/**/*.ts', 'drill/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+test(/|$)',
              message:
                'nothing outside test/ imports test/: move what production code, the drill or a bench needs into harness/ (or core/).',
            },
            {
              regex: '^(\\.\\./)+lambda/(?!shared/)[^/]+/(?!contract$)[^/]+$',
              message:
                "the CLI and the drill import a function's contract.ts (event schema, example, answer type), never its logic modules.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['harness/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+test(/|$)',
              message: 'harness/ never imports test/: what the harness needs lives in harness/ (or core/).',
            },
            {
              regex: '^(jest|@jest/.*|aws-sdk-client-mock.*|@swc/jest)$',
              message:
                'harness/ runs without jest (the drill and the benches use it): keep jest-only helpers in test/support/.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'jest', message: 'harness/ runs without jest: keep jest-only helpers in test/support/.' },
        { name: 'expect', message: 'harness/ runs without jest: keep assertions in the tests.' },
      ],
    },
  },
  {
    files: ['lambda/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(lib|cli|harness|test|drill|bench|bin)(/|$)',
              message:
                'lambda/ is deployed code: it may import core/ and lambda/ only, never lib, cli, harness, test, drill, bench or bin.',
            },
            {
              regex: '^zod(/v4)?$',
              message:
                "the functions use zod/mini (`import * as z from 'zod/mini'`, functional API): zod classic adds 445 KiB to every bundle and slows its cold start.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!node:|zod/mini$|zod/locales$|\\./)',
              message:
                "core/ imports nothing of ours and no SDK or CDK: only node built-ins, zod/mini (`import * as z from 'zod/mini'`; zod classic adds 445 KiB to every function bundle) and core/ itself.",
            },
          ],
        },
      ],
    },
  },
);
