import 'aws-sdk-client-mock-jest';
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
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { parseBackupRequest, ScheduleRefusedError, startBackup } from '../../../lambda/backup/start-backup';
import { ValidationError } from '../../../core/errors';
import {
  MANAGED_BY_TAG,
  manifestKey,
  PROTECTED_INSTANCE_TAG_KEY,
  REQUESTED_AT_TAG_KEY,
  snapshotIdFor,
  TRIGGER_TAG_KEY,
} from '../../../core/naming';
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
import { handlerMetrics, type HandlerMetrics } from '../support/metrics';

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
  });

  it.each([
    [
      'a misspelled field',
      { reasn: 'before migration' },
      /unknown field "reasn" \(did you mean "reason"\?\)/,
    ],
    ['null', null, /must be a JSON object, got null/],
    ['no event at all', undefined, /must be a JSON object/],
    ['an array', [{ reason: 'x' }], /must be a JSON object, got an array/],
    [
      'an unknown field nothing resembles',
      { bucket: 'b' },
      /unknown field "bucket" \(valid fields: source, time, reason\)/,
    ],
    ['an empty reason', { reason: '  ' }, /field "reason" must be at least 1 character\(s\) long/],
    ['a reason that is a number', { reason: 42 }, /field "reason" must be a string, not number 42/],
    [
      'a misspelled source',
      { source: 'kb-dr.schedul', time: '2026-11-22T02:00:00Z' },
      /field "source" must be "kb-dr.schedule" or "aws.scheduler" or "aws.events", not the string "kb-dr.schedul"/,
    ],
    ['a time that is a number', { time: 1763776800 }, /field "time" must be a string, not number 1763776800/],
  ])('refuses %s, saying nothing was changed', (_label, event, message) => {
    expect(() => parseBackupRequest(event, NOW)).toThrow(ValidationError);
    expect(() => parseBackupRequest(event, NOW)).toThrow(message);
    expect(() => parseBackupRequest(event, NOW)).toThrow(/nothing was changed/);
  });

  it('accepts the nightly schedule payload and an EventBridge rule "Scheduled Event"', () => {
    const payload = { source: 'kb-dr.schedule', time: SCHEDULED.toISOString() };
    const ruleEvent = {
      version: '0',
      id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: SCHEDULED.toISOString(),
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:123456789012:rule/kb-nightly'],
      detail: {},
    };
    expect(parseBackupRequest(payload, NOW)).toMatchObject({ snapshotId: SNAPSHOT_ID, trigger: 'scheduled' });
    expect(parseBackupRequest(ruleEvent, NOW)).toMatchObject({
      snapshotId: SNAPSHOT_ID,
      trigger: 'scheduled',
    });
  });

  it.each([
    ['a time that is not ISO 8601', { time: 'tonight' }],
    ['a time two days in the past', { time: '2026-11-20T01:00:00Z' }],
    ['a time an hour in the future', { time: '2026-11-22T03:00:07Z' }],
    ['a reason that is not a string', { reason: 42 }],
  ])('rejects %s with a ValidationError', (_label, event) => {
    expect(() => parseBackupRequest(event, NOW)).toThrow(ValidationError);
  });

  it.each([
    ['30 February', '2026-02-30T02:00:00Z', /February 2026 has 28 days/],
    ['31 November', '2026-11-31T02:00:00Z', /November 2026 has 30 days/],
    ['24:00', '2026-11-22T24:00:00Z', /hour 24 does not exist/],
    ['minute 60', '2026-11-22T01:60:00Z', /minute 60 does not exist/],
    ['no zone', '2026-11-22T02:00:00', /ISO 8601 time with Z or an offset/],
  ])('refuses a schedule time on %s instead of rolling it into another day', (_label, time, message) => {
    // JavaScript's Date would turn each into a valid instant (1 March, 1 December, the next day...).
    expect(() => parseBackupRequest({ source: 'kb-dr.schedule', time }, NOW)).toThrow(ScheduleRefusedError);
    expect(() => parseBackupRequest({ source: 'kb-dr.schedule', time }, NOW)).toThrow(message);
    expect(() => parseBackupRequest({ source: 'kb-dr.schedule', time }, NOW)).toThrow(/nothing was created/);
  });

  it('accepts a schedule time with an offset and with milliseconds', () => {
    expect(parseBackupRequest({ time: '2026-11-22T03:00:00+01:00' }, NOW)).toMatchObject({
      snapshotId: SNAPSHOT_ID,
    });
    expect(parseBackupRequest({ time: '2026-11-22T02:00:00.000Z' }, NOW)).toMatchObject({
      snapshotId: SNAPSHOT_ID,
    });
  });
});

