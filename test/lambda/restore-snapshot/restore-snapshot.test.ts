import 'aws-sdk-client-mock-jest';
import {
  DBInstanceAlreadyExistsFault,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import {
  restoreSnapshot,
  type RestoreSnapshotEvent,
} from '../../../lambda/restore-snapshot/restore-snapshot';
import type { AccessDeniedError } from '../../../core/errors';
import { toFailure } from '../../../lambda/shared/handler-response';
import {
  MANAGED_BY_TAG,
  PROTECTED_INSTANCE_TAG_KEY,
  RESTORED_FROM_SNAPSHOT_TAG_KEY,
  RESTORE_STARTED_AT_TAG_KEY,
  manifestKey,
} from '../../../core/naming';
import {
  CONFIG,
  NOW,
  instanceNotFound,
  kbSnapshot,
  manifest,
  prodInstance,
  snapshotNotFound,
} from '../../support/restore-fixtures';
import { recordingSink } from '../support/metrics';

const rdsMock = mockClient(RDSClient);
const s3Mock = mockClient(S3Client);
const rds = new RDSClient({ region: 'us-east-1' });
const s3 = new S3Client({ region: 'us-east-1' });

/** A GetObject body as the manifest store reads it. */
function body(text: string): never {
  return { transformToString: async () => text } as never;
}

function run(input: RestoreSnapshotEvent, sink = recordingSink()) {
  return restoreSnapshot({ rds, s3, config: CONFIG, metrics: sink, now: () => NOW }, input);
}

const GOOD: RestoreSnapshotEvent = {
  snapshotId: 'kb-snapshot-20261122-020000',
  targetInstanceId: 'kb-restore-drill-1',
  confirm: true,
};

describe('restoreSnapshot', () => {
  beforeEach(() => {
    rdsMock.reset();
    s3Mock.reset();
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [kbSnapshot()] });
    rdsMock.on(DescribeDBInstancesCommand).rejects(instanceNotFound());
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' })
      .resolves({ DBInstances: [prodInstance()] });
    rdsMock
      .on(RestoreDBInstanceFromDBSnapshotCommand)
      .resolves({ DBInstance: { DBInstanceStatus: 'creating' } });
  });

  it('restores to a new instance copying the source settings, with deletion protection and origin tags', async () => {
    // Prepare
    const sink = recordingSink();
    // Act
    const res = await run(GOOD, sink);
    // Assess
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 1);
    expect(rdsMock).toHaveReceivedCommandWith(RestoreDBInstanceFromDBSnapshotCommand, {
      DBInstanceIdentifier: 'kb-restore-drill-1',
      DBSnapshotIdentifier: 'kb-snapshot-20261122-020000',
      DBInstanceClass: 'db.r6g.large',
      DBSubnetGroupName: 'kb-db-subnets',
      VpcSecurityGroupIds: ['sg-0abc'],
      DBParameterGroupName: 'kb-pg15',
      DeletionProtection: true,
      Tags: expect.arrayContaining([
        { Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value },
        { Key: RESTORED_FROM_SNAPSHOT_TAG_KEY, Value: 'kb-snapshot-20261122-020000' },
        { Key: RESTORE_STARTED_AT_TAG_KEY, Value: NOW.toISOString() },
      ]),
    });
    expect(res).toMatchObject({
      ok: true,
      action: 'started',
      targetInstanceId: 'kb-restore-drill-1',
      startedAt: NOW.toISOString(),
      settings: { storageEncrypted: true, deletionProtection: true },
      next: { function: 'restore-status', event: { targetInstanceId: 'kb-restore-drill-1' } },
    });
    expect(sink.recorded()).toEqual([['RestoreStarted', 1]]);
  });

  it('resolves "latest" past a corrupt newest manifest and says so in its warnings', async () => {
    // Prepare: the newest manifest is not JSON; the one before it is a good backup.
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: manifestKey('kb-snapshot-20261121-020000') },
        { Key: manifestKey('kb-snapshot-20261122-020000') },
      ],
    });
    s3Mock
      .on(GetObjectCommand, { Key: manifestKey('kb-snapshot-20261122-020000') })
      .callsFake(() => ({ Body: body('{"snapshotId": "kb-snapshot-2026112') }));
    s3Mock
      .on(GetObjectCommand, { Key: manifestKey('kb-snapshot-20261121-020000') })
      .callsFake(() => ({ Body: body(JSON.stringify(manifest('kb-snapshot-20261121-020000'))) }));
    rdsMock
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [kbSnapshot('kb-snapshot-20261121-020000')] });

    // Act
    const res = await run({ ...GOOD, snapshotId: 'latest' });

    // Assess
    expect(res.snapshot).toMatchObject({ id: 'kb-snapshot-20261121-020000', resolvedFrom: 'latest' });
    expect(res.warnings).toContainEqual(
      expect.stringMatching(
        /"latest" skipped 1 corrupt manifest\(s\) \(s3:\/\/.*kb-snapshot-20261122-020000\.json\)/,
      ),
    );
  });

  it('resolves "latest" to the newest SUCCEEDED manifest, skipping a newer failed one', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: manifestKey('kb-snapshot-20261120-020000') },
        { Key: manifestKey('kb-snapshot-20261121-020000') },
        { Key: manifestKey('kb-snapshot-20261122-020000') },
      ],
    });
    s3Mock.on(GetObjectCommand, { Key: manifestKey('kb-snapshot-20261122-020000') }).callsFake(() => ({
      Body: body(JSON.stringify(manifest('kb-snapshot-20261122-020000', { status: 'FAILED' }))),
    }));
    s3Mock
      .on(GetObjectCommand, { Key: manifestKey('kb-snapshot-20261121-020000') })
      .callsFake(() => ({ Body: body(JSON.stringify(manifest('kb-snapshot-20261121-020000'))) }));
    rdsMock
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [kbSnapshot('kb-snapshot-20261121-020000')] });

    const res = await run({ ...GOOD, snapshotId: 'latest' });

    expect(res.snapshot).toMatchObject({ id: 'kb-snapshot-20261121-020000', resolvedFrom: 'latest' });
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, {
      DBSnapshotIdentifier: 'kb-snapshot-20261121-020000',
    });
    expect(rdsMock).toHaveReceivedCommandWith(RestoreDBInstanceFromDBSnapshotCommand, {
      DBSnapshotIdentifier: 'kb-snapshot-20261121-020000',
    });
  });

  it('returns the plan on a dry run and makes no mutating call', async () => {
    const sink = recordingSink();
    const res = await run({ ...GOOD, confirm: undefined, dryRun: true }, sink);
    expect(res).toMatchObject({
      ok: true,
      action: 'plan',
      dryRun: true,
      settings: { dbInstanceClass: 'db.r6g.large' },
    });
    expect(res.next.event).toEqual({ ...GOOD, snapshotId: 'kb-snapshot-20261122-020000', dryRun: false });
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 0);
    expect(sink.recorded()).toEqual([]);
  });

  it('refuses without confirm: true before calling AWS at all', async () => {
    await expect(run({ ...GOOD, confirm: false })).rejects.toThrow(/"confirm" must be true/);
    expect(rdsMock.calls()).toHaveLength(0);
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it.each([
    ['a snapshot without the kb-dr tag', { TagList: [] }, /is not a kb-dr backup/],
    ['a snapshot still creating', { Status: 'creating' }, /is creating, not available/],
  ])('refuses %s and makes no mutating call', async (_name, overrides, message) => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [kbSnapshot(undefined, overrides)] });
    await expect(run(GOOD)).rejects.toThrow(message);
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 0);
  });

  it('refuses a snapshot id that is not a kb-dr name without describing it', async () => {
    await expect(run({ ...GOOD, snapshotId: 'rds:kb-prod-2026-11-22-02-10' })).rejects.toThrow(
      'snapshotId "rds:kb-prod-2026-11-22-02-10" is not a kb-dr backup name, e.g. "snapshotId": "kb-snapshot-20261122-020000" or "snapshotId": "latest"',
    );
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBSnapshotsCommand, 0);
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 0);
  });

  it('reports an unknown snapshot with how to list them', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).rejects(snapshotNotFound());
    await expect(run(GOOD)).rejects.toMatchObject({
      name: 'NotFoundError',
      hint: expect.stringContaining('describe-db-snapshots'),
    });
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 0);
  });

  it('refuses "latest" when no successful backup is recorded', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [] });
    await expect(run({ ...GOOD, snapshotId: 'latest' })).rejects.toThrow(
      /found no successful kb-dr backup of kb-prod/,
    );
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 0);
  });

  it.each([
    ['the production instance in upper case', 'KB-PROD', /is a production instance/],
    ['an id without the restore prefix', 'drill-1', /must start with the restore prefix/],
  ])('refuses %s as target', async (_name, target, message) => {
    await expect(run({ ...GOOD, targetInstanceId: target })).rejects.toThrow(message);
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 0);
  });

  it('refuses a target that already exists', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-restore-drill-1' })
      .resolves({ DBInstances: [prodInstance({ DBInstanceIdentifier: 'kb-restore-drill-1' })] });
    await expect(run(GOOD)).rejects.toThrow(/already exists/);
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 0);
  });

  it('still restores when the source instance is gone, with RDS defaults and a warning', async () => {
    rdsMock.on(DescribeDBInstancesCommand).rejects(instanceNotFound());
    const res = await run(GOOD);
    expect(res.warnings[0]).toMatch(/source instance kb-prod no longer exists/);
    const input = rdsMock.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)[0]?.args[0].input;
    expect(input?.DBInstanceClass).toBeUndefined();
    expect(input?.DeletionProtection).toBe(true);
  });

  it('translates a restore fault into a next step', async () => {
    rdsMock
      .on(RestoreDBInstanceFromDBSnapshotCommand)
      .rejects(Object.assign(new Error('quota'), { name: 'InstanceQuotaExceededFault' }));
    const sink = recordingSink();
    await expect(run(GOOD, sink)).rejects.toMatchObject({ name: 'QuotaExceededError' });
    expect(sink.recorded()).toEqual([]);
  });
});

