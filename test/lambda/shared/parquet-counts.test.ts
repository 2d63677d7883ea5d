import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { s3ObjectWriter } from '../../../harness/rds-export';
import { FOOTER_FETCH_BYTES, parquetRowCount, s3RangeReader } from '../../../lambda/shared/parquet-counts';

const s3 = mockClient(S3Client);
beforeEach(() => s3.reset());

/** A Parquet file of `rows` rows, big enough that its footer is a small part of it. */
function parquetFile(rows: number): Uint8Array {
  const data = Array.from({ length: rows }, (_, i) => `row ${i} ${'x'.repeat(40)} ${Math.sin(i)}`);
  return new Uint8Array(
    parquetWriteBuffer({ columnData: [{ name: 'body', data, type: 'STRING' }], codec: 'UNCOMPRESSED' }),
  );
}

describe('Parquet row counts over S3 range reads', () => {
  it('reads the footer with ranged GetObjects only, never the whole object', async () => {
    const file = parquetFile(5000);
    const key = 'exports/kb-export-1/kb/public.knowledge_entries/1/part-00000-a.gz.parquet';
    s3.on(GetObjectCommand).callsFake((input: { Range?: string }) => {
      const m = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '');
      if (!m) throw new Error(`unexpected GetObject without a byte range: ${input.Range}`);
      const bytes = file.subarray(Number(m[1]), Number(m[2]) + 1);
      return { Body: { transformToByteArray: async () => bytes } as never };
    });

    const count = await parquetRowCount(
      key,
      file.byteLength,
      s3RangeReader(new S3Client({}), 'backup-bucket'),
    );

    expect(count.rows).toBe(5000);
    expect(file.byteLength).toBeGreaterThan(FOOTER_FETCH_BYTES);
    expect(count.bytesRead).toBeLessThanOrEqual(FOOTER_FETCH_BYTES);
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: 'backup-bucket',
      Key: key,
      Range: `bytes=${file.byteLength - FOOTER_FETCH_BYTES}-${file.byteLength - 1}`,
    });
    expect(s3).not.toHaveReceivedCommandWith(GetObjectCommand, { Range: `bytes=0-${file.byteLength - 1}` });
  });
});

describe('s3ObjectWriter (the emulated export into moto S3)', () => {
  it('puts each object SSE-KMS with the given key', async () => {
    s3.on(PutObjectCommand).resolves({});
    const write = s3ObjectWriter(
      new S3Client({}),
      'backup-bucket',
      'arn:aws:kms:us-east-1:123456789012:key/k1',
    );

    await write('exports/t/export_info_t.json', new Uint8Array([123, 125]));

    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'backup-bucket',
      Key: 'exports/t/export_info_t.json',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k1',
      ContentType: 'application/json',
    });
  });
});
