import 'aws-sdk-client-mock-jest';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { AlreadyExistsError, GuardRailError, ValidationError } from '../../../core/errors';
import {
  checkRestoreTarget,
  isAsideOf,
  requireConfirmation,
  truncateForEcho,
} from '../../../lambda/shared/guards';
import { CONFIG, NOW, instanceNotFound, prodInstance } from '../../support/restore-fixtures';

const rdsMock = mockClient(RDSClient);
const rds = new RDSClient({ region: 'us-east-1' });

describe('checkRestoreTarget', () => {
  beforeEach(() => {
    rdsMock.reset();
    rdsMock.on(DescribeDBInstancesCommand).rejects(instanceNotFound());
  });

  it.each(['kb-prod', 'KB-PROD', 'Kb-Prod-Replica'])(
    'refuses production id %s whatever its case',
    async (id) => {
      await expect(checkRestoreTarget(rds, CONFIG, id, NOW)).rejects.toThrow(GuardRailError);
      await expect(checkRestoreTarget(rds, CONFIG, id, NOW)).rejects.toThrow(/is a production instance/);
      expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 0);
    },
  );

  it('refuses a target without the restore prefix and gives an example with it', async () => {
    await expect(checkRestoreTarget(rds, CONFIG, 'my-copy', NOW)).rejects.toThrow(
      'targetInstanceId "my-copy" must start with the restore prefix "kb-restore-", e.g. "targetInstanceId": "kb-restore-20261122-0300"',
    );
  });

  it('refuses an invalid RDS id', async () => {
    await expect(checkRestoreTarget(rds, CONFIG, 'kb-restore--x', NOW)).rejects.toThrow(ValidationError);
  });

  it('refuses a target that already exists', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [prodInstance({ DBInstanceIdentifier: 'kb-restore-a' })] });
    await expect(checkRestoreTarget(rds, CONFIG, 'kb-restore-a', NOW)).rejects.toThrow(AlreadyExistsError);
  });

  it('accepts a new prefixed target, case-insensitively, and returns it in lower case', async () => {
    await expect(checkRestoreTarget(rds, CONFIG, 'KB-Restore-Drill-1', NOW)).resolves.toBe(
      'kb-restore-drill-1',
    );
  });
});

describe('requireConfirmation', () => {
  it('refuses a missing, false or non-boolean confirm unless it is a dry run', () => {
    expect(() => requireConfirmation({}, 'start a restore')).toThrow(/"confirm" must be true/);
    expect(() => requireConfirmation({ confirm: false }, 'start a restore')).toThrow(GuardRailError);
    expect(() => requireConfirmation({ dryRun: true }, 'start a restore')).not.toThrow();
    expect(() => requireConfirmation({ confirm: true }, 'start a restore')).not.toThrow();
  });
});

describe('isAsideOf and truncateForEcho', () => {
  it.each([
    ['kb-prod-pre-promote-20261122031500', 'kb-prod', true],
    ['KB-PROD-pre-promote-20261122031500', 'kb-prod', true],
    ['kb-prod-pre-promote-2026112203150', 'kb-prod', false],
    ['kb-prod-pre-promote-20261122031500-x', 'kb-prod', false],
    ['kb-prod-replica-pre-promote-20261122031500', 'kb-prod', false],
    ['kb-prod', 'kb-prod', false],
  ])('%s is an aside of %s: %s', (id, prod, expected) => {
    expect(isAsideOf(id, prod)).toBe(expected);
  });

  it('echoes short values whole and long ones cut with their length', () => {
    expect(truncateForEcho('kb-restore-1')).toBe('kb-restore-1');
    expect(truncateForEcho('x'.repeat(1_000_000))).toBe(`${'x'.repeat(80)}… (1000000 characters)`);
  });
});
