/**
 * Failure handling of the export row counts with mocked S3: a throttled read is retried later
 * (thrown, nothing recorded), a denied read is recorded as a warning naming the permissions.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { exportObjectsPrefix, exportTablesInfoKey } from '../../../core/naming';
import { rowCountFields } from '../../../lambda/reconcile/export-row-counts';
import { awsError, CONFIG, makeDeps } from '../../support/backup-fixtures';
import { parquetOf } from '../../support/export-fixtures';

const s3 = mockClient(S3Client);
const TASK = 'kb-export-20261122-020000';
const prefix = exportObjectsPrefix(TASK);
const entriesKey = `${prefix}kb/public.knowledge_entries/1/part-00000-a.gz.parquet`;
const cacheKey = `${prefix}kb/public.embedding_cache/1/part-00000-b.gz.parquet`;
const file = parquetOf(50);

beforeEach(() => {
  s3.reset();
  s3.on(ListObjectsV2Command).resolves({
    Contents: [
      { Key: exportTablesInfoKey(TASK, 1, 2), Size: 100 },
      { Key: entriesKey, Size: file.byteLength },
      { Key: cacheKey, Size: file.byteLength },
    ],
  });
  s3.on(GetObjectCommand, { Key: exportTablesInfoKey(TASK, 1, 2) }).resolves({
    Body: {
      transformToString: async () =>
        JSON.stringify({
          perTableStatus: [
            { target: 'kb.public.knowledge_entries', status: 'COMPLETE' },
            { target: 'kb.public.embedding_cache', status: 'COMPLETE' },
          ],
        }),
    } as never,
  });
  s3.on(GetObjectCommand, { Key: cacheKey }).callsFake((input: { Range?: string }) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '')!;
    const bytes = file.subarray(Number(m[1]), Number(m[2]) + 1);
    return { Body: { transformToByteArray: async () => bytes } as never };
  });
});

describe('rowCountFields when S3 refuses or falters', () => {
  it('throws a throttled footer read (the step is retried; no manifest is written)', async () => {
    s3.on(GetObjectCommand, { Key: entriesKey }).rejects(
      awsError('SlowDown', 'Please reduce your request rate', 503),
    );
    await expect(rowCountFields(makeDeps(new Date()), CONFIG, TASK)).rejects.toMatchObject({
      name: 'SlowDown',
    });
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('records a warning naming s3:GetObject and kms:Decrypt when a footer read is denied', async () => {
    s3.on(GetObjectCommand, { Key: entriesKey }).rejects(awsError('AccessDenied', 'Access Denied', 403));
    const fields = await rowCountFields(makeDeps(new Date()), CONFIG, TASK);
    expect(fields.tableRowCounts).toBeUndefined();
    expect(fields.tableRowCountsWarning).toMatch(
      /reading was DENIED \(AccessDenied\): check s3:GetObject on arn:aws:s3:::kb-dr-backups-test\/exports\/kb-export-20261122-020000\/\* and kms:Decrypt/,
    );
    expect(fields.tableRowCountsWarning).toContain('(read: embedding_cache 50 rows)');
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('records a warning when listing the export is denied, reading nothing else', async () => {
    s3.on(ListObjectsV2Command).rejects(awsError('AccessDenied', 'Access Denied', 403));
    const fields = await rowCountFields(makeDeps(new Date()), CONFIG, TASK);
    expect(fields.tableRowCountsWarning).toMatch(
      /^row counts not recorded: listing s3:\/\/kb-dr-backups-test\/exports\/kb-export-20261122-020000\/: reading was DENIED/,
    );
    expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
  });
});
