/**
 * The real backup and reconcile handlers against a real moto_server. Each test owns its instance
 * and bucket, and loads fresh handler modules configured for them (config is read at cold start).
 *
 * moto's gaps, handled here: an export is `complete` (lower case) the moment it starts, and it
 * writes no objects, so the tests write the Parquet objects RDS would write.
 */
import {
  CreateDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  DescribeExportTasksCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { handler as BackupHandler } from '../../lambda/backup/index';
import type { handler as ReconcileHandler } from '../../lambda/reconcile/index';
import { ENV } from '../../lambda/shared/env';
import type { BackupManifest } from '../../lambda/shared/manifest';
import { putManifestOnce } from '../../lambda/shared/manifest-store';
import {
  exportObjectsPrefix,
  exportTaskIdFor,
  MANAGED_BY_TAG,
  manifestKey,
  snapshotIdFor,
} from '../../lambda/shared/naming';
import { failedManifest } from '../support/backup-fixtures';
import { captureEmf, enableEmf, type EmfCapture } from '../support/emf';
import { startMoto, type MotoServer } from '../support/moto';
import { createProtectedInstance, loadPipelineHandlers, pipelineEnv } from '../support/pipeline-world';
import { rdsSnapshotEvent } from '../support/rds-events';

let moto: MotoServer;
let rds: RDSClient;
let s3: S3Client;
let emf: EmfCapture;
let counter = 0;

beforeAll(async () => {
  moto = await startMoto({ applyToProcessEnv: true });
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  enableEmf();
  rds = new RDSClient({});
  s3 = new S3Client({ forcePathStyle: true });
});

afterAll(async () => {
  await moto.stop();
});

beforeEach(() => {
  emf = captureEmf();
});

afterEach(() => {
  emf.restore();
  jest.useRealTimers();
});

interface World {
  readonly instance: string;
  readonly bucket: string;
  readonly backup: typeof BackupHandler;
  readonly reconcile: typeof ReconcileHandler;
}

/** A fresh instance + bucket, and handler modules loaded (cold start) with their configuration. */
async function newWorld(): Promise<World> {
  counter += 1;
  const instance = `kb-it-${process.pid}-${counter}`;
  const bucket = `kb-it-backups-${process.pid}-${counter}`;
  await createProtectedInstance(rds, instance);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  Object.assign(process.env, pipelineEnv(instance, bucket));
  const { backup, reconcile } = loadPipelineHandlers();
  return { instance, bucket, backup, reconcile };
}

/** A scheduled time `minutesAgo` before now, whole seconds, unique per test by `counter`. */
function scheduledTime(minutesAgo: number): Date {
  const d = new Date(Date.now() - minutesAgo * 60_000 - counter * 1000);
  d.setUTCMilliseconds(0);
  return d;
}

function scheduleEvent(time: Date) {
  return { source: 'kb-dr.schedule', time: time.toISOString() };
}

/** Write what RDS would write for an export: Parquet parts under the task's prefix. */
async function writeExportObjects(bucket: string, snapshotId: string, sizes: number[]): Promise<void> {
  const prefix = exportObjectsPrefix(exportTaskIdFor(snapshotId));
  await Promise.all(
    sizes.map((size, i) =>
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${prefix}kb/public.knowledge_entries/1/part-0000${i}.gz.parquet`,
          Body: Buffer.alloc(size, 1),
        }),
      ),
    ),
  );
}

async function readManifest(bucket: string, snapshotId: string): Promise<BackupManifest> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: manifestKey(snapshotId) }));
  return JSON.parse(await res.Body!.transformToString()) as BackupManifest;
}

async function kbSnapshots(instance: string): Promise<string[]> {
  const res = await rds.send(
    new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: instance, SnapshotType: 'manual' }),
  );
  return (res.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier ?? '').sort();
}

function emfDimensions(): Record<string, unknown>[] {
  return emf.docs().map((d) => ({
    ns: d._aws.CloudWatchMetrics[0]?.Namespace,
    dims: d._aws.CloudWatchMetrics[0]?.Dimensions,
  }));
}

describe('nightly backup pipeline on moto_server', () => {
  it('runs a night end to end: snapshot, export on the created event, success recorded on the completed event', async () => {
    // Prepare
    const w = await newWorld();
    const time = scheduledTime(1);
    const snapshotId = snapshotIdFor(time);
    // Act
    const started = await w.backup(scheduleEvent(time));
    const onCreated = await w.reconcile(rdsSnapshotEvent('RDS-EVENT-0042', snapshotId));
    await writeExportObjects(w.bucket, snapshotId, [1500, 500]);
    const onCompleted = await w.reconcile(rdsSnapshotEvent('RDS-EVENT-0161', snapshotId));
    const pass = await w.reconcile({});
    // Assess
    expect(started).toEqual({ status: 'created', snapshotId });
    expect(onCreated.outcomes).toEqual([`${snapshotId}: export-started`]);
    expect(onCompleted.outcomes).toEqual([`${snapshotId}: recorded`]);
    expect(pass.outcomes).toEqual([]);
    const manifest = await readManifest(w.bucket, snapshotId);
    expect(manifest).toMatchObject({
      status: 'SUCCEEDED',
      snapshotId,
      dbInstanceId: w.instance,
      trigger: 'scheduled',
      exportTaskId: exportTaskIdFor(snapshotId),
      exportLocation: { bucket: w.bucket, prefix: exportObjectsPrefix(exportTaskIdFor(snapshotId)) },
      exportSizeBytes: 2000,
    });
    const tasks = await rds.send(
      new DescribeExportTasksCommand({ ExportTaskIdentifier: exportTaskIdFor(snapshotId) }),
    );
    expect(tasks.ExportTasks?.[0]).toMatchObject({ S3Bucket: w.bucket, S3Prefix: 'exports' });
    expect(emf.values('BackupSuccess')).toEqual([1]);
    expect(emf.values('BackupFailure')).toEqual([0]);
    expect(emf.values('BackupSizeBytes')).toEqual([2000]);
    expect(emf.values('AutomatedBackupRetentionDays')).toEqual([7]);
    expect(emf.values('TimeSinceLastBackup')).toHaveLength(2);
    expect(Math.max(...emf.values('TimeSinceLastBackup'))).toBeLessThan(1);
    for (const d of emfDimensions()) expect(d).toEqual({ ns: 'KB', dims: [['DBInstanceIdentifier']] });
    expect(emf.docs().every((d) => d.DBInstanceIdentifier === w.instance)).toBe(true);
  });

  it('creates and records nothing twice when every event is delivered twice', async () => {
    // Prepare
    const w = await newWorld();
    const time = scheduledTime(2);
    const snapshotId = snapshotIdFor(time);
    // Act
    const first = await w.backup(scheduleEvent(time));
    const second = await w.backup(scheduleEvent(time));
    await w.reconcile(rdsSnapshotEvent('RDS-EVENT-0042', snapshotId));
    await writeExportObjects(w.bucket, snapshotId, [100]);
    await w.reconcile(rdsSnapshotEvent('RDS-EVENT-0042', snapshotId));
    const recordedBy = await readManifest(w.bucket, snapshotId);
    await w.reconcile(rdsSnapshotEvent('RDS-EVENT-0161', snapshotId));
    await w.reconcile(rdsSnapshotEvent('RDS-EVENT-0161', snapshotId));
    // Assess
    expect(first.status).toBe('created');
    expect(second).toEqual({ status: 'already-exists', snapshotId });
    expect(await kbSnapshots(w.instance)).toEqual([snapshotId]);
    expect((await readManifest(w.bucket, snapshotId)).recordedAt).toBe(recordedBy.recordedAt);
    expect(emf.values('BackupSuccess')).toEqual([1]);
    expect(emf.values('BackupFailure')).toEqual([0]);
  });

  it('recovers from lost RDS events with the periodic pass alone', async () => {
    // Prepare
    const w = await newWorld();
    const time = scheduledTime(3);
    const snapshotId = snapshotIdFor(time);
    await w.backup(scheduleEvent(time));
    // Act: no RDS event ever arrives.
    const firstPass = await w.reconcile({});
    await writeExportObjects(w.bucket, snapshotId, [42]);
    const secondPass = await w.reconcile({});
    // Assess
    expect(firstPass.outcomes).toEqual([`${snapshotId}: export-started`]);
    expect(secondPass.outcomes).toEqual([`${snapshotId}: recorded`]);
    expect(await readManifest(w.bucket, snapshotId)).toMatchObject({
      status: 'SUCCEEDED',
      exportSizeBytes: 42,
    });
    expect(emf.values('BackupSuccess')).toEqual([1]);
    expect(secondPass.hoursSinceLastBackup).toBeLessThan(1);
  });

  it('lets only the first of two writers record a manifest (S3 If-None-Match on moto)', async () => {
    // Prepare
    const w = await newWorld();
    const loc = { s3, bucket: w.bucket, kmsKeyArn: process.env[ENV.kmsKeyArn]! };
    const base = failedManifest(snapshotIdFor(scheduledTime(6)), new Date());
    // Act
    const first = await putManifestOnce(loc, {
      ...base,
      failure: { stage: 'export', code: 'First', message: 'a' },
    });
    const second = await putManifestOnce(loc, {
      ...base,
      failure: { stage: 'export', code: 'Second', message: 'b' },
    });
    // Assess
    expect([first, second]).toEqual([true, false]);
    expect((await readManifest(w.bucket, base.snapshotId)).failure?.code).toBe('First');
  });

  it('records a failed night and emits BackupFailure=1 when the instance does not exist', async () => {
    const w = await newWorld();
    process.env[ENV.dbInstanceId] = `${w.instance}-gone`;
    let backup!: typeof BackupHandler;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      backup = (require('../../lambda/backup/index') as { handler: typeof BackupHandler }).handler;
    });
    const time = scheduledTime(4);
    const result = await backup(scheduleEvent(time));
    expect(result).toMatchObject({
      status: 'failed',
      failure: { stage: 'snapshot', code: 'DBInstanceNotFoundFault' },
    });
    expect(await readManifest(w.bucket, snapshotIdFor(time))).toMatchObject({ status: 'FAILED' });
    expect(emf.values('BackupFailure')).toEqual([1]);
    expect(emf.values('BackupSuccess')).toEqual([0]);
  });

  it('prunes kb-dr snapshots past the retention 31 days later, and nothing it did not make', async () => {
    // Prepare: night 1 succeeds; a DBA's manual snapshot and an untagged kb-named one exist too.
    const w = await newWorld();
    const night1 = scheduledTime(5);
    const id1 = snapshotIdFor(night1);
    await w.backup(scheduleEvent(night1));
    await w.reconcile(rdsSnapshotEvent('RDS-EVENT-0042', id1));
    await w.reconcile(rdsSnapshotEvent('RDS-EVENT-0161', id1));
    const impostor = snapshotIdFor(new Date(night1.getTime() - 60_000));
    await rds.send(
      new CreateDBSnapshotCommand({ DBInstanceIdentifier: w.instance, DBSnapshotIdentifier: impostor }),
    );
    await rds.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: w.instance,
        DBSnapshotIdentifier: 'before-upgrade',
        Tags: [{ Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value }],
      }),
    );
    // Act: 31 days later (only Date is faked; timers stay real), night 32 runs, then a pass.
    jest.useFakeTimers({
      now: Date.now() + 31 * 86_400_000,
      doNotFake: [
        'nextTick',
        'setImmediate',
        'clearImmediate',
        'setTimeout',
        'clearTimeout',
        'setInterval',
        'clearInterval',
        'queueMicrotask',
        'hrtime',
        'performance',
      ],
    });
    const night32 = scheduledTime(1);
    const id32 = snapshotIdFor(night32);
    await w.backup(scheduleEvent(night32));
    await w.reconcile(rdsSnapshotEvent('RDS-EVENT-0042', id32));
    await w.reconcile(rdsSnapshotEvent('RDS-EVENT-0161', id32));
    const pass = await w.reconcile({});
    // Assess
    expect(pass.deleted).toEqual([id1]);
    expect(await kbSnapshots(w.instance)).toEqual(['before-upgrade', impostor, id32].sort());
  });
});
