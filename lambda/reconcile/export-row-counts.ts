/**
 * Data-level facts of a completed export, for its manifest and metrics:
 * - `rowCountFields`: the row counts of public.knowledge_entries and public.embedding_cache from
 *   the exported Parquet files' footers (ranged reads; the export's export_tables_info JSON says
 *   which tables and folders exist but carries no row counts). When they cannot be read, the backup
 *   is still recorded SUCCEEDED (the snapshot is a good recovery point) with a
 *   `tableRowCountsWarning` saying why, and a WARN log line with the fix.
 * - `emitEntryCountMetrics`: once the SUCCEEDED manifest is written, KnowledgeEntries and
 *   EntryCountDropFraction, the fraction of entries lost since the previous successful backup
 *   with counts. KB-EntryCountDrop is a plain alarm on that fraction: the comparison with the
 *   previous backup happens here, where the manifests are, and the threshold lives in the alarm
 *   alone (one setting, visible in the console, no copy in the function's environment).
 */
import { awsErrorCode, CorruptManifestError } from '../../core/errors';
import type { BackupManifest } from '../../core/manifest';
import { KbMetrics } from '../../core/metrics-catalog';
import type { PipelineConfig, PipelineDeps } from '../shared/backup-pipeline';
import {
  ExportUnreadableError,
  KB_EXPORT_TABLES,
  KB_TABLE_NAMES,
  readExport,
  type KbTableReading,
} from '../shared/export-contents';
import { getManifest, listManifestSnapshotIds } from '../shared/manifest-store';
import { addKbMetric } from '../shared/powertools';
import { sameInstanceId } from '../../core/naming';

type RowCountFields = Pick<BackupManifest, 'tableRowCounts' | 'tableRowCountsWarning'>;

/** At most this many earlier manifests are read to find the previous backup with counts. */
export const MAX_PREVIOUS_MANIFESTS = 40;

function problemOf(name: string, r: KbTableReading): string | undefined {
  switch (r.state) {
    case 'counted':
      return undefined;
    case 'absent':
      return `${KB_EXPORT_TABLES[name as keyof typeof KB_EXPORT_TABLES]} absent: ${r.detail}`;
    default:
      return r.detail;
  }
}

/**
 * The manifest fields for the row counts of export `exportTaskId`. Never throws for a definitive
 * problem (it becomes the warning); throws S3's error when a read failed transiently, so the step
 * is retried and the counts are not lost to a throttled GET (the manifest is written once).
 */
export async function rowCountFields(
  deps: PipelineDeps,
  config: PipelineConfig,
  exportTaskId: string,
): Promise<RowCountFields> {
  let warning: string;
  try {
    const reading = await readExport(deps.s3, config.backupBucket, exportTaskId);
    const problems = KB_TABLE_NAMES.map((n) => problemOf(n, reading.kb[n])).filter(
      (p): p is string => p !== undefined,
    );
    const entries = reading.kb.knowledge_entries;
    const cache = reading.kb.embedding_cache;
    if (entries.state === 'counted' && cache.state === 'counted') {
      deps.logger.info(`export ${exportTaskId}: row counts read from Parquet footers`, {
        knowledge_entries: entries.rows,
        embedding_cache: cache.rows,
        parquetFiles: entries.files + cache.files,
        bytesRead: entries.bytesRead + cache.bytesRead,
      });
      return {
        tableRowCounts: {
          knowledge_entries: entries.rows,
          embedding_cache: cache.rows,
          source: 'parquet-footers',
        },
      };
    }
    // The schema records both counts or none: a table that could not be counted records nothing.
    const counted = KB_TABLE_NAMES.flatMap((n) => {
      const r = reading.kb[n];
      return r.state === 'counted' ? [`${n} ${r.rows} rows`] : [];
    });
    warning = `row counts not recorded: ${problems.join('; ')}${counted.length > 0 ? ` (read: ${counted.join(', ')})` : ''}`;
  } catch (err) {
    if (!(err instanceof ExportUnreadableError)) throw err;
    warning = `row counts not recorded: ${err.message}`;
  }
  deps.logger.warn(`export ${exportTaskId} completed but its Knowledge Base rows could not be counted`, {
    tableRowCountsWarning: warning,
    fix: 'the snapshot is a good recovery point and is recorded SUCCEEDED; run kb-dr-validate-backup on this backup, and check the export objects and the reconcile role (s3:GetObject on exports/*, kms:Decrypt)',
  });
  return { tableRowCountsWarning: warning };
}

