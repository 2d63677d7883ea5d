import 'aws-sdk-client-mock-jest';
import {
  AddTagsToResourceCommand,
  DeleteDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  DescribeExportTasksCommand,
  RDSClient,
  StartExportTaskCommand,
  type DBSnapshot,
} from '@aws-sdk/client-rds';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { reconcilePass } from '../../../lambda/reconcile/reconcile';
import { NO_SUCCESSFUL_BACKUP_HOURS } from '../../../lambda/shared/backup-pipeline';
import {
  exportTaskIdFor,
  MANAGED_BY_TAG,
  manifestKey,
  PROTECTED_INSTANCE_TAG_KEY,
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
  serveManifests,
  successManifest,
} from '../../support/backup-fixtures';
import { handlerMetrics, type HandlerMetrics } from '../support/metrics';

const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);
const NOW = new Date('2026-11-22T12:00:00Z');
const DAY = 86_400_000;

function daysAgo(n: number, hour = 2): Date {
  const d = new Date(NOW.getTime() - n * DAY);
  d.setUTCHours(hour, 0, 0, 0);
  return d;
}

function givenSnapshots(snapshots: DBSnapshot[]): void {
  rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: snapshots });
  rds.on(DescribeExportTasksCommand).resolves({ ExportTasks: [] });
}

async function pass() {
  const deps = makeDeps(NOW);
  const errors = jest.spyOn(deps.logger, 'error');
  try {
    return { summary: await reconcilePass(deps, CONFIG), errors };
  } finally {
    flush(deps);
  }
}

