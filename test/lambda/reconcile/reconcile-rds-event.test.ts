import 'aws-sdk-client-mock-jest';
import {
  AddTagsToResourceCommand,
  DescribeDBSnapshotsCommand,
  DescribeExportTasksCommand,
  ExportTaskAlreadyExistsFault,
  KMSKeyNotAccessibleFault,
  RDSClient,
  StartExportTaskCommand,
  type ExportTask,
} from '@aws-sdk/client-rds';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { handleRdsEvent } from '../../../lambda/reconcile/reconcile';
import type { RdsEvent } from '../../../core/rds-event';
import {
  exportObjectsPrefix,
  exportS3Prefix,
  exportTaskIdFor,
  manifestKey,
  SNAPSHOT_AVAILABLE_AT_TAG_KEY,
  EXPORT_STARTED_AT_TAG_KEY,
  snapshotIdFor,
} from '../../../core/naming';
import {
  awsError,
  CONFIG,
  failedManifest,
  flush,
  kbSnapshot,
  kbTags,
  makeDeps,
  putBody,
  serveManifests,
  successManifest,
} from '../../support/backup-fixtures';
import { handlerMetrics, type HandlerMetrics } from '../support/metrics';

const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);

const REQUESTED = new Date('2026-11-22T02:00:00Z');
const SNAPSHOT_ID = snapshotIdFor(REQUESTED);
const TASK_ID = exportTaskIdFor(SNAPSHOT_ID);

function rdsEvent(eventId: string, date: Date, sourceIdentifier = SNAPSHOT_ID): RdsEvent {
  return {
    source: 'aws.rds',
    'detail-type': 'RDS DB Snapshot Event',
    time: date.toISOString(),
    detail: {
      EventID: eventId,
      SourceIdentifier: sourceIdentifier,
      SourceArn: `arn:aws:rds:us-east-1:123456789012:snapshot:${sourceIdentifier}`,
      Date: date.toISOString(),
      Message: 'event',
    },
  };
}

function givenSnapshot(status: string, extraTags: { Key: string; Value: string }[] = []): void {
  rds.on(DescribeDBSnapshotsCommand).resolves({
    DBSnapshots: [
      kbSnapshot(REQUESTED, { Status: status, TagList: kbTags('scheduled', REQUESTED, extraTags) }),
    ],
  });
}

function givenExport(task: Partial<ExportTask> | undefined): void {
  rds.on(DescribeExportTasksCommand).resolves({
    ExportTasks: task
      ? [{ ExportTaskIdentifier: TASK_ID, SourceArn: kbSnapshot(REQUESTED).DBSnapshotArn, ...task }]
      : [],
  });
}