/**
 * Fraction of the Knowledge Base lost from `previous` to `current` entries: 0 for growth and
 * for an empty previous KB (nothing to lose), 1 for a drop to 0. Not rounded: a drop of exactly
 * the threshold must compare equal to it.
 */
export function entryCountDropFraction(previous: number, current: number): number {
  if (previous <= 0 || current >= previous) return 0;
  return (previous - current) / previous;
}

/** The newest SUCCEEDED manifest before `snapshotId` that has row counts, and whether newer ones exist. */
async function baseline(
  deps: PipelineDeps,
  config: PipelineConfig,
  manifest: BackupManifest,
): Promise<{ previous?: BackupManifest; newerRecorded: boolean }> {
  const loc = { s3: deps.s3, bucket: config.backupBucket };
  const ids = await listManifestSnapshotIds(loc);
  const newerRecorded = ids.some((id) => id > manifest.snapshotId);
  const earlier = ids
    .filter((id) => id < manifest.snapshotId)
    .reverse()
    .slice(0, MAX_PREVIOUS_MANIFESTS);
  for (const id of earlier) {
    let m: BackupManifest | undefined;
    try {
      m = await getManifest(loc, id);
    } catch (err) {
      if (err instanceof CorruptManifestError) continue;
      throw err;
    }
    if (
      m?.status === 'SUCCEEDED' &&
      m.tableRowCounts &&
      sameInstanceId(m.dbInstanceId, manifest.dbInstanceId)
    )
      return { previous: m, newerRecorded };
  }
  return { newerRecorded };
}

/**
 * Emit KnowledgeEntries and EntryCountDropFraction for a SUCCEEDED manifest this invocation
 * recorded. Nothing when it has no counts (the alarm keeps its state: an unreadable export proves
 * neither a drop nor a recovery), nor when a newer backup is already recorded (a late old backup
 * must not clear tonight's alarm). Best effort: the manifest is written, so a failure here is
 * logged, never thrown.
 */
export async function emitEntryCountMetrics(
  deps: PipelineDeps,
  config: PipelineConfig,
  manifest: BackupManifest,
): Promise<void> {
  const counts = manifest.tableRowCounts;
  if (manifest.status !== 'SUCCEEDED' || !counts) return;
  try {
    const { previous, newerRecorded } = await baseline(deps, config, manifest);
    if (newerRecorded) {
      deps.logger.info(
        `recorded ${manifest.snapshotId} late; a newer backup is already recorded, so no entry-count metric is emitted`,
      );
      return;
    }
    const before = previous?.tableRowCounts?.knowledge_entries;
    const fraction = before === undefined ? 0 : entryCountDropFraction(before, counts.knowledge_entries);
    addKbMetric(deps.metrics, KbMetrics.KnowledgeEntries, counts.knowledge_entries);
    addKbMetric(deps.metrics, KbMetrics.EntryCountDropFraction, fraction);
    const context = {
      knowledge_entries: counts.knowledge_entries,
      previousBackup: previous?.snapshotId ?? 'none with counts',
      previousKnowledgeEntries: before,
      entryCountDropFraction: fraction,
    };
    if (fraction > 0)
      deps.logger.warn(
        `backup ${manifest.snapshotId} holds ${counts.knowledge_entries} knowledge entries, ${before} at ${previous?.snapshotId}: ${(fraction * 100).toFixed(1)}% fewer`,
        context,
      );
    else
      deps.logger.info(
        `backup ${manifest.snapshotId}: ${counts.knowledge_entries} knowledge entries`,
        context,
      );
  } catch (err) {
    deps.logger.error(`could not compare ${manifest.snapshotId}'s entry count with the previous backup`, {
      awsError: awsErrorCode(err),
      error: err instanceof Error ? err.message : String(err),
      fix: 'the backup is recorded; KB-EntryCountDrop keeps its state until the next backup is compared',
    });
  }
}
