import 'aws-sdk-client-mock-jest';
import {
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  RDSClient,
  RestoreDBInstanceToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import {
  computeRestoreWindow,
  parseTargetTime,
  restorePitr,
  type RestorePitrEvent,
} from '../../../lambda/restore-pitr/restore-pitr';
import { RESTORED_TO_TIME_TAG_KEY } from '../../../core/naming';
import { CONFIG, NOW, instanceNotFound, prodInstance } from '../../support/restore-fixtures';
import { recordingSink } from '../support/metrics';

const rdsMock = mockClient(RDSClient);
const rds = new RDSClient({ region: 'us-east-1' });

const GOOD: RestorePitrEvent = {
  targetTime: '2026-11-22T01:30:00Z',
  targetInstanceId: 'kb-restore-pitr-1',
  confirm: true,
};

function run(input: RestorePitrEvent, sink = recordingSink()) {
  return restorePitr({ rds, config: CONFIG, metrics: sink, now: () => NOW }, input);
}

describe('parseTargetTime', () => {
  it('accepts Z and explicit offsets', () => {
    expect(parseTargetTime('2026-11-22T01:30:00Z').toISOString()).toBe('2026-11-22T01:30:00.000Z');
    expect(parseTargetTime('2026-11-22T02:30:00+01:00').toISOString()).toBe('2026-11-22T01:30:00.000Z');
  });

  it('refuses a time without a zone, naming the field and a valid example', () => {
    expect(() => parseTargetTime('2026-11-22T01:30:00')).toThrow(
      'targetTime "2026-11-22T01:30:00" has no time zone: add Z for UTC or an offset such as +01:00, e.g. "targetTime": "2026-11-22T01:30:00Z"',
    );
  });

  it.each(['yesterday', '2026-13-40T01:30:00Z', '22/11/2026 01:30'])('refuses malformed time %s', (t) => {
    expect(() => parseTargetTime(t)).toThrow(/targetTime/);
  });
});

describe('computeRestoreWindow', () => {
  beforeEach(() => rdsMock.reset());

  it('uses the automated backups RestoreWindow when RDS reports one', async () => {
    rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({
      DBInstanceAutomatedBackups: [{ RestoreWindow: { EarliestTime: new Date('2026-11-15T03:10:00Z') } }],
    });
    const w = await computeRestoreWindow(rds, prodInstance(), NOW);
    expect(w).toEqual({
      earliest: new Date('2026-11-15T03:10:00Z'),
      latest: new Date('2026-11-22T02:55:00Z'),
      earliestFrom: 'automated-backups',
      source:
        "earliest is the automated backups' RestoreWindow.EarliestTime; latest is the instance's LatestRestorableTime",
    });
  });

  it('falls back to now minus the retention period when no RestoreWindow is reported', async () => {
    rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({ DBInstanceAutomatedBackups: [{}] });
    const w = await computeRestoreWindow(rds, prodInstance(), NOW);
    expect(w.earliest).toEqual(new Date('2026-11-15T03:00:00Z'));
    expect(w.earliestFrom).toBe('retention-period');
  });

  it('falls back to the creation time of an instance younger than its retention period', async () => {
    rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({});
    const created = new Date('2026-11-21T12:00:00Z');
    const w = await computeRestoreWindow(rds, prodInstance({ InstanceCreateTime: created }), NOW);
    expect(w).toMatchObject({ earliest: created, earliestFrom: 'instance-create-time' });
  });
});

describe('restorePitr', () => {
  beforeEach(() => {
    rdsMock.reset();
    rdsMock.on(DescribeDBInstancesCommand).rejects(instanceNotFound());
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' })
      .resolves({ DBInstances: [prodInstance()] });
    rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({});
    rdsMock
      .on(RestoreDBInstanceToPointInTimeCommand)
      .resolves({ DBInstance: { DBInstanceStatus: 'creating' } });
  });

  it('restores a time inside the window to a new instance with the copied settings', async () => {
    const sink = recordingSink();
    const res = await run(GOOD, sink);
    expect(rdsMock).toHaveReceivedCommandWith(RestoreDBInstanceToPointInTimeCommand, {
      SourceDBInstanceIdentifier: 'kb-prod',
      TargetDBInstanceIdentifier: 'kb-restore-pitr-1',
      RestoreTime: new Date('2026-11-22T01:30:00Z'),
      DBInstanceClass: 'db.r6g.large',
      DBSubnetGroupName: 'kb-db-subnets',
      VpcSecurityGroupIds: ['sg-0abc'],
      DBParameterGroupName: 'kb-pg15',
      DeletionProtection: true,
      Tags: expect.arrayContaining([{ Key: RESTORED_TO_TIME_TAG_KEY, Value: '2026-11-22T01:30:00Z' }]),
    });
    expect(res).toMatchObject({ ok: true, action: 'started', restoreTime: '2026-11-22T01:30:00Z' });
    expect(sink.recorded()).toEqual([['RestoreStarted', 1]]);
  });

  it('uses the latest restorable time for "latest"', async () => {
    await run({ ...GOOD, targetTime: 'latest' });
    const input = rdsMock.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0]?.args[0].input;
    expect(input?.UseLatestRestorableTime).toBe(true);
    expect(input?.RestoreTime).toBeUndefined();
  });

  it('refuses a time before the window and states the window in UTC', async () => {
    await expect(run({ ...GOOD, targetTime: '2026-11-01T00:00:00Z' })).rejects.toThrow(
      'targetTime 2026-11-01T00:00:00Z is outside the restore window of kb-prod, from 2026-11-15T03:00:00Z to 2026-11-22T02:55:00Z (UTC), e.g. "targetTime": "2026-11-22T02:55:00Z"',
    );
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceToPointInTimeCommand, 0);
  });

  it('states a window of whole seconds that its own bounds and example fall inside', async () => {
    // Prepare: a window with sub-second bounds, as a real instance reports them.
    rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({
      DBInstanceAutomatedBackups: [{ RestoreWindow: { EarliestTime: new Date('2026-11-15T03:00:00.600Z') } }],
    });
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' }).resolves({
      DBInstances: [{ ...prodInstance(), LatestRestorableTime: new Date('2026-11-22T02:55:00.400Z') }],
    });
    // Act + Assess: the quoted bounds are the whole seconds inside the window...
    await expect(run({ ...GOOD, targetTime: '2026-11-15T03:00:00Z' })).rejects.toThrow(
      'from 2026-11-15T03:00:01Z to 2026-11-22T02:55:00Z (UTC), e.g. "targetTime": "2026-11-22T02:55:00Z"',
    );
    // ...and both are accepted.
    await expect(run({ ...GOOD, targetTime: '2026-11-15T03:00:01Z' })).resolves.toMatchObject({ ok: true });
    await expect(run({ ...GOOD, targetTime: '2026-11-22T02:55:00Z' })).resolves.toMatchObject({ ok: true });
  });

  it('refuses a time after LatestRestorableTime but before now', async () => {
    await expect(run({ ...GOOD, targetTime: '2026-11-22T02:58:00Z' })).rejects.toThrow(
      /outside the restore window/,
    );
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceToPointInTimeCommand, 0);
  });

  it('refuses a time in the future, comparing offsets correctly', async () => {
    await expect(run({ ...GOOD, targetTime: '2026-11-22T05:00:00+01:00' })).rejects.toThrow(
      /is in the future/,
    );
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceToPointInTimeCommand, 0);
  });

  it('refuses an offset-less time before calling AWS', async () => {
    await expect(run({ ...GOOD, targetTime: '2026-11-22T01:30:00' })).rejects.toThrow(/has no time zone/);
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('refuses a source with automated backups disabled', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' })
      .resolves({ DBInstances: [prodInstance({ BackupRetentionPeriod: 0 })] });
    await expect(run(GOOD)).rejects.toThrow(/automated backups disabled/);
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceToPointInTimeCommand, 0);
  });

  it('refuses a source that is not a protected instance without describing it', async () => {
    await expect(run({ ...GOOD, sourceInstanceId: 'kb-restore-old' })).rejects.toThrow(
      'sourceInstanceId "kb-restore-old" is not a protected instance (kb-prod, kb-prod-replica) nor one set aside by promote-restore (<protected>-pre-promote-YYYYMMDDHHMMSS), e.g. "sourceInstanceId": "kb-prod"',
    );
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 0);
  });

  it('refuses a protected source that no longer exists, pointing at restore-snapshot', async () => {
    await expect(run({ ...GOOD, sourceInstanceId: 'kb-prod-replica' })).rejects.toMatchObject({
      field: 'sourceInstanceId',
      hint: expect.stringContaining('restore-snapshot'),
    });
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceToPointInTimeCommand, 0);
  });

  it('refuses a production target and returns a plan on a dry run, neither mutating', async () => {
    await expect(run({ ...GOOD, targetInstanceId: 'Kb-Prod' })).rejects.toThrow(/is a production instance/);
    const plan = await run({ ...GOOD, confirm: undefined, dryRun: true });
    expect(plan).toMatchObject({ action: 'plan', window: { earliestFrom: 'retention-period' } });
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceToPointInTimeCommand, 0);
  });
});

