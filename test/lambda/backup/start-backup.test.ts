import {
  CreateDBSnapshotCommand,
  DBInstanceNotFoundFault,
  DBSnapshotAlreadyExistsFault,
  DBSnapshotNotFoundFault,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  SnapshotQuotaExceededFault,
} from '@aws-sdk/client-rds';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { parseBackupRequest, startBackup } from '../../../lambda/backup/start-backup';
import { ValidationError } from '../../../lambda/shared/errors';
import {
  MANAGED_BY_TAG,
  manifestKey,
  REQUESTED_AT_TAG_KEY,
  snapshotIdFor,
  TRIGGER_TAG_KEY,
} from '../../../lambda/shared/naming';
import {
  awsError,
  CONFIG,
  failedManifest,
  flush,
  INSTANCE,
  kbSnapshot,
  makeDeps,
  putBody,
  serveManifests,
} from '../../support/backup-fixtures';
import { captureEmf, enableEmf, type EmfCapture } from '../../support/emf';

const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);
const SCHEDULED = new Date('2026-11-22T02:00:00Z');
const NOW = new Date('2026-11-22T02:00:07Z');
const SNAPSHOT_ID = snapshotIdFor(SCHEDULED);

function givenInstance(status = 'available', retention = 7): void {
  rds.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [
      { DBInstanceIdentifier: INSTANCE, DBInstanceStatus: status, BackupRetentionPeriod: retention },
    ],
  });
}

function givenNoSnapshot(): void {
  rds
    .on(DescribeDBSnapshotsCommand)
    .rejects(new DBSnapshotNotFoundFault({ message: 'not found', $metadata: {} }));
}

describe('parseBackupRequest', () => {
  it('names a scheduled backup after the time the event carries, not the current time', () => {
    // Act
    const req = parseBackupRequest({ time: SCHEDULED.toISOString(), source: 'aws.scheduler' }, NOW);
    // Assess
    expect(req).toEqual({
      snapshotId: snapshotIdFor(SCHEDULED),
      trigger: 'scheduled',
      scheduledFor: SCHEDULED,
    });
  });

  it('gives an on-demand request with a reason its own snapshot named after now', () => {
    const req = parseBackupRequest({ reason: 'before schema migration' }, NOW);
    expect(req).toMatchObject({
      snapshotId: snapshotIdFor(NOW),
      trigger: 'on-demand',
      reason: 'before schema migration',
    });
  });

  it('treats an invocation without a time as on-demand at the current time', () => {
    expect(parseBackupRequest({}, NOW)).toMatchObject({
      snapshotId: snapshotIdFor(NOW),
      trigger: 'on-demand',
    });
    expect(parseBackupRequest(undefined, NOW)).toMatchObject({ trigger: 'on-demand' });
  });

  it.each([
    ['a time that is not ISO 8601', { time: 'tonight' }],
    ['a time two days in the past', { time: '2026-11-20T01:00:00Z' }],
    ['a time an hour in the future', { time: '2026-11-22T03:00:07Z' }],
    ['a reason that is not a string', { reason: 42 }],
  ])('rejects %s with a ValidationError', (_label, event) => {
    expect(() => parseBackupRequest(event, NOW)).toThrow(ValidationError);
  });
});

