/**
 * The backup manifest: the durable record of one finished backup, stored as JSON at
 * `manifestKey(snapshotId)` in the backup bucket. Its existence is what makes "recorded once"
 * true across invocations; validation and `latest` resolution read it.
 */
import { z } from 'zod';
import { CorruptManifestError } from './errors';

export const MANIFEST_VERSION = 1;

const isoTime = z.iso.datetime({ offset: true });

export const BackupManifestSchema = z.strictObject({
  version: z.literal(MANIFEST_VERSION),
  snapshotId: z.string().min(1),
  snapshotArn: z.string().optional(),
  dbInstanceId: z.string().min(1),
  trigger: z.enum(['scheduled', 'on-demand']),
  status: z.enum(['SUCCEEDED', 'FAILED']),
  requestedAt: isoTime,
  snapshotAvailableAt: isoTime.optional(),
  exportStartedAt: isoTime.optional(),
  exportCompletedAt: isoTime.optional(),
  /** Seconds from snapshot requested to snapshot available. */
  backupDurationSeconds: z.number().nonnegative().optional(),
  /** Seconds from export started to export completed. */
  exportDurationSeconds: z.number().nonnegative().optional(),
  /** Allocated storage of the snapshot, in bytes. */
  snapshotAllocatedBytes: z.number().nonnegative().optional(),
  /** Bytes the export wrote to S3 (sum of the exported objects, or the task's report). */
  exportSizeBytes: z.number().nonnegative().optional(),
  exportTaskId: z.string().optional(),
  exportLocation: z.strictObject({ bucket: z.string(), prefix: z.string() }).optional(),
  kmsKeyId: z.string().optional(),
  /** The export task's WarningMessage, verbatim (a COMPLETE export can still have skipped tables). */
  exportWarning: z.string().optional(),
  /** Tables the export skipped, as the warning names them (e.g. `public.audit_log`). */
  skippedTables: z.array(z.string()).optional(),
  /**
   * Row counts of the Knowledge Base tables at the backup's point in time, read from the exported
   * Parquet footers when the export completed (`source: 'parquet-footers'`). The snapshot and the
   * export are two copies of the same point in time, so a restore of either must hold these counts.
   */
  tableRowCounts: z
    .strictObject({
      knowledge_entries: z.number().int().nonnegative(),
      embedding_cache: z.number().int().nonnegative(),
      source: z.literal('parquet-footers'),
    })
    .optional(),
  /**
   * Why `tableRowCounts` is absent although the export completed (a Knowledge Base table missing
   * from the export, a Parquet file that could not be read): the snapshot is still a good recovery
   * point, but the export's data could not be counted. validate-backup reports it as a FAIL.
   */
  tableRowCountsWarning: z.string().optional(),
  failure: z
    .strictObject({ stage: z.string(), code: z.string(), message: z.string(), hint: z.string().optional() })
    .optional(),
  recordedAt: isoTime,
});

export type BackupManifest = z.infer<typeof BackupManifestSchema>;

/** Parse a manifest's JSON text; a CorruptManifestError names the object when it is malformed. */
export function parseManifest(text: string, source: string): BackupManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new CorruptManifestError(`manifest ${source} is not valid JSON`, source, { cause });
  }
  const result = BackupManifestSchema.safeParse(json);
  if (!result.success) {
    throw new CorruptManifestError(
      `manifest ${source} is malformed: ${z.prettifyError(result.error)}`,
      source,
    );
  }
  return result.data;
}
