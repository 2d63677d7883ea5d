/**
 * restore-test Lambda: the weekly schedule starts a test, RDS instance events and the periodic
 * pass advance them (lambda/restore-test/contract.ts). A failure is thrown, so it is retried.
 */
import { pipelineHandler } from '../shared/handler';
import { loadRestoreTestConfig } from './config';
import { RESTORE_TEST_EVENT } from './contract';
import { runRestoreTest } from './restore-test';

const config = loadRestoreTestConfig();

export const handler = pipelineHandler('restore-test', {
  parse: (event) => RESTORE_TEST_EVENT.read(event),
  run: (input, deps) => runRestoreTest({ ...deps, config }, input),
});