describe('startBackup', () => {
  let emf: EmfCapture;
  beforeAll(() => enableEmf());
  beforeEach(() => {
    rds.reset();
    s3.reset();
    serveManifests(s3, []);
    emf = captureEmf();
  });
  afterEach(() => emf.restore());

  const scheduled = { snapshotId: SNAPSHOT_ID, trigger: 'scheduled' as const, scheduledFor: SCHEDULED };

  async function run(request = scheduled) {
    const deps = makeDeps(NOW);
    const errors = jest.spyOn(deps.logger, 'error');
    const warnings = jest.spyOn(deps.logger, 'warn');
    try {
      return { result: await startBackup(deps, CONFIG, request), errors, warnings };
    } finally {
      flush(deps);
    }
  }

  it('creates the snapshot, tagged as kb-dr, scheduled, with its request time', async () => {
    // Prepare
    givenNoSnapshot();
    givenInstance('available', 7);
    rds.on(CreateDBSnapshotCommand).resolves({});
    // Act
    const { result } = await run();
    // Assess
    expect(result).toEqual({ status: 'created', snapshotId: SNAPSHOT_ID });
    expect(rds).toHaveReceivedCommandWith(CreateDBSnapshotCommand, {
      DBInstanceIdentifier: INSTANCE,
      DBSnapshotIdentifier: SNAPSHOT_ID,
      Tags: [
        { Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value },
        { Key: TRIGGER_TAG_KEY, Value: 'scheduled' },
        { Key: REQUESTED_AT_TAG_KEY, Value: NOW.toISOString() },
      ],
    });
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(emf.values('AutomatedBackupRetentionDays')).toEqual([7]);
    expect(emf.values('BackupFailure')).toEqual([]);
  });

  it('creates nothing and does not fail when a redelivered event finds its snapshot already there', async () => {
    // Prepare
    rds
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [kbSnapshot(SCHEDULED, { Status: 'creating' })] });
    // Act
    const { result } = await run();
    // Assess
    expect(result).toEqual({ status: 'already-exists', snapshotId: SNAPSHOT_ID });
    expect(rds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
    expect(emf.values('BackupFailure')).toEqual([]);
  });

  it('touches nothing in RDS when the backup is already recorded', async () => {
    // Prepare
    serveManifests(s3, [failedManifest(SNAPSHOT_ID, SCHEDULED)]);
    // Act
    const { result } = await run();
    // Assess
    expect(result.status).toBe('already-recorded');
    expect(rds.calls()).toHaveLength(0);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('treats DBSnapshotAlreadyExists from a concurrent delivery as the same snapshot', async () => {
    givenNoSnapshot();
    givenInstance();
    rds
      .on(CreateDBSnapshotCommand)
      .rejects(new DBSnapshotAlreadyExistsFault({ message: 'exists', $metadata: {} }));
    const { result } = await run();
    expect(result.status).toBe('already-exists');
    expect(emf.values('BackupFailure')).toEqual([]);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('refuses to adopt a same-named snapshot kb-dr did not tag, and reports the failure', async () => {
    rds
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [kbSnapshot(SCHEDULED, { TagList: [{ Key: 'owner', Value: 'someone' }] })] });
    const { result, errors } = await run();
    expect(result.status).toBe('failed');
    expect(rds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
    expect(emf.values('BackupFailure')).toEqual([1]);
    expect(errors).toHaveBeenCalledTimes(1);
  });

  it('records a FAILED manifest once and emits BackupFailure=1/BackupSuccess=0 when the instance is missing', async () => {
    // Prepare
    givenNoSnapshot();
    rds
      .on(DescribeDBInstancesCommand)
      .rejects(new DBInstanceNotFoundFault({ message: 'gone', $metadata: {} }));
    s3.on(PutObjectCommand).resolves({});
    // Act
    const { result, errors } = await run();
    // Assess
    expect(result).toMatchObject({
      status: 'failed',
      failure: { stage: 'snapshot', code: 'DBInstanceNotFoundFault' },
    });
    expect(rds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Key: manifestKey(SNAPSHOT_ID),
      IfNoneMatch: '*',
    });
    const manifest = putBody(s3.commandCalls(PutObjectCommand)[0]!.args[0].input);
    expect(manifest).toMatchObject({ status: 'FAILED', failure: { stage: 'snapshot' } });
    expect(emf.values('BackupFailure')).toEqual([1]);
    expect(emf.values('BackupSuccess')).toEqual([0]);
    expect(errors).toHaveBeenCalledTimes(1);
    expect(errors.mock.calls[0]?.[1]).toMatchObject({
      stage: 'snapshot',
      awsError: 'DBInstanceNotFoundFault',
    });
    expect(String((errors.mock.calls[0]?.[1] as { fix: string }).fix)).toMatch(/KB_DB_INSTANCE_ID/);
  });

  it('fails without a retry and says to start the instance when it is stopped', async () => {
    givenNoSnapshot();
    givenInstance('stopped');
    s3.on(PutObjectCommand).resolves({});
    const { result, errors } = await run();
    expect(result).toMatchObject({ status: 'failed', failure: { retryable: false } });
    expect(rds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
    expect((errors.mock.calls[0]?.[1] as { fix: string }).fix).toMatch(/start-db-instance/);
  });

  it('throws (so Lambda retries the same event) and records nothing while the instance is backing-up', async () => {
    givenNoSnapshot();
    givenInstance('backing-up');
    await expect(run()).rejects.toMatchObject({ name: 'InvalidStateError', retryable: true });
    expect(rds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(emf.values('BackupFailure')).toEqual([1]);
    expect(emf.values('BackupSuccess')).toEqual([0]);
  });

  it('reports the snapshot quota with a hint to delete old snapshots', async () => {
    givenNoSnapshot();
    givenInstance();
    rds
      .on(CreateDBSnapshotCommand)
      .rejects(new SnapshotQuotaExceededFault({ message: 'quota', $metadata: {} }));
    s3.on(PutObjectCommand).resolves({});
    const { result, errors } = await run();
    expect(result).toMatchObject({ status: 'failed', failure: { code: 'SnapshotQuotaExceededFault' } });
    expect((errors.mock.calls[0]?.[1] as { fix: string }).fix).toMatch(/delete old manual snapshots|quota/i);
    expect(emf.values('BackupFailure')).toEqual([1]);
  });

  it('reports AccessDenied with a hint about the IAM role', async () => {
    givenNoSnapshot();
    givenInstance();
    rds.on(CreateDBSnapshotCommand).rejects(awsError('AccessDenied', 'not authorized', 403));
    s3.on(PutObjectCommand).resolves({});
    const { result, errors } = await run();
    expect(result).toMatchObject({ status: 'failed', failure: { code: 'AccessDenied', retryable: false } });
    expect((errors.mock.calls[0]?.[1] as { fix: string }).fix).toMatch(/IAM role/);
  });

  it('warns how to fix an automated backup retention below 7 days, and still backs up', async () => {
    givenNoSnapshot();
    givenInstance('available', 1);
    rds.on(CreateDBSnapshotCommand).resolves({});
    const { result, warnings } = await run();
    expect(result.status).toBe('created');
    expect(emf.values('AutomatedBackupRetentionDays')).toEqual([1]);
    expect(warnings).toHaveBeenCalledWith(
      expect.stringContaining('1 days'),
      expect.objectContaining({ fix: expect.stringContaining('--backup-retention-period 7') }),
    );
  });

  it('tags an on-demand backup as on-demand', async () => {
    givenNoSnapshot();
    givenInstance();
    rds.on(CreateDBSnapshotCommand).resolves({});
    await run({ snapshotId: snapshotIdFor(NOW), trigger: 'on-demand' as never, scheduledFor: NOW });
    const tags = rds.commandCalls(CreateDBSnapshotCommand)[0]?.args[0].input.Tags;
    expect(tags).toContainEqual({ Key: TRIGGER_TAG_KEY, Value: 'on-demand' });
  });
});
