import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import {
  PromotionFailedError,
  asideInstanceId,
  promoteRestore,
  type PromoteRestoreEvent,
} from '../../../lambda/promote-restore/promote-restore';
import { CONFIG, NOW, instanceNotFound, prodInstance } from '../restore-common/fixtures';

const rdsMock = mockClient(RDSClient);
const rds = new RDSClient({ region: 'us-east-1' });
const ASIDE = 'kb-prod-pre-promote-20261122030000';
const GOOD: PromoteRestoreEvent = {
  restoredInstanceId: 'kb-restore-drill-1',
  productionInstanceId: 'kb-prod',
  confirm: true,
  forceProduction: true,
};

function run(input: PromoteRestoreEvent, waitBudgetMs = 600_000) {
  return promoteRestore({ rds, config: CONFIG, now: () => NOW, sleep: async () => {}, waitBudgetMs }, input);
}

function renames(): [string | undefined, string | undefined][] {
  return rdsMock
    .commandCalls(ModifyDBInstanceCommand)
    .map((c) => [c.args[0].input.DBInstanceIdentifier, c.args[0].input.NewDBInstanceIdentifier]);
}

describe('promoteRestore', () => {
  beforeEach(() => {
    rdsMock.reset();
    rdsMock.on(DescribeDBInstancesCommand).rejects(instanceNotFound());
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-restore-drill-1' })
      .resolves({ DBInstances: [prodInstance({ DBInstanceIdentifier: 'kb-restore-drill-1' })] });
    // Production answers twice (guard, then first poll while renaming), then its name is free.
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' })
      .resolvesOnce({ DBInstances: [prodInstance()] })
      .resolvesOnce({ DBInstances: [prodInstance({ DBInstanceStatus: 'renaming' })] })
      .rejects(instanceNotFound());
    rdsMock.on(ModifyDBInstanceCommand).resolves({});
  });

  it('renames production aside, waits for its name to be free, then renames the restore into it', async () => {
    const res = await run(GOOD);
    expect(renames()).toEqual([
      ['kb-prod', ASIDE],
      ['kb-restore-drill-1', 'kb-prod'],
    ]);
    expect(rdsMock).toHaveReceivedCommandWith(ModifyDBInstanceCommand, { ApplyImmediately: true });
    expect(res).toMatchObject({ ok: true, action: 'promoted', asideInstanceId: ASIDE });
  });

  it('puts production back when the second rename fails', async () => {
    rdsMock
      .on(ModifyDBInstanceCommand, { DBInstanceIdentifier: 'kb-restore-drill-1' })
      .rejects(Object.assign(new Error('boom'), { name: 'InvalidDBInstanceStateFault' }));
    await expect(run(GOOD)).rejects.toThrow(/promotion failed and was rolled back/);
    expect(renames()).toEqual([
      ['kb-prod', ASIDE],
      ['kb-restore-drill-1', 'kb-prod'],
      [ASIDE, 'kb-prod'],
    ]);
  });

  it('says URGENT with the manual command when the rollback fails too', async () => {
    rdsMock
      .on(ModifyDBInstanceCommand, { DBInstanceIdentifier: 'kb-restore-drill-1' })
      .rejects(new Error('boom'));
    rdsMock.on(ModifyDBInstanceCommand, { DBInstanceIdentifier: ASIDE }).rejects(new Error('boom again'));
    await expect(run(GOOD)).rejects.toMatchObject({
      name: 'PromotionFailedError',
      hint: expect.stringContaining(`--db-instance-identifier ${ASIDE} --new-db-instance-identifier kb-prod`),
    });
  });

  it('stops before the second rename when the first outlasts the wait budget', async () => {
    let calls = 0;
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' }).callsFake(() => ({
      DBInstances: [prodInstance({ DBInstanceStatus: calls++ === 0 ? 'available' : 'renaming' })],
    }));
    const err = await run(GOOD, 30_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromotionFailedError);
    expect((err as PromotionFailedError).retryable).toBe(true);
    expect(renames()).toEqual([['kb-prod', ASIDE]]);
  });

  it.each([
    ['without forceProduction', { forceProduction: undefined }, /"forceProduction" must be true/],
    [
      'with forceProduction as a string',
      { forceProduction: 'true' as unknown as boolean },
      /"forceProduction" must be true/,
    ],
    ['without confirm', { confirm: undefined }, /"confirm" must be true/],
    [
      'onto a non-production instance',
      { productionInstanceId: 'kb-staging' },
      /not a configured production instance/,
    ],
    [
      'from an instance without the restore prefix',
      { restoredInstanceId: 'kb-staging' },
      /must be a restored instance/,
    ],
    ['from production itself', { restoredInstanceId: 'KB-PROD-REPLICA' }, /must be a restored instance/],
  ])('refuses %s and renames nothing', async (_name, overrides, message) => {
    await expect(run({ ...GOOD, ...overrides })).rejects.toThrow(message);
    expect(rdsMock).toHaveReceivedCommandTimes(ModifyDBInstanceCommand, 0);
  });

  it('refuses a restored instance that is not available yet', async () => {
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-restore-drill-1' }).resolves({
      DBInstances: [
        prodInstance({ DBInstanceIdentifier: 'kb-restore-drill-1', DBInstanceStatus: 'creating' }),
      ],
    });
    await expect(run(GOOD)).rejects.toThrow(/is creating, not available/);
    expect(rdsMock).toHaveReceivedCommandTimes(ModifyDBInstanceCommand, 0);
  });

  it('returns the plan on a dry run without renaming', async () => {
    const res = await run({
      restoredInstanceId: 'kb-restore-drill-1',
      productionInstanceId: 'kb-prod',
      dryRun: true,
    });
    expect(res.action).toBe('plan');
    expect(res.steps[0]).toBe(`rename production kb-prod to ${ASIDE} (kept, never deleted)`);
    expect(rdsMock).toHaveReceivedCommandTimes(ModifyDBInstanceCommand, 0);
  });

  it('promotes directly when no production instance exists (it was lost)', async () => {
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' }).rejects(instanceNotFound());
    const res = await run(GOOD);
    expect(renames()).toEqual([['kb-restore-drill-1', 'kb-prod']]);
    expect(res.asideInstanceId).toBeUndefined();
  });

  it('names the aside instance after production and the UTC time', () => {
    expect(asideInstanceId('KB-Prod', new Date('2026-01-02T03:04:05Z'))).toBe(
      'kb-prod-pre-promote-20260102030405',
    );
  });
});
