/**
 * The backup manifest: the durable record of one finished backup, stored as JSON at
 * `manifestKey(snapshotId)` in the backup bucket. Its existence is what makes "recorded once"
 * true across invocations; validation and `latest` resolution read it.
 */
import * as z from 'zod/mini';
import './zod-english';
import { CorruptManifestError } from './errors';
import { onFirstUse } from './on-first-use';

export const MANIFEST_VERSION = 1;

/**
 * Built on first use ({@link backupManifestSchema}): only the invocations that read or write a
 * manifest need it, and building this schema and the record schema at load cost a few ms of CPU of
 * every cold start (bench/function-cold-load.ts).
 */
function buildBackupManifestSchema() {
  const isoTime = z.iso.datetime({ offset: true });
  const nonNegative = z.number().check(z.nonnegative());
  const count = z.int().check(z.nonnegative());

  return z.strictObject({
    version: z.literal(MANIFEST_VERSION),
    snapshotId: z.string().check(z.minLength(1)),
    snapshotArn: z.optional(z.string()),
    dbInstanceId: z.string().check(z.minLength(1)),
    trigger: z.enum(['scheduled', 'on-demand']),
    status: z.enum(['SUCCEEDED', 'FAILED']),
    requestedAt: isoTime,
    snapshotAvailableAt: z.optional(isoTime),
    exportStartedAt: z.optional(isoTime),
    exportCompletedAt: z.optional(isoTime),
    /** Seconds from snapshot requested to snapshot available. */
    backupDurationSeconds: z.optional(nonNegative),
    /** Seconds from export started to export completed. */
    exportDurationSeconds: z.optional(nonNegative),
    /** Allocated storage of the snapshot, in bytes. */
    snapshotAllocatedBytes: z.optional(nonNegative),
    /** Bytes the export wrote to S3 (sum of the exported objects, or the task's report). */
    exportSizeBytes: z.optional(nonNegative),
    exportTaskId: z.optional(z.string()),
    exportLocation: z.optional(z.strictObject({ bucket: z.string(), prefix: z.string() })),
    kmsKeyId: z.optional(z.string()),
    /** The export task's WarningMessage, verbatim (a COMPLETE export can still have skipped tables). */
    exportWarning: z.optional(z.string()),
    /** Tables the export skipped, as the warning names them (e.g. `public.audit_log`). */
    skippedTables: z.optional(z.array(z.string())),
    /**
     * Row counts of the Knowledge Base tables at the backup's point in time, read from the exported
     * Parquet footers when the export completed (`source: 'parquet-footers'`). The snapshot and the
     * export are two copies of the same point in time, so a restore of either must hold these counts.
     */
    tableRowCounts: z.optional(
      z.strictObject({
        knowledge_entries: count,
        embedding_cache: count,
        source: z.literal('parquet-footers'),
      }),
    ),
    /**
     * Why `tableRowCounts` is absent although the export completed (a Knowledge Base table missing
     * from the export, a Parquet file that could not be read): the snapshot is still a good recovery
     * point, but the export's data could not be counted. validate-backup reports it as a FAIL.
     */
    tableRowCountsWarning: z.optional(z.string()),
    failure: z.optional(
      z.strictObject({
        stage: z.string(),
        code: z.string(),
        message: z.string(),
        hint: z.optional(z.string()),
      }),
    ),
    recordedAt: isoTime,
  });
}

/** The manifest's schema (strict), built once, on first use. */
export const backupManifestSchema = onFirstUse(buildBackupManifestSchema);

export type BackupManifest = z.infer<ReturnType<typeof buildBackupManifestSchema>>;

/** Parse a manifest's JSON text; a CorruptManifestError names the object when it is malformed. */
export function parseManifest(text: string, source: string): BackupManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new CorruptManifestError(`manifest ${source} is not valid JSON`, source, { cause });
  }
  const result = backupManifestSchema().safeParse(json);
  if (!result.success) {
    throw new CorruptManifestError(
      `manifest ${source} is malformed: ${z.prettifyError(result.error)}`,
      source,
    );
  }
  return result.data;
}
