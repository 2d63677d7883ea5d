/**
 * What an RDS snapshot export holds, read from S3 without downloading it: which tables it lists
 * (its `export_tables_info_*.json`) and how many rows each Knowledge Base table has (the footers
 * of its Parquet files, read with ranged GETs; see parquet-counts.ts).
 *
 * The export_tables_info JSON names each table (`target: <database>.<schema>.<table>`), its
 * status and size, but carries NO row counts: RDS does not record them anywhere but in the
 * Parquet footers, so counting means reading every file's footer. A table's files live under
 * `<task>/<database>/<schema.table>/<batch>/part-*.parquet`; RDS writes no file for an empty
 * partition (user guide, "File naming conventions for exports"), so a table listed COMPLETE with
 * no Parquet file has 0 rows.
 *
 * Used by the reconcile function (counts recorded in the manifest when the export completes) and
 * validate-backup (footers still readable, counts still equal to the manifest's).
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { awsErrorCode } from '../../core/errors';
import { exportObjectsPrefix } from '../../core/naming';
import { classifyFault } from './fault-class';
import { parquetRowCount, s3RangeReader } from './parquet-counts';
import { listObjects } from './s3-objects';

/** The Knowledge Base tables, as the manifest names them and as the export lists them. */
export const KB_EXPORT_TABLES = {
  knowledge_entries: 'public.knowledge_entries',
  embedding_cache: 'public.embedding_cache',
} as const;
export type KbTableName = keyof typeof KB_EXPORT_TABLES;
export const KB_TABLE_NAMES = Object.keys(KB_EXPORT_TABLES) as KbTableName[];

const TABLES_INFO_RE = /\/export_tables_info_[^/]*\.json$/;
/** At most this many export_tables_info files are read (RDS writes one per batch of tables). */
export const MAX_TABLES_INFO_FILES = 50;
/** Footers read at once. */
const FOOTER_CONCURRENCY = 8;

export interface ExportObject {
  readonly key: string;
  readonly size: number;
}

/** One perTableStatus entry of export_tables_info, split into database and `schema.table`. */
export interface ExportedTableEntry {
  readonly target: string;
  readonly database: string;
  /** `schema.table` */
  readonly table: string;
  readonly status: string;
  readonly warningMessage?: string;
}

/** A Parquet file whose footer could not be read. */
export interface UnreadableFile {
  readonly key: string;
  readonly reason: string;
}

/** What was found for one Knowledge Base table. */
export type KbTableReading =
  | {
      readonly state: 'counted';
      readonly target: string;
      readonly rows: number;
      readonly files: number;
      readonly bytesRead: number;
    }
  /** Not listed in export_tables_info at all. */
  | { readonly state: 'absent'; readonly detail: string }
  /** Listed, but not exported COMPLETE (RDS skipped it). */
  | { readonly state: 'skipped'; readonly target: string; readonly detail: string }
  /** Listed COMPLETE, but its files could not be read or its listing is ambiguous. */
  | {
      readonly state: 'unreadable';
      readonly target: string;
      readonly detail: string;
      readonly unreadable: readonly UnreadableFile[];
    };

export interface ExportReading {
  readonly bucket: string;
  readonly prefix: string;
  readonly tablesInfoKeys: readonly string[];
  readonly tables: readonly ExportedTableEntry[];
  readonly kb: Readonly<Record<KbTableName, KbTableReading>>;
  /** Parquet files of tables other than the Knowledge Base's, when `otherTables` was asked for. */
  readonly others?: { readonly read: number; readonly unreadable: readonly UnreadableFile[] };
}

/**
 * The export could not be read at all (no export_tables_info, or it is not JSON, or S3 refused):
 * a definitive answer; transient S3 faults are thrown as they are, for the caller to retry.
 */
export class ExportUnreadableError extends Error {
  override readonly name = 'ExportUnreadableError';
}

/** The table's `database` and `schema.table` from a target `<database>.<schema>.<table>`. */
export function splitTarget(target: string): { database: string; table: string } | undefined {
  const parts = target.split('.');
  if (parts.length < 3) return undefined;
  const table = parts.slice(-2).join('.');
  return { database: parts.slice(0, -2).join('.'), table };
}

