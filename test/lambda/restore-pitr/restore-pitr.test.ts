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
import { RESTORED_TO_TIME_TAG_KEY } from '../../../lambda/shared/naming';
import { CONFIG, NOW, instanceNotFound, metricSink, prodInstance } from '../restore-common/fixtures';

const rdsMock = mockClient(RDSClient);
const rds = new RDSClient({ region: 'us-east-1' });

const GOOD: RestorePitrEvent = {
  targetTime: '2026-11-22T01:30:00Z',
  targetInstanceId: 'kb-restore-pitr-1',
  confirm: true,
};

function run(input: RestorePitrEvent, sink = metricSink()) {
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
    const sink = metricSink();
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
    expect(sink.added).toEqual([['RestoreStarted', 1]]);
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
      'sourceInstanceId "kb-restore-old" is not a protected instance (kb-prod, kb-prod-replica), e.g. "sourceInstanceId": "kb-prod"',
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
