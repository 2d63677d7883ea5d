/**
 * Every name kb-dr gives to an AWS resource or S3 key, built in one place.
 * Tests call these functions rather than copying the strings.
 */

export const SNAPSHOT_PREFIX = 'kb-snapshot-';
export const EXPORT_TASK_PREFIX = 'kb-export-';
export const EXPORTS_S3_PREFIX = 'exports';
export const MANIFESTS_S3_PREFIX = 'manifests';

/** Tag every resource kb-dr creates carries; retention deletes only snapshots with it. */
export const MANAGED_BY_TAG = { key: 'kb-dr:managed-by', value: 'kb-dr' } as const;
/** Tag recording why a snapshot was taken: `scheduled` or `on-demand`. */
export const TRIGGER_TAG_KEY = 'kb-dr:trigger';
/** Tags the backup pipeline keeps on its snapshots (ISO times), so no state lives in memory. */
export const REQUESTED_AT_TAG_KEY = 'kb-dr:requested-at';
export const SNAPSHOT_AVAILABLE_AT_TAG_KEY = 'kb-dr:snapshot-available-at';
export const EXPORT_STARTED_AT_TAG_KEY = 'kb-dr:export-started-at';
/** Tags a restored instance carries, saying where it came from. */
export const RESTORED_FROM_SNAPSHOT_TAG_KEY = 'kb-dr:restored-from-snapshot';
export const RESTORED_FROM_INSTANCE_TAG_KEY = 'kb-dr:restored-from-instance';
export const RESTORED_TO_TIME_TAG_KEY = 'kb-dr:restored-to-time';
export const RESTORE_STARTED_AT_TAG_KEY = 'kb-dr:restore-started-at';
/** Tag restore-status sets the first time it sees a restored instance available (stops the RTO clock). */
export const RESTORE_AVAILABLE_AT_TAG_KEY = 'kb-dr:restore-available-at';
/** Unique per restore request: tells "the instance my lost request created" from any other. */
export const RESTORE_REQUEST_TAG_KEY = 'kb-dr:restore-request';

const SNAPSHOT_ID_RE = /^kb-snapshot-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})$/;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `YYYYMMDD-HHMMSS` in UTC. */
export function compactUtcTimestamp(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('compactUtcTimestamp: invalid date');
  return (
    `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}-` +
    `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`
  );
}

/** The snapshot id for a backup scheduled (or requested) at `date`: `kb-snapshot-YYYYMMDD-HHMMSS` (UTC). */
export function snapshotIdFor(date: Date): string {
  return `${SNAPSHOT_PREFIX}${compactUtcTimestamp(date)}`;
}

/** True when `id` has the exact kb-dr snapshot name format. */
export function isKbSnapshotId(id: string): boolean {
  return parseSnapshotTime(id) !== undefined;
}

/** The UTC time encoded in a kb-dr snapshot id, or undefined when `id` is not one. */
export function parseSnapshotTime(id: string): Date | undefined {
  const m = SNAPSHOT_ID_RE.exec(id);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Reject ids like kb-snapshot-20261332-250000 that Date.UTC would silently roll over.
  return compactUtcTimestamp(date) === id.slice(SNAPSHOT_PREFIX.length) ? date : undefined;
}

/**
 * The export task id for a snapshot: starts with a letter, only letters, digits and single
 * hyphens, at most 60 characters, as StartExportTask requires. `attempt` > 1 gives a distinct
 * id for a retried export (RDS rejects a reused id with ExportTaskAlreadyExists).
 */
