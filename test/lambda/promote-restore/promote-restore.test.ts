import 'aws-sdk-client-mock-jest';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import {
  PromotionFailedError,
  asideInstanceId,
  promoteRestore,
  type PromoteRestoreEvent,
} from '../../../lambda/promote-restore/promote-restore';
import { exitCodeFor, toFailure } from '../../../lambda/shared/handler-response';
import {
  CONFIG,
  NOW,
  instanceNotFound,
  prodInstance,
  restoredInstance,
} from '../../support/restore-fixtures';

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
      .resolves({ DBInstances: [restoredInstance()] });
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
      DBInstances: [restoredInstance({ DBInstanceStatus: 'creating' })],
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

describe('promoteRestore: provenance, encryption, pending modifications, lost answers', () => {
  const timeout = () =>
    Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' });

  beforeEach(() => {
    rdsMock.reset();
    rdsMock.on(DescribeDBInstancesCommand).rejects(instanceNotFound());
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-restore-drill-1' })
      .resolves({ DBInstances: [restoredInstance()] });
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' })
      .resolvesOnce({ DBInstances: [prodInstance()] })
      .rejects(instanceNotFound());
    rdsMock.on(ModifyDBInstanceCommand).resolves({});
  });

  function restoredWith(tags: { Key: string; Value: string }[], overrides = {}) {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-restore-drill-1' })
      .resolves({ DBInstances: [restoredInstance({ TagList: tags, ...overrides })] });
  }
  const MANAGED = { Key: 'kb-dr:managed-by', Value: 'kb-dr' };

  it.each([
    ['a hand-made kb-restore-* instance (no kb-dr tags)', [], /was not made by kb-dr/],
    [
      "a restore of another instance's snapshot",
      [MANAGED, { Key: 'kb-dr:protected-instance', Value: 'kb-staging' }],
      /is a restore of kb-staging, not of kb-prod/,
    ],
    [
      'a restore of a second protected instance',
      [MANAGED, { Key: 'kb-dr:protected-instance', Value: 'kb-prod-replica' }],
      /is a restore of kb-prod-replica, not of kb-prod/,
    ],
  ])('refuses %s and renames nothing, even on a dry run', async (_name, tags, message) => {
    restoredWith(tags);
    await expect(run(GOOD)).rejects.toThrow(message);
    await expect(run({ ...GOOD, dryRun: true })).rejects.toThrow(message);
    expect(rdsMock).toHaveReceivedCommandTimes(ModifyDBInstanceCommand, 0);
  });

  it.each([
    ['unencrypted', { StorageEncrypted: false, KmsKeyId: undefined }, /kb-restore-drill-1 is NOT encrypted/],
    [
      'encrypted with another key',
      { KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/99999999-0000-0000-0000-000000000000' },
      /encrypted with arn:aws:kms:.*key\/99999999.*, production with .*1234abcd/,
    ],
  ])(
    'refuses a copy %s unless explicitly overridden with a reason, echoed in the answer',
    async (_n, enc, message) => {
      // Prepare
      rdsMock
        .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-restore-drill-1' })
        .resolves({ DBInstances: [restoredInstance(enc)] });
      // Production is there for each of the three calls below, then renamed aside by the last.
      rdsMock
        .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' })
        .resolvesOnce({ DBInstances: [prodInstance()] })
        .resolvesOnce({ DBInstances: [prodInstance()] })
        .resolvesOnce({ DBInstances: [prodInstance()] })
        .rejects(instanceNotFound());
      // Act + Assess: refused, then refused without a reason, then accepted with one.
      await expect(run(GOOD)).rejects.toMatchObject({
        name: 'GuardRailError',
        message: expect.stringMatching(message),
      });
      await expect(run({ ...GOOD, allowEncryptionMismatch: true })).rejects.toMatchObject({
        name: 'ValidationError',
        field: 'reason',
      });
      expect(rdsMock).toHaveReceivedCommandTimes(ModifyDBInstanceCommand, 0);
      const res = await run({
        ...GOOD,
        allowEncryptionMismatch: true,
        reason: 'old key retired; approved by J. Doe',
      });
      expect(res.encryption).toMatchObject({
        matches: false,
        override: { reason: 'old key retired; approved by J. Doe' },
      });
      expect(res.action).toBe('promoted');
    },
  );

  it('accepts the same key named by id or by ARN and reports the match', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-restore-drill-1' })
      .resolves({ DBInstances: [restoredInstance({ KmsKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' })] });
    const res = await run({ ...GOOD, dryRun: true });
    expect(res.encryption.matches).toBe(true);
    expect(res.encryption.override).toBeUndefined();
  });

  it('refuses "reason" without "allowEncryptionMismatch"', async () => {
    await expect(run({ ...GOOD, reason: 'because' })).rejects.toMatchObject({ field: 'reason' });
    expect(rdsMock).toHaveReceivedCommandTimes(ModifyDBInstanceCommand, 0);
  });

  it.each([
    ['the restored instance', 'kb-restore-drill-1'],
    ['production', 'kb-prod'],
  ])('refuses while %s has pending modifications, naming them', async (_n, id) => {
    const pending = { PendingModifiedValues: { DBInstanceClass: 'db.r6g.xlarge' } };
    if (id === 'kb-prod')
      rdsMock
        .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' })
        .resolves({ DBInstances: [prodInstance(pending)] });
    else
      rdsMock
        .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: id })
        .resolves({ DBInstances: [restoredInstance(pending)] });
    await expect(run(GOOD)).rejects.toMatchObject({
      name: 'InvalidStateError',
      message: expect.stringContaining(`${id} has pending modifications (DBInstanceClass=db.r6g.xlarge)`),
    });
    expect(rdsMock).toHaveReceivedCommandTimes(ModifyDBInstanceCommand, 0);
  });

  it('states the real rename timing in the plan and the answer', async () => {
    const plan = await run({ ...GOOD, dryRun: true });
    expect(plan.steps.join('\n')).toMatch(/reboots .*pending modifications.*about 10 minutes/);
    const res = await run(GOOD);
    expect(res.next[0]).toMatch(
      /reboots the instance.*DNS points to the new instance only after about 10 minutes/,
    );
  });

  it('continues when the first rename answer is lost but reading state shows it under way', async () => {
    // Prepare: production is renaming when read after the lost answer, then its name is free.
    rdsMock.on(ModifyDBInstanceCommand, { DBInstanceIdentifier: 'kb-prod' }).rejects(timeout());
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' })
      .resolvesOnce({ DBInstances: [prodInstance()] })
      .resolvesOnce({ DBInstances: [prodInstance({ DBInstanceStatus: 'renaming' })] })
      .rejects(instanceNotFound());
    // Act
    const res = await run(GOOD);
    // Assess
    expect(res.action).toBe('promoted');
    expect(res.steps.join('\n')).toMatch(/answer to renaming production was lost.*under way/);
    expect(renames()).toEqual([
      ['kb-prod', ASIDE],
      ['kb-restore-drill-1', 'kb-prod'],
    ]);
  });

  it('says where production may be when the first rename answer is lost and state cannot be read', async () => {
    rdsMock.on(ModifyDBInstanceCommand, { DBInstanceIdentifier: 'kb-prod' }).rejects(timeout());
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' })
      .resolvesOnce({ DBInstances: [prodInstance()] })
      .rejects(
        Object.assign(new Error('Internal'), { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } }),
      );
    const err = await run(GOOD).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromotionFailedError);
    expect((err as PromotionFailedError).message).toMatch(
      `production is either still kb-prod or being renamed to ${ASIDE}; kb-restore-drill-1 was NOT renamed`,
    );
    expect((err as PromotionFailedError).hint).toMatch(
      /restore-status .*kb-prod.*if .*exists, wait until it is available/,
    );
    expect(renames()).toEqual([['kb-prod', ASIDE]]);
  });

  it('says nothing changed (exit 2) when reading state shows the refused first rename was not applied', async () => {
    rdsMock
      .on(ModifyDBInstanceCommand, { DBInstanceIdentifier: 'kb-prod' })
      .rejects(Object.assign(new Error('busy'), { name: 'InvalidDBInstanceStateFault' }));
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' })
      .resolves({ DBInstances: [prodInstance()] });
    const err = await run(GOOD).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'PromotionFailedError', nothingChanged: true });
    expect(toFailure(err)).toMatchObject({ ok: false, nothingChanged: true });
    expect(exitCodeFor(toFailure(err))).toBe(2);
    expect(renames()).toEqual([['kb-prod', ASIDE]]);
  });

  it('does not roll back when the second rename answer is lost but the rename happened', async () => {
    // Prepare
    rdsMock.on(ModifyDBInstanceCommand, { DBInstanceIdentifier: 'kb-restore-drill-1' }).rejects(timeout());
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-restore-drill-1' })
      .resolvesOnce({ DBInstances: [restoredInstance()] })
      .rejects(instanceNotFound());
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' })
      .resolvesOnce({ DBInstances: [prodInstance()] })
      .rejectsOnce(instanceNotFound())
      .resolves({
        DBInstances: [restoredInstance({ DBInstanceIdentifier: 'kb-prod', DBInstanceStatus: 'renaming' })],
      });
    // Act
    const res = await run(GOOD);
    // Assess
    expect(res.action).toBe('promoted');
    expect(res.steps.join('\n')).toMatch(/answer to renaming kb-restore-drill-1 was lost.*done/);
    expect(renames()).toEqual([
      ['kb-prod', ASIDE],
      ['kb-restore-drill-1', 'kb-prod'],
    ]);
  });
});
