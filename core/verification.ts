/**
 * The verification record: the durable result of running the Knowledge Base data checks against a
 * restored RDS instance (an on-call restore or a weekly restore test). `verify-restore` writes it
 * to `verificationKey(instanceId)` in the backup bucket; restore-status, the CLI, the weekly
 * restore test and the drill read it. Free of SDK and CDK imports.
 */
import * as z from 'zod/mini';
import './zod-english';
import { onFirstUse } from './on-first-use';

export const VERIFICATION_VERSION = 1;
export const VERIFICATIONS_S3_PREFIX = 'verifications';

/**
 * Built on first use ({@link verificationRecordSchema}): only the invocations that read or write a
 * verification record need it (bench/function-cold-load.ts measures what building schemas at load
 * costs every cold start).
 */
function buildVerificationRecordSchema() {
  const isoTime = z.iso.datetime({ offset: true });
  const nonEmpty = z.string().check(z.minLength(1));
  const count = z.int().check(z.nonnegative());

  const checkSchema = z.strictObject({
    check: nonEmpty,
    status: z.enum(['PASS', 'FAIL', 'SKIP']),
    detail: z.string(),
  });

  return z.strictObject({
    version: z.literal(VERIFICATION_VERSION),
    /** The restored instance that was checked (lower case, as RDS stores it). */
    instanceId: nonEmpty,
    /**
     * PASS / FAIL: the data checks ran (FAIL includes "could not connect").
     * NOT_CONFIGURED: verification is not configured in this deployment; never a pass.
     */
    outcome: z.enum(['PASS', 'FAIL', 'NOT_CONFIGURED']),
    /** What the instance was restored from. */
    source: z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('snapshot'), snapshotId: nonEmpty }),
      z.strictObject({ kind: z.literal('pitr'), sourceInstanceId: nonEmpty, targetTime: isoTime }),
    ]),
    startedAt: isoTime,
    verifiedAt: isoTime,
    /** One line per check, in report order (validate-backup's line format when printed). */
    checks: z.array(checkSchema),
    /** Figures read from the restored database (absent when not read). */
    entries: z.optional(z.strictObject({ knowledge_entries: count, embedding_cache: count })),
    newestCreatedAt: z.optional(z.string()),
    /** The counts the backup recorded (snapshot restore), or the nearest earlier backup's (PITR). */
    recorded: z.optional(
      z.strictObject({ snapshotId: nonEmpty, knowledge_entries: count, embedding_cache: count }),
    ),
    /** One-line summary for restore-status and the CLI, e.g. "verified: 100,000 entries, as recorded at backup". */
    summary: z.string(),
  });
}

/** The verification record's schema (strict), built once, on first use. */
export const verificationRecordSchema = onFirstUse(buildVerificationRecordSchema);

export type VerificationRecord = z.infer<ReturnType<typeof buildVerificationRecordSchema>>;

/** S3 key of the verification record of a restored instance. */
export function verificationKey(instanceId: string): string {
  return `${VERIFICATIONS_S3_PREFIX}/${instanceId.trim().toLowerCase()}.json`;
}
