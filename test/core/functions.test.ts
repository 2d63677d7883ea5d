import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import {
  DEFAULT_FUNCTION_PREFIX,
  FUNCTIONS,
  PIPELINE_FUNCTIONS,
  RESTORE_FUNCTIONS,
  RESTORE_TEST_FUNCTIONS,
  deployedFunctionName,
} from '../../core/functions';

describe('the function catalog', () => {
  it('names exactly the function folders under lambda/ (shared is not a function)', () => {
    const dirs = readdirSync(path.join(__dirname, '..', '..', 'lambda'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'shared')
      .map((d) => d.name)
      .sort();
    expect([...FUNCTIONS].sort()).toEqual(dirs);
    expect(new Set(FUNCTIONS).size).toBe(
      PIPELINE_FUNCTIONS.length + RESTORE_FUNCTIONS.length + RESTORE_TEST_FUNCTIONS.length,
    );
  });

  it('deploys a function as <prefix>-<name>', () => {
    expect(deployedFunctionName(DEFAULT_FUNCTION_PREFIX, 'restore-pitr')).toBe('kb-dr-restore-pitr');
    expect(deployedFunctionName('kb-dr-staging', 'promote-restore')).toBe('kb-dr-staging-promote-restore');
  });
});