describe('restorePitr: settings, window fallback, aside source, lost answers', () => {
  const ASIDE = 'kb-prod-pre-promote-20261120101500';
  const REQUEST = 'req-pitr-0001';
  const runWithId = (input: RestorePitrEvent, sink = recordingSink()) =>
    restorePitr({ rds, config: CONFIG, metrics: sink, now: () => NOW, requestId: () => REQUEST }, input);

  beforeEach(() => {
    rdsMock.reset();
    rdsMock.on(DescribeDBInstancesCommand).rejects(instanceNotFound());
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' })
      .resolves({ DBInstances: [prodInstance()] });
    rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({});
    rdsMock
      .on(RestoreDBInstanceToPointInTimeCommand)
      .resolves({ DBInstance: { DBInstanceStatus: 'creating' } });
  });

  it('carries over storage, IAM auth, log exports, option group, CA, lifecycle support and the source tags', async () => {
    // Prepare: a source with every setting that matters once promoted.
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' }).resolves({
      DBInstances: [
        prodInstance({
          StorageType: 'gp3',
          AllocatedStorage: 500,
          Iops: 12000,
          StorageThroughput: 500,
          MaxAllocatedStorage: 1000,
          IAMDatabaseAuthenticationEnabled: true,
          EnabledCloudwatchLogsExports: ['postgresql', 'upgrade'],
          OptionGroupMemberships: [{ OptionGroupName: 'kb-options', Status: 'in-sync' }],
          CACertificateIdentifier: 'rds-ca-rsa4096-g1',
          EngineLifecycleSupport: 'open-source-rds-extended-support-disabled',
          TagList: [
            { Key: 'team', Value: 'knowledge' },
            { Key: 'cost-center', Value: 'cc-42' },
            // A promoted restore's own bookkeeping must not leak into the new restore.
            { Key: 'kb-dr:restore-available-at', Value: '2026-01-01T00:00:00.000Z' },
          ],
        }),
      ],
    });
    // Act
    const res = await runWithId(GOOD);
    // Assess: the exact request.
    const input = rdsMock.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0]?.args[0].input;
    expect(input).toEqual({
      SourceDBInstanceIdentifier: 'kb-prod',
      TargetDBInstanceIdentifier: 'kb-restore-pitr-1',
      RestoreTime: new Date('2026-11-22T01:30:00Z'),
      DBInstanceClass: 'db.r6g.large',
      DBSubnetGroupName: 'kb-db-subnets',
      VpcSecurityGroupIds: ['sg-0abc'],
      DBParameterGroupName: 'kb-pg15',
      MultiAZ: true,
      PubliclyAccessible: false,
      StorageType: 'gp3',
      Iops: 12000,
      StorageThroughput: 500,
      MaxAllocatedStorage: 1000,
      EnableIAMDatabaseAuthentication: true,
      EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
      OptionGroupName: 'kb-options',
      CACertificateIdentifier: 'rds-ca-rsa4096-g1',
      EngineLifecycleSupport: 'open-source-rds-extended-support-disabled',
      DeletionProtection: true,
      CopyTagsToSnapshot: true,
      Tags: [
        { Key: 'team', Value: 'knowledge' },
        { Key: 'cost-center', Value: 'cc-42' },
        { Key: 'kb-dr:managed-by', Value: 'kb-dr' },
        { Key: 'kb-dr:restore-started-at', Value: NOW.toISOString() },
        { Key: 'kb-dr:restored-from-instance', Value: 'kb-prod' },
        { Key: 'kb-dr:protected-instance', Value: 'kb-prod' },
        { Key: 'kb-dr:restore-request', Value: REQUEST },
        { Key: RESTORED_TO_TIME_TAG_KEY, Value: '2026-11-22T01:30:00Z' },
      ],
    });
    expect(res.tags).toEqual({ copied: ['team', 'cost-center'], dropped: [] });
  });

  it('sends no IOPS or throughput for gp3 under 400 GiB (RDS refuses them there) and no default option group', async () => {
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' }).resolves({
      DBInstances: [
        prodInstance({
          StorageType: 'gp3',
          AllocatedStorage: 100,
          Iops: 3000,
          StorageThroughput: 125,
          OptionGroupMemberships: [{ OptionGroupName: 'default:postgres-15', Status: 'in-sync' }],
        }),
      ],
    });
    await runWithId(GOOD);
    const input = rdsMock.commandCalls(RestoreDBInstanceToPointInTimeCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ StorageType: 'gp3' });
    expect(input).not.toHaveProperty('Iops');
    expect(input).not.toHaveProperty('StorageThroughput');
    expect(input).not.toHaveProperty('OptionGroupName');
  });

  it('falls back to the instance window when DescribeDBInstanceAutomatedBackups is denied, and says so', async () => {
    // Prepare
    rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).rejects(
      Object.assign(new Error('User is not authorized to perform rds:DescribeDBInstanceAutomatedBackups'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    // Act
    const plan = await runWithId({ ...GOOD, confirm: undefined, dryRun: true });
    // Assess
    expect(plan.window).toMatchObject({
      earliest: '2026-11-15T03:00:00Z',
      latest: '2026-11-22T02:55:00Z',
      earliestFrom: 'retention-period',
    });
    expect(plan.window.source).toMatch(
      /DescribeDBInstanceAutomatedBackups was denied.*LatestRestorableTime.*7-day BackupRetentionPeriod/,
    );
    expect(plan.warnings.join('\n')).toMatch(/restore window: DescribeDBInstanceAutomatedBackups was denied/);
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceToPointInTimeCommand, 0);
  });

  it('says the window came from the instance when RDS reports no RestoreWindow (as moto does)', async () => {
    rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({ DBInstanceAutomatedBackups: [{}] });
    const plan = await runWithId({ ...GOOD, confirm: undefined, dryRun: true });
    expect(plan.window.source).toMatch(
      /report no RestoreWindow, so the window is estimated from the instance/,
    );
  });

  it("restores from production's aside copy after a promotion, tagged as a copy of production", async () => {
    // Prepare
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: ASIDE })
      .resolves({ DBInstances: [prodInstance({ DBInstanceIdentifier: ASIDE })] });
    // Act
    const res = await runWithId({ ...GOOD, sourceInstanceId: ASIDE });
    // Assess
    expect(rdsMock).toHaveReceivedCommandWith(RestoreDBInstanceToPointInTimeCommand, {
      SourceDBInstanceIdentifier: ASIDE,
      Tags: expect.arrayContaining([
        { Key: 'kb-dr:restored-from-instance', Value: ASIDE },
        { Key: 'kb-dr:protected-instance', Value: 'kb-prod' },
      ]),
    });
    expect(res).toMatchObject({ sourceInstanceId: ASIDE, protectedInstanceId: 'kb-prod' });
  });

  it('refuses a look-alike aside name (wrong time format) without describing it', async () => {
    await expect(
      runWithId({ ...GOOD, sourceInstanceId: 'kb-prod-pre-promote-yesterday' }),
    ).rejects.toMatchObject({
      name: 'GuardRailError',
    });
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('answers "started" once when the restore answer is lost but the instance exists with this request tag', async () => {
    // Prepare: the request reached RDS, its answer did not come back.
    rdsMock
      .on(RestoreDBInstanceToPointInTimeCommand)
      .rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' }));
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-restore-pitr-1' })
      .rejectsOnce(instanceNotFound())
      .resolves({
        DBInstances: [
          {
            DBInstanceIdentifier: 'kb-restore-pitr-1',
            DBInstanceStatus: 'creating',
            TagList: [{ Key: 'kb-dr:restore-request', Value: REQUEST }],
          },
        ],
      });
    const sink = recordingSink();
    // Act
    const res = await runWithId(GOOD, sink);
    // Assess
    expect(res).toMatchObject({ ok: true, action: 'started', status: 'creating' });
    expect(res.resolvedFromState).toMatch(
      /answer to the restore request was lost \(TimeoutError\).*created by this request/,
    );
    expect(sink.recorded()).toEqual([['RestoreStarted', 1]]);
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceToPointInTimeCommand, 1);
  });

  it('does not claim a lost restore that another request made, and emits nothing', async () => {
    rdsMock.on(RestoreDBInstanceToPointInTimeCommand).rejects(
      Object.assign(new Error('Service Unavailable'), {
        name: 'ServiceUnavailable',
        $metadata: { httpStatusCode: 503 },
      }),
    );
    const sink = recordingSink();
    const err = await runWithId(GOOD, sink).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AwsOperationError', retryable: true });
    expect((err as Error).message).toMatch(
      /answer was lost \(ServiceUnavailable\) and no instance kb-restore-pitr-1 exists now/,
    );
    expect(sink.recorded()).toEqual([]);
  });
});

