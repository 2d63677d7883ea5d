/**
 * Row counts of exported Parquet files from their footers, read with ranged reads (the last bytes
 * of each file, and more only when the footer is larger): an export is never downloaded whole.
 * The caller supplies `readRange` (an S3 GetObject with `Range: bytes=start-(end-1)` in the
 * Lambda; a file or an in-memory object in tests), so this module knows nothing of S3.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AsyncBuffer } from 'hyparquet';

/** Bytes [start, end) of `key` (end exclusive, as ArrayBuffer.slice). */
export type ReadRange = (key: string, start: number, end: number) => Promise<ArrayBuffer | Uint8Array>;

/**
 * A ReadRange over S3: one GetObject per range with `Range: bytes=start-(end-1)` (HTTP ranges
 * are inclusive). An empty range reads nothing.
 */
export function s3RangeReader(s3: S3Client, bucket: string): ReadRange {
  return async (key, start, end) => {
    if (end <= start) return new Uint8Array(0);
    const res = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }),
    );
    if (!res.Body)
      throw new Error(`s3://${bucket}/${key} bytes ${start}-${end - 1}: the response has no body`);
    return res.Body.transformToByteArray();
  };
}

/** The footer is read from this many trailing bytes first (hyparquet reads more if needed). */
export const FOOTER_FETCH_BYTES = 64 * 1024;

export interface ParquetFileCount {
  readonly key: string;
  readonly rows: number;
  /** Bytes actually read to find the count. */
  readonly bytesRead: number;
}

/** An AsyncBuffer over `readRange`, counting the bytes it reads. */
export function rangeAsyncBuffer(
  key: string,
  byteLength: number,
  readRange: ReadRange,
): AsyncBuffer & { bytesRead: number } {
  const buffer = {
    byteLength,
    bytesRead: 0,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = end ?? byteLength;
      const got = await readRange(key, start, stop);
      const bytes = got instanceof Uint8Array ? got : new Uint8Array(got);
      if (bytes.byteLength !== stop - start)
        throw new Error(
          `reading bytes ${start}-${stop - 1} of ${key} returned ${bytes.byteLength} bytes instead of ${stop - start}: the object changed or the range read is wrong`,
        );
      buffer.bytesRead += bytes.byteLength;
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
  return buffer;
}

/** The row count in one Parquet file's footer. Throws when the file is not Parquet. */
export async function parquetRowCount(
  key: string,
  byteLength: number,
  readRange: ReadRange,
): Promise<ParquetFileCount> {
  const buffer = rangeAsyncBuffer(key, byteLength, readRange);
  // Loaded on first use, not at cold start: only the passes that count an export's rows read Parquet.
  const { parquetMetadataAsync } = await import('./parquet-footer');
  try {
    const metadata = await parquetMetadataAsync(buffer, { initialFetchSize: FOOTER_FETCH_BYTES });
    return { key, rows: Number(metadata.num_rows), bytesRead: buffer.bytesRead };
  } catch (err) {
    throw new Error(
      `${key} (${byteLength} bytes) is not a readable Parquet file: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/**
 * The `<schema.table>` an exported object belongs to, from RDS's layout
 * `<prefix>/<task-id>/<database>/<schema.table>/<partition>/part-*.parquet`; undefined for the
 * export's JSON files and anything else.
 */
export function exportedTableOf(
  key: string,
  taskPrefix: string,
): { database: string; table: string } | undefined {
  const prefix = taskPrefix.endsWith('/') ? taskPrefix : `${taskPrefix}/`;
  if (!key.startsWith(prefix) || !key.endsWith('.parquet')) return undefined;
  const [database, table] = key.slice(prefix.length).split('/');
  return database && table && key.slice(prefix.length).split('/').length >= 3
    ? { database, table }
    : undefined;
}

export interface TableRowCount {
  readonly database: string;
  /** `schema.table` */
  readonly table: string;
  readonly rows: number;
  readonly files: number;
  readonly bytesRead: number;
}

/** Row counts per exported table: the sum over its Parquet files' footers. */
export async function exportRowCounts(
  objects: readonly { readonly key: string; readonly size: number }[],
  taskPrefix: string,
  readRange: ReadRange,
): Promise<TableRowCount[]> {
  const byTable = new Map<
    string,
    { database: string; table: string; rows: number; files: number; bytesRead: number }
  >();
  for (const o of objects) {
    const where = exportedTableOf(o.key, taskPrefix);
    if (!where) continue;
    const count = await parquetRowCount(o.key, o.size, readRange);
    const id = `${where.database}/${where.table}`;
    const t = byTable.get(id) ?? { ...where, rows: 0, files: 0, bytesRead: 0 };
    t.rows += count.rows;
    t.files += 1;
    t.bytesRead += count.bytesRead;
    byTable.set(id, t);
  }
  return [...byTable.values()].sort((a, b) =>
    `${a.database}/${a.table}`.localeCompare(`${b.database}/${b.table}`),
  );
}
