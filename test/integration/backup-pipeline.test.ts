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
  ModifyDBInstanceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { startBackup } from '../../lambda/backup/start-backup';
import { reconcilePass } from '../../lambda/reconcile/reconcile';
import type { PipelineConfig, PipelineDeps } from '../../lambda/shared/backup-pipeline';
import type { handler as BackupHandler } from '../../lambda/backup/index';
import type { handler as ReconcileHandler } from '../../lambda/reconcile/index';
import { ENV } from '../../lambda/shared/env';
import type { BackupManifest } from '../../core/manifest';
import { putManifestOnce } from '../../lambda/shared/manifest-store';
import {
  exportObjectsPrefix,
  exportTaskIdFor,
  MANAGED_BY_TAG,
  manifestKey,
  PROTECTED_INSTANCE_TAG_KEY,
  snapshotIdFor,
} from '../../core/naming';
import { createLogger, createMetrics, type KbMetricStore } from '../../lambda/shared/powertools';
import { failedManifest } from '../support/backup-fixtures';
import { captureEmf, enableEmf, type EmfCapture } from '../../harness/emf';
import { action, s3Request, startFaultProxy, type FaultProxy } from '../../harness/fault-proxy';
import type { MotoServer } from '../../harness/moto';
import { sharedMoto } from '../support/shared-services';
import {
  createProtectedInstance,
  pipelineEnv,
  TEST_EXPORT_ROLE_ARN,
  TEST_KMS_KEY_ARN,
} from '../../harness/pipeline-world';
import { coldStart, loadPipelineHandlers } from '../support/pipeline-handlers';
import { rdsSnapshotEvent } from '../../harness/rds-events';

let moto: MotoServer;
let rds: RDSClient;
let s3: S3Client;
let emf: EmfCapture;
let counter = 0;

beforeAll(async () => {
  moto = await sharedMoto({ applyToProcessEnv: true });
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  enableEmf();
  rds = new RDSClient({});
  s3 = new S3Client({ forcePathStyle: true });
});

afterAll(async () => {
  await moto.stop();
});

const FAKE_DATE_ONLY = [
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
] as const;

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
    // Only the periodic pass emits the age, measured from tonight's snapshot request.
    expect(emf.values('TimeSinceLastBackup')).toHaveLength(1);
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
    coldStart(() => {
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
    jest.useFakeTimers({ now: Date.now() + 31 * 86_400_000, doNotFake: [...FAKE_DATE_ONLY] });
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

describe('after a promotion renamed the instances (ModifyDBInstance NewDBInstanceIdentifier on moto)', () => {
  it('keeps backing up the production id and still prunes the snapshots taken before the rename', async () => {
    // Prepare: night 1 backs up production; then promote: production renamed aside, a restored
    // instance renamed to the production id. Night 1's snapshot now names the aside instance.
    const w = await newWorld();
    const night1 = scheduledTime(7);
    const id1 = snapshotIdFor(night1);
    await w.backup(scheduleEvent(night1));
    await w.reconcile(rdsSnapshotEvent('RDS-EVENT-0042', id1));
    await w.reconcile(rdsSnapshotEvent('RDS-EVENT-0161', id1));
    const aside = `${w.instance}-pre-promote-20261122`;
    const restored = `kb-restore-${process.pid}-${counter}`;
    await createProtectedInstance(rds, restored);
    await rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: w.instance,
        NewDBInstanceIdentifier: aside,
        ApplyImmediately: true,
      }),
    );
    await rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: restored,
        NewDBInstanceIdentifier: w.instance,
        ApplyImmediately: true,
      }),
    );
    // moto keeps the snapshot's DBInstanceIdentifier as it was (the id production had then, now
    // the restored instance's); the tag names the protected instance either way.
    const before = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id1 }));
    expect(before.DBSnapshots?.[0]?.TagList).toContainEqual({
      Key: PROTECTED_INSTANCE_TAG_KEY,
      Value: w.instance,
    });
    // Act: 31 days later night 32 runs against the promoted instance, then a pass. Its own minute
    // offset: the retention test above also runs a "night 32" 31 days ahead, and snapshot ids have
    // whole seconds, so the same offset collided whenever the two ran about a second apart.
    jest.useFakeTimers({ now: Date.now() + 31 * 86_400_000, doNotFake: [...FAKE_DATE_ONLY] });
    const night32 = scheduledTime(9);
    const id32 = snapshotIdFor(night32);
    const started = await w.backup(scheduleEvent(night32));
    await w.reconcile(rdsSnapshotEvent('RDS-EVENT-0042', id32));
    await w.reconcile(rdsSnapshotEvent('RDS-EVENT-0161', id32));
    const pass = await w.reconcile({});
    // Assess: the pre-rename snapshot was found by its tag and pruned; tonight's is recorded.
    expect(started).toEqual({ status: 'created', snapshotId: id32 });
    expect(await readManifest(w.bucket, id32)).toMatchObject({
      status: 'SUCCEEDED',
      dbInstanceId: w.instance,
    });
    expect(pass.deleted).toEqual([id1]);
    expect(await kbSnapshots(w.instance)).toEqual([id32]);
    expect(await kbSnapshots(aside)).toEqual([]);
    expect(pass.hoursSinceLastBackup).toBeLessThan(1);
  });

  it('records the backup when KB_DB_INSTANCE_ID is set in mixed case (KB-Prod is the instance RDS calls kb-prod)', async () => {
    // Prepare
    const w = await newWorld();
    process.env[ENV.dbInstanceId] = w.instance.toUpperCase();
    const { backup, reconcile } = loadPipelineHandlers();
    const time = scheduledTime(8);
    const snapshotId = snapshotIdFor(time);
    // Act
    await backup(scheduleEvent(time));
    await reconcile({});
    await writeExportObjects(w.bucket, snapshotId, [10]);
    const pass = await reconcile({});
    // Assess
    expect(pass.outcomes).toEqual([`${snapshotId}: recorded`]);
    expect(await readManifest(w.bucket, snapshotId)).toMatchObject({
      status: 'SUCCEEDED',
      dbInstanceId: w.instance,
    });
    expect(emf.docs().every((d) => d.DBInstanceIdentifier === w.instance)).toBe(true);
  });
});

