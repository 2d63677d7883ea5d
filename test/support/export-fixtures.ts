/**
 * Exports written where RDS writes them, for tests on moto S3: real Parquet from a real PostgreSQL
 * (harness/rds-export.ts), or a small synthetic one (hyparquet-writer, no database), plus hostile
 * objects (truncated Parquet, a non-Parquet object named .parquet).
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { Client } from 'pg';
import { exportS3Prefix, exportTablesInfoKey } from '../../core/naming';
import { exportTables, s3ObjectWriter, type ExportResult } from '../../harness/rds-export';
import type { TestPostgres } from '../../harness/postgres';
import { KMS_KEY_ARN, snapshotArn } from './aws-fixtures';

export const TEST_KEY_ARN = KMS_KEY_ARN;

/** Export `tables` of `database` on `pg` into `bucket` under exports/<taskId>/, as RDS would. */
export async function writeRealExport(
  pg: TestPostgres,
  database: string,
  s3: S3Client,
  bucket: string,
  taskId: string,
  tables: readonly string[] = ['public.knowledge_entries', 'public.embedding_cache'],
): Promise<ExportResult> {
  const client = new Client({
    host: pg.host,
    port: pg.port,
    user: pg.user,
    password: pg.password,
    database,
  });
  await client.connect();
  try {
    return await exportTables(client, {
      database,
      tables,
      taskId,
      prefix: exportS3Prefix(),
      sourceArn: snapshotArn(taskId),
      snapshotTime: new Date(),
      writeObject: s3ObjectWriter(s3, bucket, TEST_KEY_ARN),
    });
  } finally {
    await client.end();
  }
}

/** A Parquet file of `rows` rows of one text column. */
export function parquetOf(rows: number): Uint8Array {
  const data = Array.from({ length: rows }, (_, i) => `row ${i}`);
  return new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'body', data, type: 'STRING' }] }));
}

/**
 * A synthetic export without a database: one Parquet file per table with `counts[table]` rows,
 * and the export_tables_info listing them COMPLETE, in RDS's layout (database `kb`).
 */
export async function writeSyntheticExport(
  s3: S3Client,
  bucket: string,
  taskId: string,
  counts: Readonly<Record<string, number>>,
): Promise<string[]> {
  const put = s3ObjectWriter(s3, bucket, TEST_KEY_ARN);
  const keys: string[] = [];
  const statuses = [];
  for (const [table, rows] of Object.entries(counts)) {
    const key = `${exportS3Prefix()}/${taskId}/kb/${table}/1/part-00000-0-c000.gz.parquet`;
    await put(key, parquetOf(rows));
    keys.push(key);
    statuses.push({ target: `kb.${table}`, status: 'COMPLETE', sizeGB: 0.0001 });
  }
  const info = exportTablesInfoKey(taskId, 1, statuses.length);
  await put(info, new TextEncoder().encode(JSON.stringify({ perTableStatus: statuses })));
  return [...keys, info];
}

/** Replace an object with its first half (a truncated upload). */
export async function truncateObject(s3: S3Client, bucket: string, key: string): Promise<void> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = await res.Body!.transformToByteArray();
  await s3ObjectWriter(s3, bucket, TEST_KEY_ARN)(key, bytes.subarray(0, Math.floor(bytes.length / 2)));
}

/** Put an object that is not Parquet under a .parquet name. */
export async function putNotParquet(s3: S3Client, bucket: string, key: string): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: 'this is a CSV, not Parquet\n1,2,3\n',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: TEST_KEY_ARN,
    }),
  );
}
