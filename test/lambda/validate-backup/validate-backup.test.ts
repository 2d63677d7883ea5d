import { DescribeDBSnapshotsCommand, DescribeExportTasksCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { CHECKS, median, sameKmsKey, validateBackup } from '../../../lambda/validate-backup/validate-backup';
import { exportObjectsPrefix, manifestKey } from '../../../lambda/shared/naming';
import {
  CONFIG,
  kbSnapshot,
  manifest,
  metricSink,
  s3Body,
  snapshotNotFound,
} from '../restore-common/fixtures';

const rdsMock = mockClient(RDSClient);
const s3Mock = mockClient(S3Client);
const rds = new RDSClient({ region: 'us-east-1' });
const s3 = new S3Client({ region: 'us-east-1' });
const ID = 'kb-snapshot-20261122-020000';
const TASK = 'kb-export-20261122-020000';

describe('validate-backup helpers', () => {
  it('matches a KMS key given as ARN or bare key id', () => {
    expect(sameKmsKey(CONFIG.kmsKeyArn, CONFIG.kmsKeyArn)).toBe(true);
    expect(sameKmsKey('1234abcd-12ab-34cd-56ef-1234567890ab', CONFIG.kmsKeyArn)).toBe(true);
    expect(sameKmsKey('arn:aws:kms:us-east-1:123456789012:key/other', CONFIG.kmsKeyArn)).toBe(false);
    expect(sameKmsKey(undefined, CONFIG.kmsKeyArn)).toBe(false);
  });

  it('computes the median of odd and even lists', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('validateBackup', () => {
  beforeEach(() => {
    rdsMock.reset();
    s3Mock.reset();
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [kbSnapshot(ID)] });
    rdsMock
      .on(DescribeExportTasksCommand)
      .resolves({ ExportTasks: [{ ExportTaskIdentifier: TASK, Status: 'COMPLETE' }] });
    s3Mock
      .on(GetObjectCommand, { Key: manifestKey(ID) })
      .callsFake(() => ({ Body: s3Body(JSON.stringify(manifest(ID))) }));
    s3Mock
      .on(ListObjectsV2Command, { Prefix: 'manifests/' })
      .resolves({ Contents: [{ Key: manifestKey(ID) }] });
    s3Mock.on(ListObjectsV2Command, { Prefix: exportObjectsPrefix(TASK) }).resolves({
      Contents: [
        { Key: `${exportObjectsPrefix(TASK)}kb/public.knowledge_entries/part-0.gz.parquet`, Size: 1000 },
      ],
    });
    s3Mock.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: CONFIG.kmsKeyArn });
  });

  function run(snapshotId = ID, sink = metricSink()) {
    return validateBackup({ rds, s3, config: CONFIG, metrics: sink }, { snapshotId });
  }

  it('passes a good backup with one line per check and emits BackupValidation 1', async () => {
    const sink = metricSink();
    const res = await run(ID, sink);
    expect(res.result).toBe('PASS');
    expect(res.report).toHaveLength(Object.keys(CHECKS).length);
    // Too little history to compare sizes is reported, not failed.
    expect(res.checks.find((c) => c.check === CHECKS.size)?.status).toBe('SKIP');
    expect(sink.added).toEqual([['BackupValidation', 1]]);
  });

  it('fails objects encrypted with another key', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'AES256' });
    const sink = metricSink();
    const res = await run(ID, sink);
    expect(res).toMatchObject({ ok: false, result: 'FAIL', errorType: 'BackupValidationFailed' });
    expect(res.report).toContain(
      `FAIL ${CHECKS.objects}: 1 object(s) not SSE-KMS with key ${CONFIG.kmsKeyArn}, e.g. ${exportObjectsPrefix(TASK)}kb/public.knowledge_entries/part-0.gz.parquet`,
    );
    expect(sink.added).toEqual([['BackupValidation', 0]]);
  });

  it('fails an export that is not complete, accepting the lower-case status moto returns for complete', async () => {
    rdsMock
      .on(DescribeExportTasksCommand)
      .resolves({ ExportTasks: [{ Status: 'FAILED', FailureCause: 'KMS' }] });
    expect((await run()).checks.find((c) => c.check === CHECKS.exportCompleted)).toMatchObject({
      status: 'FAIL',
    });
    rdsMock.on(DescribeExportTasksCommand).resolves({ ExportTasks: [{ Status: 'complete' }] });
    expect((await run()).checks.find((c) => c.check === CHECKS.exportCompleted)).toMatchObject({
      status: 'PASS',
    });
  });

  it('fails a snapshot that is gone and skips the checks that need it', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).rejects(snapshotNotFound());
    const res = await run();
    expect(res.report[0]).toBe(`FAIL ${CHECKS.available}: snapshot ${ID} not found in RDS`);
    expect(res.checks.find((c) => c.check === CHECKS.encrypted)?.status).toBe('SKIP');
  });

  it('refuses a malformed snapshot id without emitting a metric', async () => {
    const sink = metricSink();
    await expect(run('snapshot-1', sink)).rejects.toMatchObject({ field: 'snapshotId' });
    expect(sink.added).toEqual([]);
  });
});
