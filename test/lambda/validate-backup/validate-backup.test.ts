import { DescribeDBSnapshotsCommand, DescribeExportTasksCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { CHECKS, median, sameKmsKey, validateBackup } from '../../../lambda/validate-backup/validate-backup';
import { exportObjectsPrefix, exportTablesInfoKey, manifestKey } from '../../../core/naming';
import { CONFIG, kbSnapshot, manifest, s3Body, snapshotNotFound } from '../../support/restore-fixtures';
import { recordingSink } from '../support/metrics';

const rdsMock = mockClient(RDSClient);
const s3Mock = mockClient(S3Client);
const rds = new RDSClient({ region: 'us-east-1' });
const s3 = new S3Client({ region: 'us-east-1' });
const ID = 'kb-snapshot-20261122-020000';
const TASK = 'kb-export-20261122-020000';
const GOOD_TABLES = [
  { target: 'knowledge_base.public.knowledge_entries', status: 'COMPLETE', sizeGB: 0.1 },
  { target: 'knowledge_base.public.embedding_cache', status: 'COMPLETE', sizeGB: 0.05 },
];

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
        { Key: exportTablesInfoKey(TASK, 1, 2), Size: 0 },
        { Key: `${exportObjectsPrefix(TASK)}kb/public.knowledge_entries/part-0.gz.parquet`, Size: 1000 },
      ],
    });
    tablesInfo(GOOD_TABLES);
    s3Mock.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: CONFIG.kmsKeyArn });
  });

  function tablesInfo(perTableStatus: unknown[], key = exportTablesInfoKey(TASK, 1, 2)) {
    s3Mock
      .on(GetObjectCommand, { Key: key })
      .callsFake(() => ({ Body: s3Body(JSON.stringify({ perTableStatus })) }));
  }

  function run(snapshotId = ID, sink = recordingSink()) {
    return validateBackup({ rds, s3, config: CONFIG, metrics: sink }, { snapshotId });
  }

  it('passes a good backup with one line per check and emits BackupValidation 1', async () => {
    const sink = recordingSink();
    const res = await run(ID, sink);
    expect(res.result).toBe('PASS');
    expect(res.report).toHaveLength(Object.keys(CHECKS).length);
    // Too little history to compare sizes is reported, not failed.
    expect(res.checks.find((c) => c.check === CHECKS.size)?.status).toBe('SKIP');
    expect(sink.recorded()).toEqual([['BackupValidation', 1]]);
  });

  it('validates the newest intact backup for "latest" past a corrupt newer manifest, and counts it (CorruptManifests)', async () => {
    // Prepare: a newer manifest that is not JSON sits above the good one.
    const corruptId = 'kb-snapshot-29991231-020000';
    s3Mock
      .on(ListObjectsV2Command, { Prefix: 'manifests/' })
      .resolves({ Contents: [{ Key: manifestKey(ID) }, { Key: manifestKey(corruptId) }] });
    s3Mock
      .on(GetObjectCommand, { Key: manifestKey(corruptId) })
      .callsFake(() => ({ Body: s3Body('{"snap') }));
    const sink = recordingSink();

    // Act
    const res = await run('latest', sink);

    // Assess
    expect(res).toMatchObject({ result: 'PASS', snapshotId: ID });
    expect(sink.recorded()).toEqual([
      ['CorruptManifests', 1],
      ['BackupValidation', 1],
    ]);
  });

  it('fails objects encrypted with another key', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ ServerSideEncryption: 'AES256' });
    const sink = recordingSink();
    const res = await run(ID, sink);
    expect(res).toMatchObject({ ok: false, result: 'FAIL', errorType: 'BackupValidationFailed' });
    expect(res.report).toContain(
      `FAIL ${CHECKS.objects}: 2 object(s) not SSE-KMS with key ${CONFIG.kmsKeyArn}, e.g. ${exportTablesInfoKey(TASK, 1, 2)}`,
    );
    expect(sink.recorded()).toEqual([['BackupValidation', 0]]);
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

  it.each([
    [
      'embedding_cache skipped',
      [
        GOOD_TABLES[0],
        {
          target: 'knowledge_base.public.embedding_cache',
          status: 'SKIPPED',
          warningMessage: 'permission denied for table embedding_cache',
        },
      ],
      'knowledge_base.public.embedding_cache was skipped (status SKIPPED: permission denied for table embedding_cache)',
    ],
    [
      'knowledge_entries missing from the list',
      [GOOD_TABLES[1]],
      'knowledge_entries is not in the export (not listed in 1 export_tables_info file(s))',
    ],
    [
      'a COMPLETE table whose warning says it was skipped',
      [{ ...GOOD_TABLES[0], warningMessage: 'Table skipped: unsupported column name' }, GOOD_TABLES[1]],
      'knowledge_base.public.knowledge_entries was skipped (status COMPLETE: Table skipped: unsupported column name)',
    ],
  ])('fails an export with %s, giving the reason', async (_n, tables, reason) => {
    tablesInfo(tables as unknown[]);
    const sink = recordingSink();
    const res = await run(ID, sink);
    expect(res.result).toBe('FAIL');
    expect(res.report.find((l) => l.startsWith(`FAIL ${CHECKS.tables}`))).toContain(reason);
    expect(sink.recorded()).toEqual([['BackupValidation', 0]]);
  });

  it('reads every export_tables_info batch: tables listed across two files pass', async () => {
    s3Mock.on(ListObjectsV2Command, { Prefix: exportObjectsPrefix(TASK) }).resolves({
      Contents: [
        { Key: exportTablesInfoKey(TASK, 1, 1), Size: 0 },
        { Key: exportTablesInfoKey(TASK, 2, 2), Size: 0 },
        { Key: `${exportObjectsPrefix(TASK)}kb/public.knowledge_entries/part-0.gz.parquet`, Size: 1000 },
      ],
    });
    tablesInfo([GOOD_TABLES[0]], exportTablesInfoKey(TASK, 1, 1));
    tablesInfo([GOOD_TABLES[1]], exportTablesInfoKey(TASK, 2, 2));
    const res = await run();
    expect(res.report).toContain(
      `PASS ${CHECKS.tables}: knowledge_base.public.knowledge_entries and knowledge_base.public.embedding_cache exported COMPLETE`,
    );
  });

  it('fails an export without its export_tables_info file, saying why it matters', async () => {
    s3Mock.on(ListObjectsV2Command, { Prefix: exportObjectsPrefix(TASK) }).resolves({
      Contents: [
        { Key: `${exportObjectsPrefix(TASK)}kb/public.knowledge_entries/part-0.gz.parquet`, Size: 1000 },
      ],
    });
    const res = await run();
    expect(res.report).toContain(
      `FAIL ${CHECKS.tables}: no export_tables_info_*.json under s3://${CONFIG.backupBucket}/${exportObjectsPrefix(TASK)}: RDS writes it when the export completes, so which tables were exported (or skipped) cannot be confirmed`,
    );
  });

  it('tells a missing manifest (404) from a denied one (403), naming bucket, key and permissions', async () => {
    // Missing.
    s3Mock.on(GetObjectCommand, { Key: manifestKey(ID) }).rejects(
      Object.assign(new Error('The specified key does not exist.'), {
        name: 'NoSuchKey',
        $metadata: { httpStatusCode: 404 },
      }),
    );
    const missing = await run();
    const missingLine = missing.report.find((l) => l.startsWith(`FAIL ${CHECKS.manifest}`));
    expect(missingLine).toContain(`no manifest at s3://${CONFIG.backupBucket}/${manifestKey(ID)}`);
    expect(missingLine).not.toMatch(/DENIED/);
    // Denied.
    s3Mock.on(GetObjectCommand, { Key: manifestKey(ID) }).rejects(
      Object.assign(new Error('Access Denied'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const denied = await run();
    const deniedLine = denied.report.find((l) => l.startsWith(`FAIL ${CHECKS.manifest}`));
    expect(deniedLine).toContain(`access to s3://${CONFIG.backupBucket}/${manifestKey(ID)} was DENIED (403)`);
    expect(deniedLine).toContain(`s3:ListBucket on arn:aws:s3:::${CONFIG.backupBucket}`);
    expect(deniedLine).toContain(`s3:GetObject on arn:aws:s3:::${CONFIG.backupBucket}/manifests/*`);
  });

  it('says which permissions to check when the manifests of "latest" cannot be listed', async () => {
    s3Mock.on(ListObjectsV2Command, { Prefix: 'manifests/' }).rejects(
      Object.assign(new Error('Access Denied'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    await expect(run('latest')).rejects.toMatchObject({
      name: 'AccessDeniedError',
      message: expect.stringContaining(`the manifests in s3://${CONFIG.backupBucket}/manifests/ was DENIED`),
      hint: expect.stringContaining('s3:ListBucket'),
    });
  });

  it('accepts a pre-promotion snapshot taken under the aside name when tagged for the protected instance', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        kbSnapshot(ID, {
          DBInstanceIdentifier: 'kb-prod-pre-promote-20261120101500',
          TagList: [
            { Key: 'kb-dr:managed-by', Value: 'kb-dr' },
            { Key: 'kb-dr:protected-instance', Value: 'kb-prod' },
          ],
        }),
      ],
    });
    const res = await run();
    expect(res.checks.find((c) => c.check === CHECKS.fromProtected)?.status).toBe('PASS');
    expect(res.checks.find((c) => c.check === CHECKS.manifest)?.status).toBe('PASS');
  });

  it('refuses a malformed snapshot id without emitting a metric', async () => {
    const sink = recordingSink();
    await expect(run('snapshot-1', sink)).rejects.toMatchObject({ field: 'snapshotId' });
    expect(sink.recorded()).toEqual([]);
  });
});