function deniedHint(bucket: string, prefix: string): string {
  return `check s3:GetObject on arn:aws:s3:::${bucket}/${prefix}* and kms:Decrypt on the backup key for this function's role (cdk deploy --all restores both)`;
}

/** A read that failed: transient faults are rethrown (retry later), the rest become a reason. */
function reasonOf(err: unknown, bucket: string, prefix: string): string {
  const cause = (err as { cause?: unknown }).cause ?? err;
  const fault = classifyFault(cause);
  if (fault === 'transient' || fault === 'state') throw cause;
  if (fault === 'denied') return `reading was DENIED (${awsErrorCode(cause)}): ${deniedHint(bucket, prefix)}`;
  return (err as Error).message;
}

async function readText(s3: S3Client, bucket: string, key: string, prefix: string): Promise<string> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await res.Body?.transformToString()) ?? '';
  } catch (err) {
    throw new ExportUnreadableError(`s3://${bucket}/${key}: ${reasonOf(err, bucket, prefix)}`);
  }
}

/** The tables an export lists, from its export_tables_info files. */
export async function readExportTables(
  s3: S3Client,
  bucket: string,
  prefix: string,
  objects: readonly ExportObject[],
): Promise<{ keys: string[]; tables: ExportedTableEntry[] }> {
  const keys = objects
    .map((o) => o.key)
    .filter((k) => k.startsWith(prefix) && TABLES_INFO_RE.test(k))
    .slice(0, MAX_TABLES_INFO_FILES);
  if (keys.length === 0)
    throw new ExportUnreadableError(
      `no export_tables_info_*.json under s3://${bucket}/${prefix}: RDS writes it when an export completes, so the exported tables cannot be known`,
    );
  const tables: ExportedTableEntry[] = [];
  for (const key of keys) {
    const text = await readText(s3, bucket, key, prefix);
    let list: unknown;
    try {
      list = (JSON.parse(text) as { perTableStatus?: unknown }).perTableStatus;
    } catch (err) {
      throw new ExportUnreadableError(`s3://${bucket}/${key} is not JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(list))
      throw new ExportUnreadableError(`s3://${bucket}/${key} has no perTableStatus list`);
    for (const e of list as { target?: unknown; status?: unknown; warningMessage?: unknown }[]) {
      const target = typeof e?.target === 'string' ? e.target : '';
      const where = splitTarget(target);
      if (!where) continue;
      tables.push({
        target,
        ...where,
        status: typeof e.status === 'string' ? e.status.toUpperCase() : 'MISSING',
        ...(typeof e.warningMessage === 'string' ? { warningMessage: e.warningMessage } : {}),
      });
    }
  }
  return { keys, tables };
}

/** The Parquet files of one exported table (every batch folder), by its exact folder. */
export function parquetFilesOf(
  objects: readonly ExportObject[],
  prefix: string,
  database: string,
  table: string,
): ExportObject[] {
  const folder = `${prefix}${database}/${table}/`;
  return objects.filter((o) => o.key.startsWith(folder) && o.key.endsWith('.parquet'));
}

interface FooterResult {
  readonly rows: number;
  readonly bytesRead: number;
  readonly unreadable: UnreadableFile[];
}

async function readFooters(
  s3: S3Client,
  bucket: string,
  prefix: string,
  files: readonly ExportObject[],
): Promise<FooterResult> {
  const read = s3RangeReader(s3, bucket);
  let rows = 0;
  let bytesRead = 0;
  const unreadable: UnreadableFile[] = [];
  for (let i = 0; i < files.length; i += FOOTER_CONCURRENCY) {
    await Promise.all(
      files.slice(i, i + FOOTER_CONCURRENCY).map(async (f) => {
        try {
          const c = await parquetRowCount(f.key, f.size, read);
          rows += c.rows;
          bytesRead += c.bytesRead;
        } catch (err) {
          unreadable.push({ key: f.key, reason: reasonOf(err, bucket, prefix) });
        }
      }),
    );
  }
  unreadable.sort((a, b) => a.key.localeCompare(b.key));
  return { rows, bytesRead, unreadable };
}

async function readKbTable(
  s3: S3Client,
  bucket: string,
  prefix: string,
  objects: readonly ExportObject[],
  tables: readonly ExportedTableEntry[],
  name: KbTableName,
): Promise<KbTableReading> {
  const listed = tables.filter((t) => t.table === KB_EXPORT_TABLES[name]);
  const first = listed[0];
  if (!first)
    return {
      state: 'absent',
      detail: `${KB_EXPORT_TABLES[name]} is not in the export (export_tables_info lists ${tables.length} table(s), not this one)`,
    };
  if (listed.length > 1)
    return {
      state: 'unreadable',
      target: first.target,
      detail: `${KB_EXPORT_TABLES[name]} is listed in ${listed.length} databases (${listed.map((t) => t.database).join(', ')}): which one is the Knowledge Base is ambiguous`,
      unreadable: [],
    };
  if (first.status !== 'COMPLETE' || /skip/i.test(first.warningMessage ?? ''))
    return {
      state: 'skipped',
      target: first.target,
      detail: `${first.target} was not exported (status ${first.status}${first.warningMessage ? `: ${first.warningMessage}` : ''})`,
    };
  const files = parquetFilesOf(objects, prefix, first.database, first.table);
  const footers = await readFooters(s3, bucket, prefix, files);
  if (footers.unreadable.length > 0) {
    const e = footers.unreadable[0] as UnreadableFile;
    return {
      state: 'unreadable',
      target: first.target,
      detail: `${footers.unreadable.length} of ${files.length} Parquet file(s) of ${first.target} unreadable, e.g. ${e.key}: ${e.reason}`,
      unreadable: footers.unreadable,
    };
  }
  return {
    state: 'counted',
    target: first.target,
    rows: footers.rows,
    files: files.length,
    bytesRead: footers.bytesRead,
  };
}

/**
 * Read an export: its table list and the row counts of the Knowledge Base tables from their
 * Parquet footers (ranged reads only). With `otherTables`, every other Parquet file's footer is
 * read too (validate-backup: every file must be readable).
 *
 * Throws ExportUnreadableError when the table list itself cannot be read, and S3's own error when
 * a read failed transiently (throttling, 5xx, timeout: retrying can succeed). A file that is not
 * Parquet, is truncated or is denied is reported in the reading, never thrown.
 */
export async function readExport(
  s3: S3Client,
  bucket: string,
  exportTaskId: string,
  options: { readonly otherTables?: boolean; readonly objects?: readonly ExportObject[] } = {},
): Promise<ExportReading> {
  const prefix = exportObjectsPrefix(exportTaskId);
  let objects = options.objects;
  if (!objects) {
    try {
      objects = (await listObjects(s3, bucket, prefix)).map((o) => ({ key: o.Key ?? '', size: o.Size ?? 0 }));
    } catch (err) {
      throw new ExportUnreadableError(`listing s3://${bucket}/${prefix}: ${reasonOf(err, bucket, prefix)}`);
    }
  }
  const { keys, tables } = await readExportTables(s3, bucket, prefix, objects);
  const kb = {} as Record<KbTableName, KbTableReading>;
  for (const name of KB_TABLE_NAMES) kb[name] = await readKbTable(s3, bucket, prefix, objects, tables, name);
  let others: ExportReading['others'];
  if (options.otherTables) {
    const kbFolders = KB_TABLE_NAMES.flatMap((n) =>
      tables.filter((t) => t.table === KB_EXPORT_TABLES[n]).map((t) => `${prefix}${t.database}/${t.table}/`),
    );
    const rest = objects.filter(
      (o) => o.key.endsWith('.parquet') && !kbFolders.some((f) => o.key.startsWith(f)),
    );
    const footers = await readFooters(s3, bucket, prefix, rest);
    others = { read: rest.length - footers.unreadable.length, unreadable: footers.unreadable };
  }
  return { bucket, prefix, tablesInfoKeys: keys, tables, kb, ...(others ? { others } : {}) };
}