describe('handleRdsEvent (advancing one snapshot)', () => {
  let emf: HandlerMetrics;
  beforeEach(() => {
    rds.reset();
    s3.reset();
    serveManifests(s3, []);
    emf = handlerMetrics();
  });
  afterEach(() => emf.restore());

  async function onEvent(event: RdsEvent, now: Date) {
    const deps = makeDeps(now);
    const errors = jest.spyOn(deps.logger, 'error');
    try {
      return { summary: await handleRdsEvent(deps, CONFIG, event), errors };
    } finally {
      flush(deps);
    }
  }

  it('starts the export once the snapshot is available, with the export role, key, bucket and prefix', async () => {
    // Prepare
    const available = new Date('2026-11-22T02:12:00Z');
    givenSnapshot('available');
    givenExport(undefined);
    rds.on(StartExportTaskCommand).resolves({});
    rds.on(AddTagsToResourceCommand).resolves({});
    // Act
    const { summary } = await onEvent(
      rdsEvent('RDS-EVENT-0042', available),
      new Date('2026-11-22T02:12:30Z'),
    );
    // Assess
    expect(summary.results).toEqual([
      { kind: 'export-started', snapshotId: SNAPSHOT_ID, exportTaskId: TASK_ID },
    ]);
    expect(rds).toHaveReceivedCommandTimes(StartExportTaskCommand, 1);
    expect(rds).toHaveReceivedCommandWith(StartExportTaskCommand, {
      ExportTaskIdentifier: TASK_ID,
      SourceArn: kbSnapshot(REQUESTED).DBSnapshotArn,
      S3BucketName: CONFIG.backupBucket,
      S3Prefix: exportS3Prefix(),
      IamRoleArn: CONFIG.exportRoleArn,
      KmsKeyId: CONFIG.kmsKeyArn,
    });
    expect(rds).toHaveReceivedCommandWith(AddTagsToResourceCommand, {
      Tags: expect.arrayContaining([{ Key: SNAPSHOT_AVAILABLE_AT_TAG_KEY, Value: available.toISOString() }]),
    });
    expect(emf.values('BackupDuration')).toEqual([12 * 60]);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(emf.values('BackupSuccess')).toEqual([]);
  });

  it('does nothing while the snapshot is still creating', async () => {
    givenSnapshot('creating');
    const { summary } = await onEvent(
      rdsEvent('RDS-EVENT-0042', REQUESTED),
      new Date('2026-11-22T02:05:00Z'),
    );
    expect(summary.results[0]).toMatchObject({ kind: 'waiting' });
    expect(rds).not.toHaveReceivedCommand(StartExportTaskCommand);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(emf.docs()).toEqual([]);
  });

  it('treats a duplicated snapshot-created event as harmless while the export runs', async () => {
    givenSnapshot('available');
    givenExport({ Status: 'IN_PROGRESS' });
    const { summary } = await onEvent(
      rdsEvent('RDS-EVENT-0042', REQUESTED),
      new Date('2026-11-22T02:30:00Z'),
    );
    expect(summary.results[0]).toMatchObject({ kind: 'waiting', reason: 'export IN_PROGRESS' });
    expect(rds).not.toHaveReceivedCommand(StartExportTaskCommand);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('treats ExportTaskAlreadyExists from a concurrent invocation as started, not as a failure', async () => {
    givenSnapshot('available');
    givenExport(undefined);
    rds
      .on(StartExportTaskCommand)
      .rejects(new ExportTaskAlreadyExistsFault({ message: 'dup', $metadata: {} }));
    const { summary } = await onEvent(
      rdsEvent('RDS-EVENT-0042', REQUESTED),
      new Date('2026-11-22T02:30:00Z'),
    );
    expect(summary.results[0]).toMatchObject({ kind: 'waiting' });
    expect(emf.values('BackupFailure')).toEqual([]);
    expect(rds).not.toHaveReceivedCommand(AddTagsToResourceCommand);
  });

  it('records success once, with sizes and durations, when the export completes (lower-case status from moto)', async () => {
    // Prepare
    const started = new Date('2026-11-22T02:12:00Z');
    const completed = new Date('2026-11-22T02:40:00Z');
    givenSnapshot('available', [
      { Key: SNAPSHOT_AVAILABLE_AT_TAG_KEY, Value: started.toISOString() },
      { Key: EXPORT_STARTED_AT_TAG_KEY, Value: started.toISOString() },
    ]);
    givenExport({ Status: 'complete' });
    s3.on(ListObjectsV2Command, { Prefix: exportObjectsPrefix(TASK_ID) }).resolves({
      Contents: [
        { Key: `${exportObjectsPrefix(TASK_ID)}a.parquet`, Size: 1000 },
        { Key: `${exportObjectsPrefix(TASK_ID)}b.parquet`, Size: 234 },
      ],
    });
    s3.on(PutObjectCommand).resolves({});
    // Act
    const { summary } = await onEvent(
      rdsEvent('RDS-EVENT-0161', completed),
      new Date('2026-11-22T02:41:00Z'),
    );
    // Assess
    expect(summary.results[0]).toMatchObject({ kind: 'recorded' });
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Key: manifestKey(SNAPSHOT_ID),
      IfNoneMatch: '*',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: CONFIG.kmsKeyArn,
    });
    const manifest = putBody(s3.commandCalls(PutObjectCommand)[0]!.args[0].input);
    expect(manifest).toMatchObject({
      status: 'SUCCEEDED',
      exportTaskId: TASK_ID,
      exportLocation: { bucket: CONFIG.backupBucket, prefix: exportObjectsPrefix(TASK_ID) },
      exportCompletedAt: completed.toISOString(),
      exportDurationSeconds: 28 * 60,
      backupDurationSeconds: 12 * 60,
      exportSizeBytes: 1234,
      snapshotAllocatedBytes: 20 * 1024 ** 3,
    });
    expect(emf.values('BackupSuccess')).toEqual([1]);
    expect(emf.values('BackupFailure')).toEqual([0]);
    expect(emf.values('ExportDuration')).toEqual([28 * 60]);
    expect(emf.values('BackupSizeBytes')).toEqual([1234]);
    expect(rds).not.toHaveReceivedCommand(StartExportTaskCommand);
  });

  it('leaves TimeSinceLastBackup to the periodic pass: export completion is not what it measures', async () => {
    const completed = new Date('2026-11-22T02:40:00Z');
    givenSnapshot('available');
    givenExport({ Status: 'COMPLETE', TaskEndTime: completed });
    s3.on(ListObjectsV2Command, { Prefix: exportObjectsPrefix(TASK_ID) }).resolves({ Contents: [] });
    s3.on(PutObjectCommand).resolves({});
    const { summary } = await onEvent(
      rdsEvent('RDS-EVENT-0161', completed),
      new Date('2026-11-22T03:10:00Z'),
    );
    expect(summary.results[0]).toMatchObject({ kind: 'recorded' });
    expect(summary.hoursSinceLastBackup).toBeUndefined();
    expect(emf.values('TimeSinceLastBackup')).toEqual([]);
    expect(emf.values('BackupSuccess')).toEqual([1]);
  });

  it('records a success whose export skipped a table other than the Knowledge Base as a warning', async () => {
    const warning = 'skippedTables: [public.audit_log]';
    givenSnapshot('available');
    givenExport({ Status: 'COMPLETE', WarningMessage: warning });
    s3.on(ListObjectsV2Command, { Prefix: exportObjectsPrefix(TASK_ID) }).resolves({ Contents: [] });
    s3.on(PutObjectCommand).resolves({});
    const { summary } = await onEvent(
      rdsEvent('RDS-EVENT-0161', REQUESTED),
      new Date('2026-11-22T03:00:00Z'),
    );
    expect(summary.results[0]).toMatchObject({ kind: 'recorded' });
    expect(putBody(s3.commandCalls(PutObjectCommand)[0]!.args[0].input)).toMatchObject({
      status: 'SUCCEEDED',
      exportWarning: warning,
      skippedTables: ['public.audit_log'],
    });
    expect(emf.values('BackupSuccess')).toEqual([1]);
  });

  it.each([
    ['public.knowledge_entries', 'skippedTables: [public.audit_log, public.knowledge_entries]'],
    ['embedding_cache (unqualified)', 'skippedTables: [embedding_cache]'],
    ['knowledge_entries (JSON warning)', '{"skippedTables": ["public.knowledge_entries"]}'],
  ])('records FAILED, with the reason, when the export skipped %s', async (_label, warning) => {
    givenSnapshot('available');
    givenExport({ Status: 'COMPLETE', WarningMessage: warning });
    s3.on(PutObjectCommand).resolves({});
    const { summary, errors } = await onEvent(
      rdsEvent('RDS-EVENT-0161', REQUESTED),
      new Date('2026-11-22T03:00:00Z'),
    );
    expect(summary.results[0]).toMatchObject({
      kind: 'failed',
      recorded: true,
      failure: { stage: 'export', code: 'ExportSkippedTables' },
    });
    const manifest = putBody(s3.commandCalls(PutObjectCommand)[0]!.args[0].input);
    expect(manifest).toMatchObject({ status: 'FAILED', exportWarning: warning });
    expect(manifest.failure?.message).toMatch(/skipped (knowledge_entries|embedding_cache)/);
    expect(manifest.skippedTables?.length).toBeGreaterThan(0);
    expect(emf.values('BackupFailure')).toEqual([1]);
    expect(emf.values('BackupSuccess')).toEqual([0]);
    expect(errors).toHaveBeenCalledTimes(1);
  });

  it('treats a 412 on its own earlier write (answer lost, SDK retried) as recorded and emits the success', async () => {
    // Prepare: the first PUT landed, its answer was lost; the SDK's retry gets 412. The stored
    // manifest is byte for byte the one this invocation built.
    givenSnapshot('available');
    givenExport({ Status: 'COMPLETE' });
    s3.on(ListObjectsV2Command, { Prefix: exportObjectsPrefix(TASK_ID) }).resolves({ Contents: [] });
    s3.on(PutObjectCommand).callsFake((input: { Body?: unknown }) => {
      s3.on(GetObjectCommand, { Key: manifestKey(SNAPSHOT_ID) }).resolves({
        Body: { transformToString: async () => String(input.Body) } as never,
      });
      throw awsError('PreconditionFailed', 'At least one of the pre-conditions failed', 412);
    });
    // Act
    const { summary } = await onEvent(
      rdsEvent('RDS-EVENT-0161', REQUESTED),
      new Date('2026-11-22T04:00:00Z'),
    );
    // Assess
    expect(summary.results[0]).toMatchObject({ kind: 'recorded' });
    expect(emf.values('BackupSuccess')).toEqual([1]);
    expect(emf.values('BackupFailure')).toEqual([0]);
  });

  it('starts no second export when StartExportTask answered 500 but RDS has the task', async () => {
    givenSnapshot('available');
    rds
      .on(DescribeExportTasksCommand)
      .resolves({ ExportTasks: [] })
      .on(DescribeExportTasksCommand, { ExportTaskIdentifier: TASK_ID })
      .resolves({ ExportTasks: [{ ExportTaskIdentifier: TASK_ID, Status: 'STARTING' }] });
    rds.on(StartExportTaskCommand).rejects(awsError('InternalFailure', 'internal error', 500));
    const { summary } = await onEvent(
      rdsEvent('RDS-EVENT-0042', REQUESTED),
      new Date('2026-11-22T02:20:00Z'),
    );
    expect(summary.results[0]).toEqual({
      kind: 'export-started',
      snapshotId: SNAPSHOT_ID,
      exportTaskId: TASK_ID,
    });
    expect(rds).toHaveReceivedCommandTimes(StartExportTaskCommand, 1);
    expect(rds).toHaveReceivedCommandWith(DescribeExportTasksCommand, { ExportTaskIdentifier: TASK_ID });
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(emf.values('BackupFailure')).toEqual([]);
  });

  it('fails for a retry, recording nothing, when StartExportTask timed out and RDS has no task', async () => {
    givenSnapshot('available');
    givenExport(undefined);
    rds.on(StartExportTaskCommand).rejects(Object.assign(new Error('timed out'), { name: 'TimeoutError' }));
    const { summary } = await onEvent(
      rdsEvent('RDS-EVENT-0042', REQUESTED),
      new Date('2026-11-22T02:20:00Z'),
    );
    expect(summary.results[0]).toMatchObject({
      kind: 'failed',
      recorded: false,
      failure: { retryable: true },
    });
    expect(summary.retryableFailures).toBe(1);
    expect(rds).toHaveReceivedCommandWith(DescribeExportTasksCommand, { ExportTaskIdentifier: TASK_ID });
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(emf.values('BackupFailure')).toEqual([]);
  });

  it('ignores a replayed export-completed event for a snapshot older than the retention, recording and emitting nothing', async () => {
    // Prepare: 40 days later, the manifest has expired with the bucket lifecycle.
    givenSnapshot('available');
    givenExport({ Status: 'COMPLETE' });
    // Act
    const { summary } = await onEvent(
      rdsEvent('RDS-EVENT-0161', REQUESTED),
      new Date(REQUESTED.getTime() + 40 * 86_400_000),
    );
    // Assess
    expect(summary.results).toEqual([]);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(emf.values('BackupSuccess')).toEqual([]);
    expect(emf.values('BackupFailure')).toEqual([]);
  });

  it("records a late export-completed event for an older snapshot but emits no outcome over tonight's failure", async () => {
    // Prepare: tonight (a day later) is recorded FAILED; yesterday's completed event arrives late.
    const tonightId = snapshotIdFor(new Date(REQUESTED.getTime() + 86_400_000));
    serveManifests(s3, [failedManifest(tonightId, new Date(REQUESTED.getTime() + 86_400_000))]);
    givenSnapshot('available');
    givenExport({ Status: 'COMPLETE' });
    s3.on(ListObjectsV2Command, { Prefix: exportObjectsPrefix(TASK_ID) }).resolves({ Contents: [] });
    s3.on(PutObjectCommand).resolves({});
    // Act
    const { summary } = await onEvent(
      rdsEvent('RDS-EVENT-0161', REQUESTED),
      new Date(REQUESTED.getTime() + 26 * 3_600_000),
    );
    // Assess
    expect(summary.results[0]).toMatchObject({ kind: 'recorded' });
    expect(emf.values('BackupSuccess')).toEqual([]);
    expect(emf.values('BackupFailure')).toEqual([]);
  });

  it('records nothing and emits no outcome when a redelivered export event finds the manifest', async () => {
    serveManifests(s3, [successManifest(SNAPSHOT_ID, new Date('2026-11-22T02:40:00Z'))]);
    givenSnapshot('available');
    givenExport({ Status: 'COMPLETE' });
    const { summary } = await onEvent(
      rdsEvent('RDS-EVENT-0161', REQUESTED),
      new Date('2026-11-22T04:00:00Z'),
    );
    expect(summary.results[0]).toMatchObject({ kind: 'already-recorded' });
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(emf.values('BackupSuccess')).toEqual([]);
  });

  it('emits no outcome when a concurrent writer recorded the manifest first (412 on the conditional write)', async () => {
    givenSnapshot('available');
    givenExport({ Status: 'COMPLETE' });
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(GetObjectCommand, { Key: manifestKey(SNAPSHOT_ID) }).resolves({
      Body: {
        transformToString: async () => JSON.stringify(successManifest(SNAPSHOT_ID, REQUESTED)),
      } as never,
    });
    s3.on(PutObjectCommand).rejects(
      awsError('PreconditionFailed', 'At least one of the pre-conditions failed', 412),
    );
    const { summary } = await onEvent(
      rdsEvent('RDS-EVENT-0161', REQUESTED),
      new Date('2026-11-22T04:00:00Z'),
    );
    expect(summary.results[0]).toMatchObject({ kind: 'already-recorded' });
    expect(emf.values('BackupSuccess')).toEqual([]);
    expect(emf.values('BackupFailure')).toEqual([]);
  });

  it.each([
    ['FAILED', 'ExportFailed', 'RDS-EVENT-0159'],
    ['canceled', 'ExportCanceled', 'RDS-EVENT-0160'],
  ])('records a %s export as FAILED (%s) and emits BackupFailure=1', async (status, code, eventId) => {
    givenSnapshot('available');
    givenExport({ Status: status, FailureCause: 'S3 access denied' });
    s3.on(PutObjectCommand).resolves({});
    const { summary, errors } = await onEvent(rdsEvent(eventId, REQUESTED), new Date('2026-11-22T03:00:00Z'));
    expect(summary.results[0]).toMatchObject({
      kind: 'failed',
      recorded: true,
      failure: { stage: 'export', code },
    });
    expect(putBody(s3.commandCalls(PutObjectCommand)[0]!.args[0].input)).toMatchObject({
      status: 'FAILED',
      failure: { stage: 'export', code },
    });
    expect(emf.values('BackupFailure')).toEqual([1]);
    expect(emf.values('BackupSuccess')).toEqual([0]);
    expect(emf.values('TimeSinceLastBackup')).toEqual([]);
    expect(errors).toHaveBeenCalledTimes(1);
    expect(errors.mock.calls[0]?.[1]).toMatchObject({ stage: 'export', awsError: code });
  });

  it('reports a KMS key it cannot use, records nothing before the deadline, and lets the next pass retry', async () => {
    givenSnapshot('available');
    givenExport(undefined);
    rds
      .on(StartExportTaskCommand)
      .rejects(new KMSKeyNotAccessibleFault({ message: 'key disabled', $metadata: {} }));
    const { summary, errors } = await onEvent(
      rdsEvent('RDS-EVENT-0042', REQUESTED),
      new Date('2026-11-22T02:30:00Z'),
    );
    expect(summary.results[0]).toMatchObject({
      kind: 'failed',
      recorded: false,
      failure: { stage: 'export-start' },
    });
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(rds).not.toHaveReceivedCommand(AddTagsToResourceCommand);
    expect(emf.values('BackupFailure')).toEqual([]);
    expect((errors.mock.calls[0]?.[1] as { fix: string }).fix).toMatch(/kms:CreateGrant/);
  });

  it('records FAILED when the export still cannot start after the deadline', async () => {
    givenSnapshot('available');
    givenExport(undefined);
    rds.on(StartExportTaskCommand).rejects(awsError('AccessDenied', 'not authorized', 403));
    s3.on(PutObjectCommand).resolves({});
    const { summary } = await onEvent(
      rdsEvent('RDS-EVENT-0042', REQUESTED),
      new Date('2026-11-22T08:30:00Z'),
    );
    expect(summary.results[0]).toMatchObject({
      kind: 'failed',
      recorded: true,
      failure: { stage: 'export-start' },
    });
    expect(putBody(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).failure?.message).toMatch(
      /has not started 6 h/,
    );
  });

  it('ignores events about snapshots kb-dr did not make, changing nothing', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [kbSnapshot(REQUESTED, { TagList: [] })],
    });
    const { summary } = await onEvent(
      rdsEvent('RDS-EVENT-0042', REQUESTED),
      new Date('2026-11-22T03:00:00Z'),
    );
    expect(summary.results).toEqual([]);
    expect(rds).not.toHaveReceivedCommand(StartExportTaskCommand);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('ignores events whose source is not a kb-dr snapshot without calling RDS', async () => {
    const { summary } = await onEvent(
      rdsEvent('RDS-EVENT-0042', REQUESTED, 'rds:kb-prod-2026-11-22-02-00'),
      new Date('2026-11-22T03:00:00Z'),
    );
    expect(summary.results).toEqual([]);
    expect(rds.calls()).toHaveLength(0);
  });

  it('finds the snapshot from an export task id named in the event', async () => {
    givenSnapshot('creating');
    const event = rdsEvent('RDS-EVENT-0161', REQUESTED, TASK_ID);
    const { summary } = await onEvent(
      { ...event, detail: { ...event.detail, SourceArn: undefined } },
      new Date('2026-11-22T02:05:00Z'),
    );
    expect(summary.results[0]).toMatchObject({ snapshotId: SNAPSHOT_ID });
  });
});