export function exportTaskIdFor(snapshotId: string, attempt = 1): string {
  const time = parseSnapshotTime(snapshotId);
  if (!time) throw new RangeError(`not a kb-dr snapshot id: ${snapshotId}`);
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be >= 1, got ${attempt}`);
  const base = `${EXPORT_TASK_PREFIX}${compactUtcTimestamp(time)}`;
  return attempt === 1 ? base : `${base}-r${attempt}`;
}

/** The snapshot id an export task id was derived from, or undefined when it is not ours. */
export function snapshotIdForExportTask(exportTaskId: string): string | undefined {
  const m = /^kb-export-(\d{8}-\d{6})(?:-r\d+)?$/.exec(exportTaskId);
  if (!m) return undefined;
  const id = `${SNAPSHOT_PREFIX}${m[1]}`;
  return isKbSnapshotId(id) ? id : undefined;
}

/** S3 prefix StartExportTask writes under (RDS appends `/<task-id>/...`). */
export function exportS3Prefix(): string {
  return EXPORTS_S3_PREFIX;
}

/** S3 prefix holding one export task's objects. */
export function exportObjectsPrefix(exportTaskId: string): string {
  return `${EXPORTS_S3_PREFIX}/${exportTaskId}/`;
}

/** The key of an export_tables_info file for `exportTaskId` (batch n..m), as RDS names it. */
export function exportTablesInfoKey(exportTaskId: string, from = 1, to = 1): string {
  return `${exportObjectsPrefix(exportTaskId)}export_tables_info_${exportTaskId}_from_${from}_to_${to}.json`;
}

/** S3 key of a backup's manifest. */
export function manifestKey(snapshotId: string): string {
  return `${MANIFESTS_S3_PREFIX}/${snapshotId}.json`;
}

/**
 * An instance id as RDS stores it: RDS identifiers are case-insensitive and stored lower case
 * (`KB-Prod` becomes `kb-prod`), so every comparison goes through this.
 */
export function normaliseInstanceId(id: string): string {
  return id.trim().toLowerCase();
}

/** True when `a` and `b` name the same RDS instance (case-insensitive, as RDS compares). */
export function sameInstanceId(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && normaliseInstanceId(a) === normaliseInstanceId(b);
}

/** RDS DB instance identifier rules: 1-63 letters, digits, hyphens; starts with a letter; no double or trailing hyphen. */
export function isValidDbInstanceId(id: string): boolean {
  return /^[a-zA-Z](?:[a-zA-Z0-9]|-(?!-)){0,62}$/.test(id) && !id.endsWith('-');
}

/**
 * Tag naming the protected instance (lower case) a resource is, holds the history of, or is a
 * backup of. The stack puts it on the protected instances; restore-pitr's role may restore only
 * from an instance carrying it, which is how IAM tells the source of a point-in-time restore from
 * its target. The backup function puts it on every kb-dr snapshot: the snapshot's own
 * DBInstanceIdentifier is not enough, because after a promotion renames production aside and the
 * restored instance takes the production id, older snapshots name another instance yet are still
 * the protected instance's backups (found, counted and pruned by this tag).
 * Restores (snapshot and PITR) tag the new instance with the protected instance they copy, so a
 * promoted restore carries it, and promote-restore puts an instance only behind the production
 * name its tag names.
 */
export const PROTECTED_INSTANCE_TAG_KEY = 'kb-dr:protected-instance';

/** Prefix of production's aside copies, `<prod>-pre-promote-<UTC time>` (promote-restore). */
export function asideInstancePrefix(productionInstanceId: string): string {
  return `${productionInstanceId.toLowerCase()}-pre-promote-`;
}

/** Weekly restore tests restore to `kb-restore-test-YYYYMMDD-HHMM` (UTC of the scheduled time). */
export const RESTORE_TEST_PREFIX = 'kb-restore-test-';
/** S3 prefix of the restore-test records in the backup bucket. */
export const RESTORE_TESTS_S3_PREFIX = 'restore-tests';
/**
 * Tag the restore-test function puts on its test instances (value `kb-dr`). Its role may delete
 * only instances named `kb-restore-test-*` that carry it (IAM condition `rds:db-tag/...`), and
 * its code checks the same before every deletion.
 */
export const RESTORE_TEST_TAG = { key: 'kb-dr:restore-test', value: 'kb-dr' } as const;
/** Tag saying what a test restored: `snapshot` or `pitr`. */
export const RESTORE_TEST_KIND_TAG_KEY = 'kb-dr:restore-test-kind';

const RESTORE_TEST_ID_RE = /^kb-restore-test-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})$/;

/** The test instance id for a restore test scheduled at `date`: `kb-restore-test-YYYYMMDD-HHMM` (UTC). */
export function restoreTestInstanceIdFor(date: Date): string {
  return `${RESTORE_TEST_PREFIX}${compactUtcTimestamp(date).slice(0, 13)}`;
}

/** The UTC minute encoded in a restore-test instance id, or undefined when `id` is not one. */
export function parseRestoreTestInstanceId(id: string): Date | undefined {
  const m = RESTORE_TEST_ID_RE.exec(id);
  if (!m) return undefined;
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, 0));
  return restoreTestInstanceIdFor(date) === id ? date : undefined;
}

/** True when `id` has the exact restore-test instance name format (lower case, as RDS stores it). */
export function isRestoreTestInstanceId(id: string): boolean {
  return parseRestoreTestInstanceId(id) !== undefined;
}

/** S3 key of a restore test's record: `restore-tests/kb-restore-test-YYYYMMDD-HHMM.json` (keys sort by time). */
export function restoreTestRecordKey(instanceId: string): string {
  if (!isRestoreTestInstanceId(instanceId))
    throw new RangeError(`not a restore-test instance id: ${instanceId}`);
  return `${RESTORE_TESTS_S3_PREFIX}/${instanceId}.json`;
}