describe('parseTargetTime: strict calendar', () => {
  it.each([
    ['2026-11-31T10:00:00Z', 'November 2026 has 30 days'],
    ['2026-02-29T01:30:00Z', 'February 2026 has 28 days'],
    ['2026-11-22T24:00:00Z', 'hour 24 does not exist'],
    ['2026-13-01T00:00:00Z', 'month 13 does not exist'],
    ['2026-11-22T01:60:00Z', 'minute 60 does not exist'],
    ['2026-11-22T01:30:60Z', 'second 60 does not exist'],
    ['2026-11-22T01:30:00+25:00', 'offset +25:00 does not exist'],
    ['2026-11-22T01:30:00.1234Z', 'it has 4 fractional digits'],
  ])('refuses %s, which JavaScript would roll over: %s', (value, problem) => {
    expect(() => parseTargetTime(value)).toThrow(`targetTime "${value}" is not a real time: ${problem}`);
  });

  it('accepts 29 February in a leap year and keeps milliseconds', () => {
    expect(parseTargetTime('2028-02-29T23:59:59.250Z').toISOString()).toBe('2028-02-29T23:59:59.250Z');
  });

  it('echoes an oversized time cut to 80 characters', () => {
    expect(() => parseTargetTime(`2026${'9'.repeat(100_000)}`)).toThrow(/… \(100004 characters\)"/);
  });
});

describe('restorePitr: fractional seconds', () => {
  beforeEach(() => {
    rdsMock.reset();
    rdsMock.on(DescribeDBInstancesCommand).rejects(instanceNotFound());
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' })
      .resolves({ DBInstances: [prodInstance()] });
    rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({});
    rdsMock
      .on(RestoreDBInstanceToPointInTimeCommand)
      .resolves({ DBInstance: { DBInstanceStatus: 'creating' } });
  });

  it('keeps the milliseconds given in the request, the answer and the tag', async () => {
    const res = await run({ ...GOOD, targetTime: '2026-11-22T02:30:00.250+01:00' });
    expect(res.restoreTime).toBe('2026-11-22T01:30:00.250Z');
    expect(rdsMock).toHaveReceivedCommandWith(RestoreDBInstanceToPointInTimeCommand, {
      RestoreTime: new Date('2026-11-22T01:30:00.250Z'),
      Tags: expect.arrayContaining([{ Key: RESTORED_TO_TIME_TAG_KEY, Value: '2026-11-22T01:30:00.250Z' }]),
    });
  });

  it('refuses an impossible date before any AWS call', async () => {
    await expect(run({ ...GOOD, targetTime: '2026-11-31T10:00:00Z' })).rejects.toMatchObject({
      field: 'targetTime',
    });
    expect(rdsMock.calls()).toHaveLength(0);
  });
});
