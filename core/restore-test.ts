/**
 * The restore-test record: the durable result of one weekly restore test, stored as JSON at
 * `restoreTestRecordKey(instanceId)` in the backup bucket, written once (S3 conditional write) by
 * the restore-test function and read by the CLI (`kb-dr restore-tests`), the drill and the
 * function itself (the age of the last successful test). Parsed strictly: a record that is not
 * valid JSON or not this schema is reported as corrupt, never read as a pass.
 */
import * as z from 'zod/mini';
import './zod-english';
import { KbDrError, type KbDrErrorOptions } from './errors';
import { onFirstUse } from './on-first-use';

export const RESTORE_TEST_RECORD_VERSION = 1 as const;

/** Why a test failed, in one word the alarm description and the CLI can show. */
export const RESTORE_TEST_FAILURES = [
  /** The verification record says FAIL (or NOT_CONFIGURED, which is never a pass). */
  'verification-failed',
  /** The verification record exists but is not valid JSON or not the schema. */
  'verification-corrupt',
  /** The instance was not available, or not verified, within the stuck limit. */
  'stuck',
  /** The restore ended in a state it cannot leave (failed, incompatible-restore, ...). */
  'restore-failed',
  /** The test instance disappeared before its outcome was known. */
  'instance-gone',
] as const;

/**
 * Built on first use ({@link restoreTestRecordSchema}): only the invocations that parse or write a
 * record need it (not a refused event, nor one whose test has no record yet: a 404 parses nothing),
 * and building it at load cost every restore-test cold start about 2-3 ms of CPU
 * (bench/function-cold-load.ts).
 */
function buildRestoreTestRecordSchema() {
  const isoTime = z.iso.datetime({ offset: true });
  const count = z.int().check(z.nonnegative());
  const nonNegative = z.number().check(z.nonnegative());
  const nonEmpty = z.string().check(z.minLength(1));

  return z.strictObject({
    version: z.literal(RESTORE_TEST_RECORD_VERSION),
    /** The test instance, `kb-restore-test-YYYYMMDD-HHMM`. */
    instanceId: nonEmpty,
    /** The protected instance whose backup was restored. */
    protectedInstanceId: nonEmpty,
    kind: z.enum(['snapshot', 'pitr']),
    /** The backup restored: the snapshot id (snapshot test) or the restore time (PITR test). */
    backup: z.strictObject({
      snapshotId: z.optional(nonEmpty),
      targetTime: z.optional(isoTime),
    }),
    outcome: z.enum(['PASS', 'FAIL']),
    failure: z.optional(z.strictObject({ reason: z.enum(RESTORE_TEST_FAILURES), detail: z.string() })),
    requestedAt: isoTime,
    availableAt: z.optional(isoTime),
    verifiedAt: z.optional(isoTime),
    /** Seconds from the restore request to the instance available. */
    secondsToAvailable: z.optional(nonNegative),
    /** Seconds from the restore request to the verification done: the RTO of this database at its size. */
    secondsToVerified: z.optional(nonNegative),
    /** Entries read from the restored database, and the backup's recorded counts. */
    entries: z.optional(
      z.strictObject({
        restored: z.optional(z.strictObject({ knowledge_entries: count, embedding_cache: count })),
        backup: z.optional(z.strictObject({ knowledge_entries: count, embedding_cache: count })),
      }),
    ),
    /** The verification record's one-line summary, verbatim. */
    verificationSummary: z.optional(z.string()),
    instanceClass: z.optional(z.string()),
    recordedAt: isoTime,
  });
}

/** The restore-test record's schema (strict), built once, on first use. */
export const restoreTestRecordSchema = onFirstUse(buildRestoreTestRecordSchema);

export type RestoreTestRecord = z.infer<ReturnType<typeof buildRestoreTestRecordSchema>>;

/** A stored restore-test record that is not valid JSON or not the schema. */
export class CorruptRestoreTestRecordError extends KbDrError {
  override readonly name = 'CorruptRestoreTestRecordError';
  constructor(
    message: string,
    /** `s3://bucket/key` of the corrupt object. */
    readonly source: string,
    options: KbDrErrorOptions = {},
  ) {
    super(message, {
      hint: `inspect it (aws s3 cp ${source} -) and restore a previous version from the versioned bucket; the other records are still listed`,
      ...options,
    });
  }
}

/** Parse a record's JSON text strictly; a CorruptRestoreTestRecordError names the object. */
export function parseRestoreTestRecord(text: string, source: string): RestoreTestRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new CorruptRestoreTestRecordError(`restore-test record ${source} is not valid JSON`, source, {
      cause,
    });
  }
  const result = restoreTestRecordSchema().safeParse(json);
  if (!result.success) {
    throw new CorruptRestoreTestRecordError(
      `restore-test record ${source} is malformed: ${z.prettifyError(result.error)}`,
      source,
    );
  }
  return result.data;
}

/** The RTO target a test's secondsToVerified is measured against: 4 hours. */
export const RESTORE_TEST_RTO_TARGET_SECONDS = 4 * 3600;