describe('restoreSnapshot: provenance, carried-over settings, lost answers, denied manifests', () => {
  const REQUEST = 'req-snap-0001';
  const runWithId = (input: RestoreSnapshotEvent, sink = recordingSink()) =>
    restoreSnapshot(
      { rds, s3, config: CONFIG, metrics: sink, now: () => NOW, requestId: () => REQUEST },
      input,
    );
  const MANAGED = { Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value };
  const ASIDE = 'kb-prod-pre-promote-20261120101500';

  beforeEach(() => {
    rdsMock.reset();
    s3Mock.reset();
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [kbSnapshot()] });
    rdsMock.on(DescribeDBInstancesCommand).rejects(instanceNotFound());
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' })
      .resolves({ DBInstances: [prodInstance()] });
    rdsMock
      .on(RestoreDBInstanceFromDBSnapshotCommand)
      .resolves({ DBInstance: { DBInstanceStatus: 'creating' } });
  });

  it.each([
    [
      "another instance's kb-dr snapshot",
      { DBInstanceIdentifier: 'kb-staging', TagList: [MANAGED] },
      /is not a backup of the protected instance kb-prod: it was taken of kb-staging, not kb-prod/,
    ],
    [
      'a snapshot whose protected-instance tag names another instance',
      { TagList: [MANAGED, { Key: PROTECTED_INSTANCE_TAG_KEY, Value: 'kb-staging' }] },
      /its tag kb-dr:protected-instance=kb-staging names another instance/,
    ],
    [
      "an aside's snapshot without the protected-instance tag",
      { DBInstanceIdentifier: ASIDE, TagList: [MANAGED] },
      /an aside of kb-prod needs the tag kb-dr:protected-instance=kb-prod/,
    ],
    [
      'a snapshot tagged for kb-prod but taken of an unrelated instance',
      {
        DBInstanceIdentifier: 'kb-staging',
        TagList: [MANAGED, { Key: PROTECTED_INSTANCE_TAG_KEY, Value: 'kb-prod' }],
      },
      /taken of kb-staging, which is neither kb-prod nor its promotion aside/,
    ],
  ])('refuses %s and makes no mutating call', async (_name, overrides, message) => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [kbSnapshot(undefined, overrides)] });
    await expect(runWithId(GOOD)).rejects.toMatchObject({
      name: 'GuardRailError',
      message: expect.stringMatching(message),
    });
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 0);
  });

  it('restores a pre-promotion snapshot taken under the aside name when its tag names the protected instance', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        kbSnapshot(undefined, {
          DBInstanceIdentifier: ASIDE,
          TagList: [MANAGED, { Key: PROTECTED_INSTANCE_TAG_KEY, Value: 'kb-prod' }],
        }),
      ],
    });
    const res = await runWithId(GOOD);
    expect(res).toMatchObject({ action: 'started', protectedInstanceId: 'kb-prod' });
    // The aside is gone: settings come from the protected instance.
    expect(rdsMock).toHaveReceivedCommandWith(RestoreDBInstanceFromDBSnapshotCommand, {
      DBInstanceClass: 'db.r6g.large',
      Tags: expect.arrayContaining([
        { Key: PROTECTED_INSTANCE_TAG_KEY, Value: 'kb-prod' },
        { Key: 'kb-dr:restored-from-instance', Value: ASIDE },
      ]),
    });
  });

  it('restores a second protected instance only when the caller names it, tagging the copy with it', async () => {
    rdsMock
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [kbSnapshot(undefined, { DBInstanceIdentifier: 'kb-prod-replica' })] });
    await expect(runWithId(GOOD)).rejects.toThrow(/not a backup of the protected instance kb-prod/);
    const res = await runWithId({ ...GOOD, sourceInstanceId: 'kb-prod-replica' });
    expect(res.protectedInstanceId).toBe('kb-prod-replica');
    expect(rdsMock).toHaveReceivedCommandWith(RestoreDBInstanceFromDBSnapshotCommand, {
      Tags: expect.arrayContaining([{ Key: PROTECTED_INSTANCE_TAG_KEY, Value: 'kb-prod-replica' }]),
    });
    await expect(runWithId({ ...GOOD, sourceInstanceId: 'kb-staging' })).rejects.toThrow(
      /sourceInstanceId "kb-staging" is not a protected instance/,
    );
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 1);
  });

  it('carries over the settings that matter once promoted, storage and option group from the snapshot', async () => {
    // Prepare
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        kbSnapshot(undefined, {
          StorageType: 'io1',
          AllocatedStorage: 200,
          Iops: 6000,
          OptionGroupName: 'kb-options-15',
          IAMDatabaseAuthenticationEnabled: false,
        }),
      ],
    });
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' }).resolves({
      DBInstances: [
        prodInstance({
          StorageType: 'gp3',
          AllocatedStorage: 800,
          Iops: 20000,
          MaxAllocatedStorage: 2000,
          IAMDatabaseAuthenticationEnabled: true,
          EnabledCloudwatchLogsExports: ['postgresql'],
          OptionGroupMemberships: [{ OptionGroupName: 'kb-options-16' }],
          CACertificateIdentifier: 'rds-ca-ecc384-g1',
          EngineLifecycleSupport: 'open-source-rds-extended-support',
          TagList: [{ Key: 'team', Value: 'knowledge' }],
        }),
      ],
    });
    // Act
    await runWithId(GOOD);
    // Assess
    const input = rdsMock.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)[0]?.args[0].input;
    expect(input).toEqual({
      DBInstanceIdentifier: 'kb-restore-drill-1',
      DBSnapshotIdentifier: 'kb-snapshot-20261122-020000',
      DBInstanceClass: 'db.r6g.large',
      DBSubnetGroupName: 'kb-db-subnets',
      VpcSecurityGroupIds: ['sg-0abc'],
      DBParameterGroupName: 'kb-pg15',
      MultiAZ: true,
      PubliclyAccessible: false,
      StorageType: 'io1',
      Iops: 6000,
      MaxAllocatedStorage: 2000,
      EnableIAMDatabaseAuthentication: true,
      EnableCloudwatchLogsExports: ['postgresql'],
      OptionGroupName: 'kb-options-15',
      CACertificateIdentifier: 'rds-ca-ecc384-g1',
      EngineLifecycleSupport: 'open-source-rds-extended-support',
      DeletionProtection: true,
      CopyTagsToSnapshot: true,
      Tags: [
        { Key: 'team', Value: 'knowledge' },
        { Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value },
        { Key: RESTORE_STARTED_AT_TAG_KEY, Value: NOW.toISOString() },
        { Key: 'kb-dr:restored-from-instance', Value: 'kb-prod' },
        { Key: PROTECTED_INSTANCE_TAG_KEY, Value: 'kb-prod' },
        { Key: 'kb-dr:restore-request', Value: REQUEST },
        { Key: RESTORED_FROM_SNAPSHOT_TAG_KEY, Value: 'kb-snapshot-20261122-020000' },
      ],
    });
  });

  it("keeps within RDS's 50 tags, dropping the source's extra tags and saying so", async () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ Key: `t${i}`, Value: 'v' }));
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' })
      .resolves({ DBInstances: [prodInstance({ TagList: many })] });
    const res = await runWithId(GOOD);
    const tags = rdsMock.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)[0]?.args[0].input.Tags ?? [];
    expect(tags).toHaveLength(50);
    expect(tags).toEqual(expect.arrayContaining([{ Key: 'kb-dr:restore-request', Value: REQUEST }]));
    expect(res.tags.dropped).toHaveLength(16);
    expect(res.warnings.join('\n')).toMatch(/RDS allows 50 tags: the source's tags t44, .* were not copied/);
  });

  it("answers 'started' once when the SDK's retry of an applied restore meets AlreadyExists", async () => {
    // Prepare: the first attempt created the instance, the SDK's retry was told it already exists.
    rdsMock
      .on(RestoreDBInstanceFromDBSnapshotCommand)
      .rejects(new DBInstanceAlreadyExistsFault({ message: 'DB instance already exists', $metadata: {} }));
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-restore-drill-1' })
      .rejectsOnce(instanceNotFound())
      .resolves({
        DBInstances: [
          {
            DBInstanceIdentifier: 'kb-restore-drill-1',
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
    expect(res.resolvedFromState).toMatch(/DBInstanceAlreadyExistsFault.*created by this request/);
    expect(sink.recorded()).toEqual([['RestoreStarted', 1]]);
    // The same event again is refused (the instance exists) and emits nothing more.
    const again = await runWithId(GOOD, sink).catch((e: unknown) => e);
    expect(again).toMatchObject({ name: 'AlreadyExistsError' });
    expect(sink.recorded()).toEqual([['RestoreStarted', 1]]);
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 1);
  });

  it("refuses AlreadyExists for someone else's instance (not this request's) as nothing changed", async () => {
    rdsMock
      .on(RestoreDBInstanceFromDBSnapshotCommand)
      .rejects(new DBInstanceAlreadyExistsFault({ message: 'DB instance already exists', $metadata: {} }));
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-restore-drill-1' })
      .rejectsOnce(instanceNotFound())
      .resolves({ DBInstances: [{ DBInstanceIdentifier: 'kb-restore-drill-1', TagList: [] }] });
    const sink = recordingSink();
    const err = await runWithId(GOOD, sink).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AlreadyExistsError' });
    expect(toFailure(err)).toMatchObject({ nothingChanged: true });
    expect(sink.recorded()).toEqual([]);
  });

  it('tells a denied manifest listing from a missing one, naming the bucket and the permissions', async () => {
    s3Mock.on(ListObjectsV2Command).rejects(
      Object.assign(new Error('Access Denied'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const err = await runWithId({ ...GOOD, snapshotId: 'latest' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AccessDeniedError' });
    expect((err as AccessDeniedError).message).toMatch(
      /resolve "latest": access to the manifests in s3:\/\/kb-backups-unit\/manifests\/ was DENIED \(403\)/,
    );
    expect((err as AccessDeniedError).hint).toMatch(
      /s3:ListBucket on arn:aws:s3:::kb-backups-unit .*s3:GetObject on arn:aws:s3:::kb-backups-unit\/manifests\/\*/,
    );
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 0);
  });
});

describe('restoreSnapshot: ids checked before any AWS call', () => {
  beforeEach(() => {
    rdsMock.reset();
    s3Mock.reset();
  });

  it.each([
    ['a 1 MB target id', `kb-restore-${'x'.repeat(1_000_000)}`, /is not a valid RDS instance id/],
    ['a production target', 'kb-prod', /is a production instance/],
    ['a target without the prefix', 'my-copy', /must start with the restore prefix/],
  ])(
    'refuses %s without reading S3 or RDS, echoing at most 80 characters of it',
    async (_n, target, message) => {
      const err = await restoreSnapshot(
        { rds, s3, config: CONFIG, metrics: recordingSink(), now: () => NOW },
        { snapshotId: 'latest', targetInstanceId: target, confirm: true },
      ).catch((e: Error) => e);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message.length).toBeLessThan(400);
      expect(rdsMock.calls()).toHaveLength(0);
      expect(s3Mock.calls()).toHaveLength(0);
    },
  );
});
