/** @type {import('jest').Config} */
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }];
// ESM-only packages (Parquet reader/writer) are compiled to CommonJS like our own sources.
const esmPackages = ['hyparquet', 'hyparquet-writer'];
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': swc,
    [`/node_modules/(${esmPackages.join('|')})/.+\\.js$`]: swc,
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
  // One PostgreSQL cluster and one moto_server per worker, reset between files, stopped at the end.
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 60000,
  // Jest's default is one worker per core minus one: a single worker on a 2-core CI machine, so the
  // files ran one after another. Most of the suite's time is spent waiting on child processes
  // (PostgreSQL, psql, pg_dump, moto_server, the CLI), so use every core.
  maxWorkers: '100%',
  // Slowest files first (last run's durations, else test/support/test-durations.json), so the two
  // workers finish together instead of one running the last long file alone.
  testSequencer: '<rootDir>/test/support/duration-sequencer.js',
  // jest-runtime plus a V8 code cache for the modules each test file loads afresh (see the module).
  runtime: '<rootDir>/test/support/code-cache-runtime.js',
};
