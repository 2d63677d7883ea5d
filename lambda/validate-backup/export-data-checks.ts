/**
 * validate-backup's data-level checks on an export: every exported Parquet file's footer parses
 * (ranged reads, never whole files), and the Knowledge Base row counts in the footers equal the
 * counts the manifest recorded when the export completed. A backup recorded before kb-dr counted
 * exports has no counts: both checks SKIP. What could not be read is never a PASS.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { BackupManifest } from '../../core/manifest';
import { translateAwsError } from '../shared/aws-errors';
import {
  ExportUnreadableError,
  KB_EXPORT_TABLES,
  KB_TABLE_NAMES,
  readExport,
  type ExportObject,
  type ExportReading,
} from '../shared/export-contents';

export const EXPORT_DATA_CHECKS = {
  parquetReadable: 'exported Parquet files readable (footers parse)',
  rowCounts: 'Parquet row counts match the manifest',
} as const;

type Status = 'PASS' | 'FAIL' | 'SKIP';
interface Result {
  readonly check: string;
  readonly status: Status;
  readonly detail: string;
}
const r = (check: string, status: Status, detail: string): Result => ({ check, status, detail });
const C = EXPORT_DATA_CHECKS;

function readableCheck(reading: ExportReading): Result {
  const unreadable = [
    ...KB_TABLE_NAMES.flatMap((n) => {
      const t = reading.kb[n];
      return t.state === 'unreadable' ? t.unreadable : [];
    }),
    ...(reading.others?.unreadable ?? []),
  ];
  const ambiguous = KB_TABLE_NAMES.flatMap((n) => {
    const t = reading.kb[n];
    return t.state === 'unreadable' && t.unreadable.length === 0 ? [t.detail] : [];
  });
  const kbFiles = KB_TABLE_NAMES.reduce((sum, n) => {
    const t = reading.kb[n];
    return sum + (t.state === 'counted' ? t.files : t.state === 'unreadable' ? t.unreadable.length : 0);
  }, 0);
  const total = kbFiles + (reading.others?.read ?? 0) + (reading.others?.unreadable.length ?? 0);
  if (unreadable.length > 0) {
    const first = unreadable[0]!;
    return r(
      C.parquetReadable,
      'FAIL',
      `${unreadable.length} of ${total} Parquet file(s) unreadable, e.g. ${first.key}: ${first.reason}`,
    );
  }
  if (ambiguous.length > 0) return r(C.parquetReadable, 'FAIL', ambiguous.join('; '));
  if (total === 0)
    return r(C.parquetReadable, 'SKIP', `no Parquet files under s3://${reading.bucket}/${reading.prefix}`);
  return r(
    C.parquetReadable,
    'PASS',
    `${total} Parquet file(s) of ${reading.tables.length} table(s); every footer parses (ranged reads only)`,
  );
}

function countsCheck(manifest: BackupManifest, reading: ExportReading): Result {
  const recorded = manifest.tableRowCounts;
  if (!recorded)
    return r(
      C.rowCounts,
      'FAIL',
      `the backup recorded no row counts when its export completed: ${manifest.tableRowCountsWarning ?? 'no reason recorded'}`,
    );
  const problems: string[] = [];
  const cannotRead: string[] = [];
  const figures: string[] = [];
  for (const n of KB_TABLE_NAMES) {
    const t = reading.kb[n];
    if (t.state === 'counted') {
      if (t.rows !== recorded[n])
        problems.push(
          `${n}: ${t.rows} rows in ${t.files} Parquet file(s) of the export, ${recorded[n]} recorded`,
        );
      else figures.push(`${n} ${t.rows.toLocaleString('en-US')}`);
    } else if (t.state === 'unreadable') cannotRead.push(`${KB_EXPORT_TABLES[n]} (${t.detail})`);
    else problems.push(`${n}: ${t.detail}, ${recorded[n]} rows recorded`);
  }
  if (problems.length > 0)
    return r(C.rowCounts, 'FAIL', `${problems.join('; ')}: the export changed since the backup`);
  if (cannotRead.length > 0)
    return r(C.rowCounts, 'SKIP', `could not count ${cannotRead.join('; ')}: see the Parquet check`);
  return r(C.rowCounts, 'PASS', `${figures.join(', ')}, as recorded when the export completed`);
}

/** The two data-level checks of export `taskId` in `bucket`, against `manifest`. */
export async function checkExportData(
  s3: S3Client,
  bucket: string,
  taskId: string,
  manifest: BackupManifest | undefined,
  objects: readonly ExportObject[],
): Promise<Result[]> {
  if (!manifest) return [r(C.parquetReadable, 'SKIP', 'no manifest'), r(C.rowCounts, 'SKIP', 'no manifest')];
  if (!manifest.tableRowCounts && !manifest.tableRowCountsWarning) {
    const why =
      'the manifest records no row counts (a backup recorded before kb-dr counted exports): nothing to compare with';
    return [r(C.parquetReadable, 'SKIP', why), r(C.rowCounts, 'SKIP', why)];
  }
  let reading: ExportReading;
  try {
    reading = await readExport(s3, bucket, taskId, { otherTables: true, objects });
  } catch (err) {
    if (!(err instanceof ExportUnreadableError))
      throw translateAwsError(err, { operation: `read the Parquet footers of export ${taskId}` });
    return [
      r(C.parquetReadable, 'FAIL', err.message),
      r(
        C.rowCounts,
        manifest.tableRowCounts ? 'SKIP' : 'FAIL',
        manifest.tableRowCounts
          ? 'the export could not be read: see the Parquet check'
          : `the backup recorded no row counts: ${manifest.tableRowCountsWarning}`,
      ),
    ];
  }
  return [readableCheck(reading), countsCheck(manifest, reading)];
}
