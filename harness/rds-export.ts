/**
 * The emulated snapshot export: the Knowledge Base tables of a running cluster written as GZIP
 * Parquet, with the export's JSON files, in RDS's S3 layout:
 *
 *   <prefix>/<task-id>/export_info_<task-id>.json
 *   <prefix>/<task-id>/export_tables_info_<task-id>_from_1_to_<N>.json   ({"perTableStatus": [...]})
 *   <prefix>/<task-id>/<database>/<schema.table>/1/part-00000-<uuid>-c000.gz.parquet
 *
 * The JSON fields follow what RDS writes (exportTaskIdentifier, status, percentProgress, ...;
 * perTableStatus entries with tableStatistics, schemaMetadata.originalTypeMappings, status, sizeGB
 * and target `<database>.<schema>.<table>`). Like RDS, the JSON carries no row counts: those are in
 * the Parquet footers.
 */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Client } from 'pg';
import { parquetWriteBuffer, type ColumnSource } from 'hyparquet-writer';

/** Writes one object of the export (into moto's S3, a folder, or memory). */
export type WriteObject = (key: string, body: Uint8Array) => Promise<void>;

/**
 * A WriteObject that puts each object into `bucket` encrypted with `kmsKeyId`, as an RDS export
 * does (its objects are SSE-KMS with the export task's key).
 */
export function s3ObjectWriter(s3: S3Client, bucket: string, kmsKeyId: string): WriteObject {
  return async (key, body) => {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: kmsKeyId,
        ContentType: key.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      }),
    );
  };
}

interface ColumnInfo {
  readonly name: string;
  readonly dataType: string;
  readonly udtName: string;
  readonly nullable: boolean;
}

/** How a PostgreSQL column is exported: the Parquet type and the SQL that reads it. */
function exportedType(c: ColumnInfo): { type: ColumnSource['type']; select: string; expected: string } {
  const col = `"${c.name.replace(/"/g, '""')}"`;
  switch (c.dataType) {
    case 'bigint':
      return { type: 'INT64', select: col, expected: 'int64' };
    case 'integer':
    case 'smallint':
      return { type: 'INT32', select: col, expected: 'int32' };
    case 'boolean':
      return { type: 'BOOLEAN', select: col, expected: 'boolean' };
    case 'double precision':
    case 'real':
      return { type: 'DOUBLE', select: `${col}::float8`, expected: 'double' };
    case 'timestamp with time zone':
    case 'timestamp without time zone':
      return { type: 'TIMESTAMP', select: col, expected: 'timestamp' };
    default:
      // text, arrays (tags, embeddings), json...: exported as strings, as RDS does for these types
      return { type: 'STRING', select: `${col}::text`, expected: 'string' };
  }
}

export interface ExportedTable {
  /** `<database>.<schema>.<table>`, as in perTableStatus. */
  readonly target: string;
  readonly key: string;
  readonly rows: number;
  readonly bytes: number;
}

export interface ExportResult {
  readonly taskId: string;
  readonly tables: readonly ExportedTable[];
  /** Every key written, JSON files included. */
  readonly keys: readonly string[];
}

/** Export `tables` (schema-qualified) of the database `client` is connected to. */
export async function exportTables(
  client: Client,
  params: {
    readonly database: string;
    readonly tables: readonly string[];
    readonly taskId: string;
    readonly prefix: string;
    readonly sourceArn: string;
    readonly snapshotTime: Date;
    readonly writeObject: WriteObject;
  },
): Promise<ExportResult> {
  const started = new Date();
  const taskPrefix = params.prefix ? `${params.prefix.replace(/\/+$/, '')}/${params.taskId}` : params.taskId;
  const tables: ExportedTable[] = [];
  const statuses: unknown[] = [];
  const keys: string[] = [];
  for (const qualified of params.tables) {
    const [schema, table] = qualified.split('.') as [string, string];
    const extractionStart = new Date();
    const cols = await client.query<{
      name: string;
      data_type: string;
      udt_name: string;
      is_nullable: string;
    }>(
      `SELECT column_name AS name, data_type, udt_name, is_nullable FROM information_schema.columns
        WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [schema, table],
    );
    if (cols.rows.length === 0)
      throw new Error(
        `emulated RDS: export ${params.taskId}: table ${qualified} not found in the snapshot's database ${params.database}`,
      );
    const columns = cols.rows.map((r) => ({
      info: { name: r.name, dataType: r.data_type, udtName: r.udt_name, nullable: r.is_nullable === 'YES' },
      ...exportedType({
        name: r.name,
        dataType: r.data_type,
        udtName: r.udt_name,
        nullable: r.is_nullable === 'YES',
      }),
    }));
    const rows = await client.query({
      text: `SELECT ${columns.map((c) => c.select).join(', ')} FROM ${qualified} ORDER BY 1`,
      rowMode: 'array',
    });
    const columnData: ColumnSource[] = columns.map((c, i) => ({
      name: c.info.name,
      type: c.type,
      nullable: c.info.nullable,
      data: rows.rows.map((r: unknown[]) => {
        const v = r[i];
        if (v === null || v === undefined) return null;
        return c.type === 'INT64' ? BigInt(v as string) : v;
      }),
    }));
    const body = new Uint8Array(
      parquetWriteBuffer({
        columnData,
        codec: 'GZIP',
        compressors: { GZIP: (input) => new Uint8Array(gzipSync(input)) },
        createdBy: 'kb-dr emulated RDS export (hyparquet-writer)',
      }),
    );
    const key = `${taskPrefix}/${params.database}/${qualified}/1/part-00000-${randomUUID()}-c000.gz.parquet`;
    await params.writeObject(key, body);
    keys.push(key);
    tables.push({
      target: `${params.database}.${qualified}`,
      key,
      rows: rows.rows.length,
      bytes: body.byteLength,
    });
    statuses.push({
      tableStatistics: {
        extractionStartTime: extractionStart.toISOString(),
        extractionEndTime: new Date().toISOString(),
        partitioningInfo: { numberOfPartitions: 1, numberOfCompletedPartitions: 1 },
      },
      schemaMetadata: {
        originalTypeMappings: columns.map((c) => ({
          columnName: c.info.name,
          originalType: c.info.udtName,
          expectedExportedType: c.expected,
          originalCharMaxLength: 0,
          originalNumPrecision: 0,
          originalDateTimePrecision: 0,
        })),
      },
      status: 'COMPLETE',
      sizeGB: body.byteLength / 1024 ** 3,
      target: `${params.database}.${qualified}`,
    });
  }
  const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v, null, 2));
  const tablesInfoKey = `${taskPrefix}/export_tables_info_${params.taskId}_from_1_to_${params.tables.length}.json`;
  await params.writeObject(tablesInfoKey, json({ perTableStatus: statuses }));
  const infoKey = `${taskPrefix}/export_info_${params.taskId}.json`;
  await params.writeObject(
    infoKey,
    json({
      exportTaskIdentifier: params.taskId,
      sourceArn: params.sourceArn,
      exportOnly: [],
      snapshotTime: params.snapshotTime.toISOString(),
      taskStartTime: started.toISOString(),
      taskEndTime: new Date().toISOString(),
      s3Bucket: '(emulated)',
      s3Prefix: params.prefix,
      exportedFilesPath: taskPrefix,
      status: 'COMPLETE',
      percentProgress: 100,
      totalExportedDataInGB: tables.reduce((s, t) => s + t.bytes, 0) / 1024 ** 3,
    }),
  );
  keys.push(tablesInfoKey, infoKey);
  return { taskId: params.taskId, tables, keys };
}