describe('through a loopback proxy injecting 5xx, hangs and dropped connections (the SDK retries for real)', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy(moto.endpoint);
  });
  afterAll(async () => {
    await proxy.stop();
  });
  afterEach(() => proxy.clear());

  interface ProxiedWorld {
    readonly instance: string;
    readonly bucket: string;
    readonly config: PipelineConfig;
    readonly deps: PipelineDeps & { readonly metrics: KbMetricStore };
  }

  /** An instance and bucket on moto, and pipeline clients that reach moto through the proxy. */
  async function proxiedWorld(): Promise<ProxiedWorld> {
    counter += 1;
    const instance = `kb-fp-${process.pid}-${counter}`;
    const bucket = `kb-fp-backups-${process.pid}-${counter}`;
    await createProtectedInstance(rds, instance);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const common = {
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 3,
      retryMode: 'standard',
      // Without throwOnRequestTimeout the SDK only warns when requestTimeout passes.
      requestHandler: { requestTimeout: 1500, connectionTimeout: 1500, throwOnRequestTimeout: true },
    };
    return {
      instance,
      bucket,
      config: {
        dbInstanceId: instance,
        backupBucket: bucket,
        exportRoleArn: TEST_EXPORT_ROLE_ARN,
        kmsKeyArn: TEST_KMS_KEY_ARN,
        retentionDays: 30,
      },
      deps: {
        rds: new RDSClient(common),
        s3: new S3Client({ ...common, forcePathStyle: true }),
        logger: createLogger('kb-fault-proxy-test'),
        metrics: createMetrics('kb-fault-proxy-test', instance),
        now: () => new Date(),
      },
    };
  }

  async function withFlush<T>(w: ProxiedWorld, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } finally {
      w.deps.metrics.flushIfStored();
    }
  }

  async function manifestStored(bucket: string, snapshotId: string): Promise<boolean> {
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: manifestKey(snapshotId) }));
      return true;
    } catch {
      return false;
    }
  }

  const scheduled = (t: Date) => ({
    snapshotId: snapshotIdFor(t),
    trigger: 'scheduled' as const,
    scheduledFor: t,
  });

  it('does not lose the night when CreateDBSnapshot is applied but its answer is dropped, and every retry times out', async () => {
    // Prepare: moto creates the snapshot, the connection is dropped, the SDK's two retries hang.
    const w = await proxiedWorld();
    const time = scheduledTime(11);
    const snapshotId = snapshotIdFor(time);
    proxy.inject({ match: action('CreateDBSnapshot'), faults: ['drop-after-apply', 'hang', 'hang'] });
    // Act
    const result = await withFlush(w, () => startBackup(w.deps, w.config, scheduled(time)));
    const firstPass = await withFlush(w, () => reconcilePass(w.deps, w.config));
    await writeExportObjects(w.bucket, snapshotId, [64]);
    const secondPass = await withFlush(w, () => reconcilePass(w.deps, w.config));
    // Assess
    expect(proxy.seen.filter((r) => r.action === 'CreateDBSnapshot').map((r) => r.fault)).toEqual([
      'drop-after-apply',
      'hang',
      'hang',
    ]);
    expect(result).toEqual({ status: 'created', snapshotId });
    expect(await kbSnapshots(w.instance)).toEqual([snapshotId]);
    expect(firstPass.results.map((r) => r.kind)).toEqual(['export-started']);
    expect(secondPass.results.map((r) => r.kind)).toEqual(['recorded']);
    expect(await readManifest(w.bucket, snapshotId)).toMatchObject({ status: 'SUCCEEDED' });
    expect(emf.values('BackupFailure')).toEqual([0]);
  });

  it('adopts the snapshot when the answer is dropped and the SDK retry meets DBSnapshotAlreadyExists', async () => {
    const w = await proxiedWorld();
    const time = scheduledTime(12);
    const snapshotId = snapshotIdFor(time);
    proxy.inject({ match: action('CreateDBSnapshot'), faults: ['drop-after-apply'] });
    const result = await withFlush(w, () => startBackup(w.deps, w.config, scheduled(time)));
    expect(proxy.seen.filter((r) => r.action === 'CreateDBSnapshot').map((r) => r.fault)).toEqual([
      'drop-after-apply',
      'pass',
    ]);
    expect(result).toEqual({ status: 'already-exists', snapshotId });
    expect(await manifestStored(w.bucket, snapshotId)).toBe(false);
    expect(emf.values('BackupFailure')).toEqual([]);
  });

  it('fails the invocation with nothing recorded when RDS answers 500 to every attempt, and the retried invocation backs up', async () => {
    // Prepare
    const w = await proxiedWorld();
    const time = scheduledTime(13);
    const snapshotId = snapshotIdFor(time);
    proxy.inject({
      match: action('DescribeDBInstances'),
      faults: [{ status: 500 }, { status: 500 }, { status: 500 }],
    });
    // Act
    const first = withFlush(w, () => startBackup(w.deps, w.config, scheduled(time)));
    // Assess
    await expect(first).rejects.toMatchObject({ retryable: true });
    expect(await manifestStored(w.bucket, snapshotId)).toBe(false);
    expect(await kbSnapshots(w.instance)).toEqual([]);
    expect(emf.values('BackupFailure')).toEqual([]);
    // Act: Lambda retries the same event.
    const retried = await withFlush(w, () => startBackup(w.deps, w.config, scheduled(time)));
    expect(retried).toEqual({ status: 'created', snapshotId });
    expect(emf.values('BackupFailure')).toEqual([]);
  });

  it('counts a manifest PUT whose answer was dropped (the SDK retry gets 412 on its own write) as a success', async () => {
    // Prepare: tonight's snapshot exists and its export completed.
    const w = await proxiedWorld();
    const time = scheduledTime(14);
    const snapshotId = snapshotIdFor(time);
    await withFlush(w, () => startBackup(w.deps, w.config, scheduled(time)));
    await withFlush(w, () => reconcilePass(w.deps, w.config));
    await writeExportObjects(w.bucket, snapshotId, [128]);
    proxy.inject({ match: s3Request('PUT', `/${manifestKey(snapshotId)}`), faults: ['drop-after-apply'] });
    // Act
    const pass = await withFlush(w, () => reconcilePass(w.deps, w.config));
    // Assess
    expect(
      proxy.seen.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/')).map((r) => r.fault),
    ).toEqual(['drop-after-apply', 'pass']);
    expect(pass.results.map((r) => r.kind)).toEqual(['recorded']);
    expect(await readManifest(w.bucket, snapshotId)).toMatchObject({
      status: 'SUCCEEDED',
      exportSizeBytes: 128,
    });
    expect(emf.values('BackupSuccess')).toEqual([1]);
    expect(emf.values('BackupFailure')).toEqual([0]);
  });

  it('takes the snapshot while S3 answers 503 to every manifest read, and the next pass records it', async () => {
    const w = await proxiedWorld();
    const time = scheduledTime(15);
    const snapshotId = snapshotIdFor(time);
    proxy.inject({
      match: s3Request('GET', `/${manifestKey(snapshotId)}`),
      faults: [{ status: 503 }, { status: 503 }, { status: 503 }],
    });
    const result = await withFlush(w, () => startBackup(w.deps, w.config, scheduled(time)));
    expect(result).toEqual({ status: 'created', snapshotId });
    proxy.clear();
    await withFlush(w, () => reconcilePass(w.deps, w.config));
    await writeExportObjects(w.bucket, snapshotId, [8]);
    const pass = await withFlush(w, () => reconcilePass(w.deps, w.config));
    expect(pass.results.map((r) => r.kind)).toEqual(['recorded']);
    expect(emf.values('BackupFailure')).toEqual([0]);
  });

  it('survives connections reset before StartExportTask reaches RDS: the SDK retries and one export starts', async () => {
    const w = await proxiedWorld();
    const time = scheduledTime(16);
    const snapshotId = snapshotIdFor(time);
    await withFlush(w, () => startBackup(w.deps, w.config, scheduled(time)));
    proxy.inject({ match: action('StartExportTask'), faults: ['reset', 'reset'] });
    const pass = await withFlush(w, () => reconcilePass(w.deps, w.config));
    expect(pass.results.map((r) => r.kind)).toEqual(['export-started']);
    const tasks = await rds.send(
      new DescribeExportTasksCommand({ ExportTaskIdentifier: exportTaskIdFor(snapshotId) }),
    );
    expect(tasks.ExportTasks).toHaveLength(1);
  });
});