describe('startBackup', () => {
  let emf: HandlerMetrics;
  beforeEach(() => {
    rds.reset();
    s3.reset();
    serveManifests(s3, []);
    emf = handlerMetrics();
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
        { Key: PROTECTED_INSTANCE_TAG_KEY, Value: INSTANCE },
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

  it('throws (so Lambda retries the same event) and records and emits nothing while the instance is backing-up', async () => {
    givenNoSnapshot();
    givenInstance('backing-up');
    await expect(run()).rejects.toMatchObject({ name: 'InvalidStateError', retryable: true });
    expect(rds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(emf.values('BackupFailure')).toEqual([]);
    expect(emf.values('BackupSuccess')).toEqual([]);
  });

  it.each([
    ['an HTTP 503 after the SDK attempts', awsError('ServiceUnavailable', 'try later', 503)],
    ['a TimeoutError', Object.assign(new Error('socket timed out'), { name: 'TimeoutError' })],
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ])(
    'fails the invocation on %s at DescribeDBInstances and records nothing permanent',
    async (_label, fault) => {
      givenNoSnapshot();
      rds.on(DescribeDBInstancesCommand).rejects(fault);
      await expect(run()).rejects.toMatchObject({ retryable: true });
      expect(rds).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
      expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
      expect(emf.values('BackupFailure')).toEqual([]);
    },
  );

  it('continues with the snapshot RDS created when CreateDBSnapshot answered 500 (outcome read from state)', async () => {
    // Prepare: the first lookup finds nothing, the one after the lost answer finds the snapshot.
    rds
      .on(DescribeDBSnapshotsCommand)
      .rejectsOnce(new DBSnapshotNotFoundFault({ message: 'not found', $metadata: {} }))
      .resolves({ DBSnapshots: [kbSnapshot(SCHEDULED, { Status: 'creating' })] });
    givenInstance();
    rds.on(CreateDBSnapshotCommand).rejects(awsError('InternalFailure', 'internal error', 500));
    // Act
    const { result } = await run();
    // Assess
    expect(result).toEqual({ status: 'created', snapshotId: SNAPSHOT_ID });
    expect(rds).toHaveReceivedCommandTimes(CreateDBSnapshotCommand, 1);
    expect(rds).toHaveReceivedCommandTimes(DescribeDBSnapshotsCommand, 2);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(emf.values('BackupFailure')).toEqual([]);
  });

  it('fails the invocation for a retry, recording nothing, when CreateDBSnapshot timed out and RDS has no snapshot', async () => {
    givenNoSnapshot();
    givenInstance();
    rds.on(CreateDBSnapshotCommand).rejects(Object.assign(new Error('timed out'), { name: 'TimeoutError' }));
    await expect(run()).rejects.toMatchObject({ retryable: true });
    expect(rds).toHaveReceivedCommandTimes(DescribeDBSnapshotsCommand, 2);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(emf.values('BackupFailure')).toEqual([]);
    expect(emf.values('BackupSuccess')).toEqual([]);
  });

  it('still takes the snapshot when the manifest read is denied, and says which permissions to check', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(awsError('AccessDenied', 'Access Denied', 403));
    givenNoSnapshot();
    givenInstance();
    rds.on(CreateDBSnapshotCommand).resolves({});
    // Act
    const { result, errors } = await run();
    // Assess
    expect(result.status).toBe('created');
    expect(errors).toHaveBeenCalledTimes(1);
    const [line, fields] = errors.mock.calls[0] as [string, { error: string; fix: string }];
    expect(line).toContain(`s3://${CONFIG.backupBucket}/${manifestKey(SNAPSHOT_ID)}`);
    expect(line).toMatch(/denied/);
    expect(fields.error).toBe('AccessDeniedError');
    expect(fields.fix).toContain(`s3:ListBucket on arn:aws:s3:::${CONFIG.backupBucket}`);
    expect(fields.fix).toContain('s3:GetObject');
    expect(emf.values('BackupFailure')).toEqual([]);
  });

  it('still takes the snapshot when S3 answers 503 for the manifest (the snapshot needs no S3)', async () => {
    s3.on(GetObjectCommand).rejects(awsError('ServiceUnavailable', 'Service Unavailable', 503));
    givenNoSnapshot();
    givenInstance();
    rds.on(CreateDBSnapshotCommand).resolves({});
    const { result } = await run();
    expect(result.status).toBe('created');
    expect(rds).toHaveReceivedCommandTimes(CreateDBSnapshotCommand, 1);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('treats a corrupt manifest for tonight as recorded, and reports it with a log line and CorruptManifests', async () => {
    s3.on(GetObjectCommand, { Key: manifestKey(SNAPSHOT_ID) }).resolves({
      Body: { transformToString: async () => '{"version": 1, "snap' } as never,
    });
    const { result, errors } = await run();
    expect(result.status).toBe('already-recorded');
    expect(rds.calls()).toHaveLength(0);
    expect(errors.mock.calls[0]?.[0]).toMatch(
      /corrupt manifest skipped: manifest s3:\/\/.*is not valid JSON/,
    );
    expect(emf.values('CorruptManifests')).toEqual([1]);
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