describe('reconcilePass', () => {
  let emf: HandlerMetrics;
  beforeEach(() => {
    rds.reset();
    s3.reset();
    emf = handlerMetrics();
  });
  afterEach(() => emf.restore());

  it('lists every manual snapshot (not only those still named after the instance) and keeps backups by tag', async () => {
    givenSnapshots([]);
    serveManifests(s3, []);
    await pass();
    expect(rds).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' });
    expect(rds).not.toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, {
      DBInstanceIdentifier: CONFIG.dbInstanceId,
    });
  });

  it('emits TimeSinceLastBackup as hours since the newest recovery point was requested, not since an export completed', async () => {
    // Prepare: yesterday's export completed late (05:30) and tonight's snapshot is available but
    // still exporting: the recovery point is tonight's snapshot, requested at 02:00.
    const yesterday = kbSnapshot(daysAgo(1));
    const tonight = kbSnapshot(daysAgo(0));
    givenSnapshots([yesterday, tonight]);
    rds.on(DescribeExportTasksCommand, { SourceArn: tonight.DBSnapshotArn }).resolves({
      ExportTasks: [
        { ExportTaskIdentifier: exportTaskIdFor(tonight.DBSnapshotIdentifier!), Status: 'IN_PROGRESS' },
      ],
    });
    serveManifests(s3, [successManifest(yesterday.DBSnapshotIdentifier!, daysAgo(1, 5))]);
    // Act
    const { summary } = await pass();
    // Assess: NOW is 12:00, tonight's snapshot was requested at 02:00.
    expect(summary.results).toEqual([expect.objectContaining({ kind: 'waiting' })]);
    expect(summary.hoursSinceLastBackup).toBe(10);
    expect(emf.values('TimeSinceLastBackup')).toEqual([10]);
    expect(emf.values('BackupSuccess')).toEqual([]);
    expect(emf.values('BackupFailure')).toEqual([]);
  });

  it('does not count a snapshot whose backup is recorded FAILED as a recovery point', async () => {
    const yesterday = kbSnapshot(daysAgo(1));
    const tonight = kbSnapshot(daysAgo(0));
    givenSnapshots([yesterday, tonight]);
    serveManifests(s3, [
      successManifest(yesterday.DBSnapshotIdentifier!, daysAgo(1, 3)),
      failedManifest(tonight.DBSnapshotIdentifier!, daysAgo(0, 3)),
    ]);
    const { summary } = await pass();
    expect(summary.hoursSinceLastBackup).toBe(34);
  });

  it('counts snapshots taken before a promotion renamed the instances (found by their protected-instance tag)', async () => {
    // Prepare: production was renamed aside; its old snapshots name the aside instance, and a
    // snapshot of another protected instance (staging) carries kb-dr's tag too.
    const aside = `${CONFIG.dbInstanceId}-pre-promote-20261121-100000`;
    const taggedFor = (id: string, at: Date, instance: string): DBSnapshot =>
      kbSnapshot(at, {
        DBSnapshotIdentifier: id,
        DBInstanceIdentifier: instance,
        TagList: kbTags('scheduled', at, [{ Key: PROTECTED_INSTANCE_TAG_KEY, Value: CONFIG.dbInstanceId }]),
      });
    const beforePromotion = taggedFor(snapshotIdFor(daysAgo(1)), daysAgo(1), aside);
    const staging = kbSnapshot(daysAgo(0, 6), {
      DBInstanceIdentifier: CONFIG.dbInstanceId,
      TagList: kbTags('scheduled', daysAgo(0, 6), [{ Key: PROTECTED_INSTANCE_TAG_KEY, Value: 'kb-staging' }]),
    });
    givenSnapshots([beforePromotion, staging]);
    serveManifests(s3, [successManifest(beforePromotion.DBSnapshotIdentifier!, daysAgo(1, 3))]);
    // Act
    const { summary } = await pass();
    // Assess: the aside-named snapshot is the recovery point (34 h); staging's is not ours.
    expect(summary.hoursSinceLastBackup).toBe(34);
    expect(summary.results).toEqual([]);
    expect(rds).not.toHaveReceivedCommand(StartExportTaskCommand);
  });

  it('tags older backups that lack the protected-instance tag, so a later rename cannot orphan them', async () => {
    const legacy = kbSnapshot(daysAgo(1));
    givenSnapshots([legacy]);
    serveManifests(s3, [successManifest(legacy.DBSnapshotIdentifier!, daysAgo(1, 3))]);
    await pass();
    expect(rds).toHaveReceivedCommandWith(AddTagsToResourceCommand, {
      ResourceName: legacy.DBSnapshotArn,
      Tags: [{ Key: PROTECTED_INSTANCE_TAG_KEY, Value: CONFIG.dbInstanceId }],
    });
  });

  it('reports and skips a corrupt manifest: TimeSinceLastBackup, retention and the newest intact success still work', async () => {
    // Prepare: tonight's manifest is garbage, yesterday's is intact, a 40-day-old snapshot expired.
    const expired = kbSnapshot(daysAgo(40));
    const yesterday = kbSnapshot(daysAgo(1));
    const tonight = kbSnapshot(daysAgo(0));
    givenSnapshots([expired, yesterday, tonight]);
    serveManifests(s3, [successManifest(yesterday.DBSnapshotIdentifier!, daysAgo(1, 3))]);
    s3.on(ListObjectsV2Command).resolves({
      Contents: [yesterday, tonight].map((x) => ({ Key: manifestKey(x.DBSnapshotIdentifier!) })),
    });
    s3.on(GetObjectCommand, { Key: manifestKey(tonight.DBSnapshotIdentifier!) }).resolves({
      Body: { transformToString: async () => '{"version": 1, "status": "SUCC' } as never,
    });
    rds.on(DeleteDBSnapshotCommand).resolves({});
    // Act
    const { summary, errors } = await pass();
    // Assess
    expect(summary.results).toEqual([]);
    expect(summary.hoursSinceLastBackup).toBe(34);
    expect(summary.retention?.deleted).toEqual([expired.DBSnapshotIdentifier]);
    expect(emf.values('CorruptManifests')).toEqual([1]);
    expect(emf.values('TimeSinceLastBackup')).toEqual([34]);
    expect(errors.mock.calls.map((c) => c[0])).toEqual([
      expect.stringMatching(
        new RegExp(`corrupt manifest skipped: .*${tonight.DBSnapshotIdentifier}.*not valid JSON`),
      ),
    ]);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('still emits TimeSinceLastBackup from RDS when the bucket cannot be listed, then fails for a retry without pruning', async () => {
    const expired = kbSnapshot(daysAgo(40));
    const tonight = kbSnapshot(daysAgo(0));
    givenSnapshots([expired, tonight]);
    s3.on(ListObjectsV2Command).rejects(awsError('ServiceUnavailable', 'Service Unavailable', 503));
    const deps = makeDeps(NOW);
    await expect(reconcilePass(deps, CONFIG).finally(() => flush(deps))).rejects.toMatchObject({
      retryable: true,
    });
    expect(emf.values('TimeSinceLastBackup')).toEqual([10]);
    expect(rds).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
    expect(rds).not.toHaveReceivedCommand(StartExportTaskCommand);
    expect(emf.values('BackupFailure')).toEqual([]);
  });

  it('records an older snapshot late but emits no outcome over a newer recorded failure', async () => {
    // Prepare: tonight is recorded FAILED; yesterday's completed export was never recorded.
    const yesterday = kbSnapshot(daysAgo(1));
    const tonight = kbSnapshot(daysAgo(0));
    givenSnapshots([yesterday, tonight]);
    serveManifests(s3, [failedManifest(tonight.DBSnapshotIdentifier!, daysAgo(0, 3))]);
    rds.on(DescribeExportTasksCommand, { SourceArn: yesterday.DBSnapshotArn }).resolves({
      ExportTasks: [
        { ExportTaskIdentifier: exportTaskIdFor(yesterday.DBSnapshotIdentifier!), Status: 'COMPLETE' },
      ],
    });
    s3.on(PutObjectCommand).resolves({});
    // Act
    const { summary } = await pass();
    // Assess
    expect(summary.results).toEqual([expect.objectContaining({ kind: 'recorded' })]);
    expect(emf.values('BackupSuccess')).toEqual([]);
    expect(emf.values('BackupFailure')).toEqual([]);
  });

  it('emits the no-success sentinel, far above the 25 h threshold, when nothing ever succeeded', async () => {
    givenSnapshots([]);
    serveManifests(s3, [failedManifest(snapshotIdFor(daysAgo(1)), daysAgo(1))]);
    await pass();
    expect(emf.values('TimeSinceLastBackup')).toEqual([NO_SUCCESSFUL_BACKUP_HOURS]);
    expect(NO_SUCCESSFUL_BACKUP_HOURS).toBeGreaterThan(25);
  });

  it('recovers a lost snapshot-created event by starting the export', async () => {
    // Prepare
    const tonight = kbSnapshot(daysAgo(0));
    givenSnapshots([tonight]);
    serveManifests(s3, []);
    rds.on(StartExportTaskCommand).resolves({});
    // Act
    const { summary } = await pass();
    // Assess
    expect(summary.results).toEqual([
      expect.objectContaining({
        kind: 'export-started',
        exportTaskId: exportTaskIdFor(tonight.DBSnapshotIdentifier!),
      }),
    ]);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('skips snapshots whose outcome is recorded, and snapshots kb-dr did not tag', async () => {
    const recorded = kbSnapshot(daysAgo(1));
    const untagged = kbSnapshot(daysAgo(0), { TagList: [] });
    const manual = kbSnapshot(daysAgo(0, 5), { DBSnapshotIdentifier: 'before-upgrade' });
    givenSnapshots([recorded, untagged, manual]);
    serveManifests(s3, [successManifest(recorded.DBSnapshotIdentifier!, daysAgo(1, 3))]);
    const { summary } = await pass();
    expect(summary.results).toEqual([]);
    expect(rds).not.toHaveReceivedCommand(StartExportTaskCommand);
    expect(rds).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
  });

  it('reports only the newest outcome when one pass records several, so an old failure cannot mask tonight', async () => {
    // Prepare: yesterday's export failed, tonight's completed; both events were lost.
    const yesterday = kbSnapshot(daysAgo(1));
    const tonight = kbSnapshot(daysAgo(0));
    givenSnapshots([tonight, yesterday]);
    serveManifests(s3, []);
    rds
      .on(DescribeExportTasksCommand, { SourceArn: yesterday.DBSnapshotArn })
      .resolves({
        ExportTasks: [
          { ExportTaskIdentifier: exportTaskIdFor(yesterday.DBSnapshotIdentifier!), Status: 'FAILED' },
        ],
      })
      .on(DescribeExportTasksCommand, { SourceArn: tonight.DBSnapshotArn })
      .resolves({
        ExportTasks: [
          { ExportTaskIdentifier: exportTaskIdFor(tonight.DBSnapshotIdentifier!), Status: 'COMPLETE' },
        ],
      });
    s3.on(ListObjectsV2Command, {
      Prefix: 'exports/' + exportTaskIdFor(tonight.DBSnapshotIdentifier!) + '/',
    }).resolves({});
    s3.on(PutObjectCommand).resolves({});
    // Act
    const { summary, errors } = await pass();
    // Assess
    expect(summary.results.map((r) => r.kind)).toEqual(['failed', 'recorded']);
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 2);
    expect(emf.values('BackupSuccess')).toEqual([1]);
    expect(emf.values('BackupFailure')).toEqual([0]);
    expect(errors).toHaveBeenCalledTimes(1);
  });

  it('counts retryable failures so the handler can fail the invocation', async () => {
    givenSnapshots([kbSnapshot(daysAgo(0, 10))]);
    serveManifests(s3, []);
    rds
      .on(StartExportTaskCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    const { summary } = await pass();
    expect(summary.retryableFailures).toBe(1);
    expect(summary.results[0]).toMatchObject({ kind: 'failed', recorded: false });
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(emf.values('BackupFailure')).toEqual([]);
  });
});

describe('retention in the periodic pass', () => {
  let emf: HandlerMetrics;
  beforeEach(() => {
    rds.reset();
    s3.reset();
    emf = handlerMetrics();
  });
  afterEach(() => emf.restore());

  const old = (n: number, overrides: Partial<DBSnapshot> = {}): DBSnapshot =>
    kbSnapshot(daysAgo(n), overrides);

  it('deletes kb-dr snapshots older than the retention and keeps younger ones', async () => {
    // Prepare
    const expired = old(31);
    const young = old(29);
    const newest = old(0);
    givenSnapshots([expired, young, newest]);
    serveManifests(s3, [
      successManifest(expired.DBSnapshotIdentifier!, daysAgo(31, 3)),
      successManifest(young.DBSnapshotIdentifier!, daysAgo(29, 3)),
      successManifest(newest.DBSnapshotIdentifier!, daysAgo(0, 3)),
    ]);
    rds.on(DeleteDBSnapshotCommand).resolves({});
    // Act
    const { summary } = await pass();
    // Assess
    expect(summary.retention?.deleted).toEqual([expired.DBSnapshotIdentifier]);
    expect(rds).toHaveReceivedCommandTimes(DeleteDBSnapshotCommand, 1);
    expect(rds).toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: expired.DBSnapshotIdentifier,
    });
  });

  it('prunes an expired backup whose DBInstanceIdentifier is the renamed-aside instance, found by its protected-instance tag', async () => {
    // Prepare: 40 days ago, before a promotion, production was snapshotted; it now names the aside id.
    const tagged = (n: number, instance: string, protectedId: string): DBSnapshot =>
      old(n, {
        DBInstanceIdentifier: instance,
        TagList: kbTags('scheduled', daysAgo(n), [{ Key: PROTECTED_INSTANCE_TAG_KEY, Value: protectedId }]),
      });
    const beforePromotion = tagged(
      40,
      `${CONFIG.dbInstanceId}-pre-promote-20261020-100000`,
      CONFIG.dbInstanceId,
    );
    const otherProtected = tagged(41, CONFIG.dbInstanceId, 'kb-staging');
    const newest = tagged(0, CONFIG.dbInstanceId, CONFIG.dbInstanceId);
    givenSnapshots([beforePromotion, otherProtected, newest]);
    serveManifests(s3, [successManifest(newest.DBSnapshotIdentifier!, daysAgo(0, 3))]);
    rds.on(DeleteDBSnapshotCommand).resolves({});
    // Act
    const { summary } = await pass();
    // Assess
    expect(summary.retention?.deleted).toEqual([beforePromotion.DBSnapshotIdentifier]);
    expect(rds).not.toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: otherProtected.DBSnapshotIdentifier,
    });
  });

  it('never deletes a kb-named snapshot without the kb-dr tag, or a tagged snapshot with another name', async () => {
    const impostor = old(40, { TagList: [{ Key: 'team', Value: 'data' }] });
    const renamed = old(40, {
      DBSnapshotIdentifier: 'kb-snapshot-keep-me',
      TagList: kbTags('on-demand', daysAgo(40)),
    });
    const wrongTagValue = old(41, { TagList: [{ Key: MANAGED_BY_TAG.key, Value: 'someone-else' }] });
    const newest = old(0);
    givenSnapshots([impostor, renamed, wrongTagValue, newest]);
    serveManifests(s3, [
      successManifest(impostor.DBSnapshotIdentifier!, daysAgo(40, 3)),
      successManifest(newest.DBSnapshotIdentifier!, daysAgo(0, 3)),
    ]);
    const { summary } = await pass();
    expect(summary.retention?.deleted).toEqual([]);
    expect(rds).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
  });

  it('keeps the newest successful backup however old it is', async () => {
    const lastGood = old(45);
    const failedSince = old(35);
    const tonightFailed = old(0);
    givenSnapshots([lastGood, failedSince, tonightFailed]);
    serveManifests(s3, [
      successManifest(lastGood.DBSnapshotIdentifier!, daysAgo(45, 3)),
      failedManifest(failedSince.DBSnapshotIdentifier!, daysAgo(35)),
      failedManifest(tonightFailed.DBSnapshotIdentifier!, daysAgo(0)),
    ]);
    rds.on(DeleteDBSnapshotCommand).resolves({});
    const { summary } = await pass();
    expect(summary.retention?.deleted).toEqual([failedSince.DBSnapshotIdentifier]);
    expect(summary.retention?.kept).toContainEqual({
      snapshotId: lastGood.DBSnapshotIdentifier,
      reason: 'newest successful backup',
    });
    expect(rds).not.toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: lastGood.DBSnapshotIdentifier,
    });
  });

  it('deletes an expired snapshot whose manifest the bucket lifecycle already removed, without re-recording it', async () => {
    // Prepare: manifests expire with the same retention, so the 31-day-old one is gone.
    const expired = old(31);
    const newest = old(0);
    givenSnapshots([expired, newest]);
    rds.on(DescribeExportTasksCommand, { SourceArn: expired.DBSnapshotArn }).resolves({
      ExportTasks: [
        { ExportTaskIdentifier: exportTaskIdFor(expired.DBSnapshotIdentifier!), Status: 'COMPLETE' },
      ],
    });
    serveManifests(s3, [successManifest(newest.DBSnapshotIdentifier!, daysAgo(0, 3))]);
    rds.on(DeleteDBSnapshotCommand).resolves({});
    // Act
    const { summary } = await pass();
    // Assess
    expect(summary.results).toEqual([]);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(emf.values('BackupSuccess')).toEqual([]);
    expect(summary.retention?.deleted).toEqual([expired.DBSnapshotIdentifier]);
  });

  it('keeps an expired snapshot whose export is still running', async () => {
    const exporting = old(31);
    const newest = old(0);
    givenSnapshots([exporting, newest]);
    rds.on(DescribeExportTasksCommand, { SourceArn: exporting.DBSnapshotArn }).resolves({
      ExportTasks: [
        { ExportTaskIdentifier: exportTaskIdFor(exporting.DBSnapshotIdentifier!), Status: 'IN_PROGRESS' },
      ],
    });
    serveManifests(s3, [
      failedManifest(exporting.DBSnapshotIdentifier!, daysAgo(31)),
      successManifest(newest.DBSnapshotIdentifier!, daysAgo(0, 3)),
    ]);
    const { summary } = await pass();
    expect(summary.retention?.kept).toContainEqual({
      snapshotId: exporting.DBSnapshotIdentifier,
      reason: 'export still running',
    });
    expect(rds).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
  });

  it('logs a retention error and carries on when a deletion is denied', async () => {
    const a = old(40);
    const b = old(39);
    const newest = old(0);
    givenSnapshots([a, b, newest]);
    serveManifests(s3, [
      successManifest(a.DBSnapshotIdentifier!, daysAgo(40, 3)),
      successManifest(b.DBSnapshotIdentifier!, daysAgo(39, 3)),
      successManifest(newest.DBSnapshotIdentifier!, daysAgo(0, 3)),
    ]);
    rds
      .on(DeleteDBSnapshotCommand, { DBSnapshotIdentifier: a.DBSnapshotIdentifier })
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }))
      .on(DeleteDBSnapshotCommand, { DBSnapshotIdentifier: b.DBSnapshotIdentifier })
      .resolves({});
    const { summary } = await pass();
    expect(summary.retention?.deleted).toEqual([b.DBSnapshotIdentifier]);
    expect(summary.retention?.errors).toEqual([
      expect.objectContaining({
        snapshotId: a.DBSnapshotIdentifier,
        message: expect.stringMatching(/IAM role/),
      }),
    ]);
    expect(emf.values('BackupFailure')).toEqual([]);
  });
});
