/**
 * validate-backup: a PASS/FAIL report on one kb-dr backup, one line per check. Runs on demand
 * and weekly on `latest` (EventBridge schedule); emits BackupValidation 1 (pass) or 0 (fail).
 * A check that cannot run because an earlier one failed is reported SKIP; SKIP never passes a
 * backup on its own (the earlier FAIL already fails it).
 */
import { DescribeExportTasksCommand, type DBSnapshot, type RDSClient } from '@aws-sdk/client-rds';
import { GetObjectCommand, HeadObjectCommand, type S3Client, type _Object } from '@aws-sdk/client-s3';
import { ValidationError, awsErrorCode, isNotFound } from '../../core/errors';
import { translateAwsError } from '../shared/aws-errors';
import { classifyFault } from '../shared/fault-class';
import { isAsideOf, sameInstanceId, truncateForEcho } from '../shared/guards';
import type { BackupManifest } from '../../core/manifest';
import { getManifest, latestSuccessfulManifest, listManifests } from '../shared/manifest-store';
import { KbMetrics } from '../../core/metrics-catalog';
import {
  MANAGED_BY_TAG,
  exportObjectsPrefix,
  exportTaskIdFor,
  isKbSnapshotId,
  manifestKey,
} from '../../core/naming';
import {
  LATEST,
  LIST_SNAPSHOTS_HINT,
  manifestReadError,
  snapshotProvenance,
  snapshotTags,
  type MetricSink,
} from '../shared/restore-common';
import { isManagedByKbDr } from '../shared/tags';
import { describeSnapshotIfExists } from '../shared/rds-snapshots';
import { listObjects } from '../shared/s3-objects';
import { exportStatusOf } from '../shared/moto-quirks';
import { type ValidateBackupEvent, type CheckResult, type ValidateBackupResult } from './contract';
import { checkExportData, EXPORT_DATA_CHECKS } from './export-data-checks';

/** The event schema, example and answer type live in contract.ts (imported by the CLI and the drill). */
export * from './contract';

/** The check names, in report order. */
export const CHECKS = {
  available: 'snapshot exists and is available',
  kbBackup: 'snapshot is a kb-dr backup (name and tag)',
  encrypted: 'snapshot is encrypted',
  fromProtected: 'snapshot is from the protected instance',
  manifest: 'manifest present and consistent',
  exportCompleted: 'export completed',
  objects: 'exported objects present and encrypted with our key',
  tables: 'export covers knowledge_entries and embedding_cache',
  size: 'size not suspiciously small against recent backups',
  ...EXPORT_DATA_CHECKS,
} as const;

/** The Knowledge Base tables every export must contain, not skipped. */
export const REQUIRED_TABLES = ['knowledge_entries', 'embedding_cache'] as const;

/**
 * What RDS writes beside the exported Parquet files, at the top of `<S3Prefix>/<task-id>/`:
 * `export_info_<task-id>.json` (the task's summary) and one or more
 * `export_tables_info_<task-id>_from_<n>_to_<m>.json` (tables numbered n..m), each
 *
 *   { "perTableStatus": [ { "target": "<database>.<schema>.<table>", "status": "COMPLETE",
 *       "warningMessage": "...", "sizeGB": 0.1, "tableStatistics": {...},
 *       "schemaMetadata": {...} }, ... ] }
 *
 * (RDS user guide "Exporting DB snapshot data to Amazon S3", and tools that read these files).
 * A table the export could not read, or whose columns it could not map, is skipped: it is
 * missing from the list, or listed with a status other than COMPLETE and a warningMessage.
 */
export interface ExportTablesInfo {
  readonly perTableStatus?: readonly {
    readonly target?: string;
    readonly status?: string;
    readonly warningMessage?: string;
  }[];
}

const TABLES_INFO_RE = /\/export_tables_info_[^/]*\.json$/;
/** At most this many export_tables_info files are read. */
export const MAX_TABLES_INFO_FILES = 50;

/** How many earlier backups the size check compares against, and the minimum it needs. */
export const SIZE_HISTORY = { compareWith: 7, minimum: 3, minFractionOfMedian: 0.5 } as const;
/** At most this many exported objects are inspected with HeadObject (all are counted). */
export const MAX_OBJECTS_INSPECTED = 200;

export interface ValidateBackupConfig {
  readonly dbInstanceId: string;
  readonly backupBucket: string;
  readonly kmsKeyArn: string;
}

export interface ValidateBackupDeps {
  readonly rds: RDSClient;
  readonly s3: S3Client;
  readonly config: ValidateBackupConfig;
  readonly metrics: MetricSink;
}

/** True when an S3 SSEKMSKeyId names the same key as `expected` (ARN or key id). */
export function sameKmsKey(actual: string | undefined, expected: string): boolean {
  if (!actual) return false;
  const id = (k: string) => (/key\/([^/]+)$/.exec(k)?.[1] ?? k).toLowerCase();
  return actual === expected || id(actual) === id(expected);
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

const pass = (check: string, detail: string): CheckResult => ({ check, status: 'PASS', detail });
const fail = (check: string, detail: string): CheckResult => ({ check, status: 'FAIL', detail });
const skip = (check: string, detail: string): CheckResult => ({ check, status: 'SKIP', detail });

function checkManifest(
  manifest: BackupManifest | undefined,
  snapshot: DBSnapshot | undefined,
  id: string,
  bucket: string,
  readError?: string,
): CheckResult {
  if (readError) return fail(CHECKS.manifest, readError);
  if (!manifest)
    return fail(
      CHECKS.manifest,
      `no manifest at s3://${bucket}/${manifestKey(id)} (S3 answered not found: it does not exist): the backup run never recorded it`,
    );
  const problems: string[] = [];
  if (manifest.status !== 'SUCCEEDED') problems.push(`status is ${manifest.status}`);
  if (manifest.snapshotId !== id) problems.push(`names snapshot ${manifest.snapshotId}`);
  if (
    snapshot?.DBInstanceIdentifier &&
    !sameInstanceId(manifest.dbInstanceId, snapshot.DBInstanceIdentifier) &&
    !isAsideOf(snapshot.DBInstanceIdentifier, manifest.dbInstanceId)
  )
    problems.push(
      `says instance ${manifest.dbInstanceId} but the snapshot is of ${snapshot.DBInstanceIdentifier}`,
    );
  if (!manifest.exportTaskId) problems.push('records no export task');
  return problems.length > 0
    ? fail(CHECKS.manifest, `manifest ${problems.join('; ')}`)
    : pass(CHECKS.manifest, `SUCCEEDED, recorded ${manifest.recordedAt}, export ${manifest.exportTaskId}`);
}

async function checkExportTask(rds: RDSClient, taskId: string): Promise<CheckResult> {
  try {
    const res = await rds.send(new DescribeExportTasksCommand({ ExportTaskIdentifier: taskId }));
    const task = res.ExportTasks?.[0];
    if (!task) return fail(CHECKS.exportCompleted, `export task ${taskId} not found`);
    const status = exportStatusOf(task);
    return status === 'COMPLETE'
      ? pass(CHECKS.exportCompleted, `export task ${taskId} is COMPLETE`)
      : fail(
          CHECKS.exportCompleted,
          `export task ${taskId} is ${status}${task.FailureCause ? `: ${task.FailureCause}` : ''}`,
        );
  } catch (err) {
    if (isNotFound(err)) return fail(CHECKS.exportCompleted, `export task ${taskId} not found`);
    throw translateAwsError(err, { operation: `describe export task ${taskId}` });
  }
}

async function listAll(s3: S3Client, bucket: string, prefix: string): Promise<_Object[]> {
  try {
    return await listObjects(s3, bucket, prefix);
  } catch (err) {
    throw translateAwsError(err, { operation: `list s3://${bucket}/${prefix}` });
  }
}

async function checkObjects(
  s3: S3Client,
  bucket: string,
  taskId: string,
  kmsKeyArn: string,
  manifest: BackupManifest | undefined,
  objects: readonly _Object[],
): Promise<CheckResult> {
  const prefix = exportObjectsPrefix(taskId);
  if (objects.length === 0) return fail(CHECKS.objects, `no objects under s3://${bucket}/${prefix}`);
  const totalBytes = objects.reduce((sum, o) => sum + (o.Size ?? 0), 0);
  const inspected = objects.slice(0, MAX_OBJECTS_INSPECTED);
  const badKeys: string[] = [];
  for (let i = 0; i < inspected.length; i += 10) {
    const heads = await Promise.all(
      inspected.slice(i, i + 10).map(async (o) => {
        try {
          const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: o.Key }));
          return {
            key: o.Key ?? '',
            ok: h.ServerSideEncryption === 'aws:kms' && sameKmsKey(h.SSEKMSKeyId, kmsKeyArn),
          };
        } catch (err) {
          throw translateAwsError(err, { operation: `head s3://${bucket}/${o.Key}` });
        }
      }),
    );
    badKeys.push(...heads.filter((h) => !h.ok).map((h) => h.key));
  }
  if (badKeys.length > 0)
    return fail(
      CHECKS.objects,
      `${badKeys.length} object(s) not SSE-KMS with key ${kmsKeyArn}, e.g. ${badKeys[0]}`,
    );
  const recorded = manifest?.exportSizeBytes;
  if (recorded !== undefined && totalBytes < recorded)
    return fail(
      CHECKS.objects,
      `objects under s3://${bucket}/${prefix} total ${totalBytes} bytes but the manifest recorded ${recorded}: objects are missing`,
    );
  const sampled =
    inspected.length < objects.length ? ` (encryption inspected on the first ${inspected.length})` : '';
  return pass(
    CHECKS.objects,
    `${objects.length} object(s), ${totalBytes} bytes, SSE-KMS with our key${sampled}`,
  );
}

/** Read the export's own export_tables_info files and require both Knowledge Base tables. */
async function checkTables(
  s3: S3Client,
  bucket: string,
  taskId: string,
  objects: readonly _Object[],
): Promise<CheckResult> {
  const prefix = exportObjectsPrefix(taskId);
  const infoKeys = objects
    .map((o) => o.Key ?? '')
    .filter((k) => k.startsWith(prefix) && TABLES_INFO_RE.test(k))
    .slice(0, MAX_TABLES_INFO_FILES);
  if (infoKeys.length === 0)
    return fail(
      CHECKS.tables,
      `no export_tables_info_*.json under s3://${bucket}/${prefix}: RDS writes it when the export completes, so which tables were exported (or skipped) cannot be confirmed`,
    );
  const entries: NonNullable<ExportTablesInfo['perTableStatus']>[number][] = [];
  for (const key of infoKeys) {
    let text: string;
    try {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      text = (await res.Body?.transformToString()) ?? '';
    } catch (err) {
      const denied = classifyFault(err) === 'denied';
      return fail(
        CHECKS.tables,
        denied
          ? `reading s3://${bucket}/${key} was DENIED (${awsErrorCode(err)}): check s3:GetObject on arn:aws:s3:::${bucket}/${prefix}* for this function's role and kms:Decrypt on the backup key`
          : `reading s3://${bucket}/${key} failed: ${awsErrorCode(err)}: ${(err as Error).message}`,
      );
    }
    try {
      const info = JSON.parse(text) as ExportTablesInfo;
      if (!Array.isArray(info.perTableStatus)) throw new Error('it has no perTableStatus list');
      entries.push(...info.perTableStatus);
    } catch (err) {
      return fail(CHECKS.tables, `s3://${bucket}/${key} is unreadable: ${(err as Error).message}`);
    }
  }
  const problems: string[] = [];
  const found: string[] = [];
  for (const table of REQUIRED_TABLES) {
    const mine = entries.filter((e) => (e.target ?? '').split('.').pop() === table);
    if (mine.length === 0) {
      problems.push(
        `${table} is not in the export (not listed in ${infoKeys.length} export_tables_info file(s))`,
      );
      continue;
    }
    const bad = mine.find(
      (e) => (e.status ?? '').toUpperCase() !== 'COMPLETE' || /skip/i.test(e.warningMessage ?? ''),
    );
    if (bad)
      problems.push(
        `${bad.target} was skipped (status ${bad.status ?? 'missing'}${bad.warningMessage ? `: ${bad.warningMessage}` : ''})`,
      );
    else found.push(mine.map((e) => e.target).join(', '));
  }
  return problems.length > 0
    ? fail(CHECKS.tables, `${problems.join('; ')}: this export is not a usable copy of the Knowledge Base`)
    : pass(CHECKS.tables, `${found.join(' and ')} exported COMPLETE`);
}

async function checkSize(
  deps: ValidateBackupDeps,
  manifest: BackupManifest | undefined,
  snapshotId: string,
): Promise<CheckResult> {
  const size = manifest?.exportSizeBytes;
  if (size === undefined) return fail(CHECKS.size, 'the manifest records no exportSizeBytes');
  const history = (await listManifests({ s3: deps.s3, bucket: deps.config.backupBucket }))
    .filter(
      (m) =>
        m.status === 'SUCCEEDED' &&
        m.snapshotId < snapshotId &&
        sameInstanceId(m.dbInstanceId, manifest?.dbInstanceId ?? deps.config.dbInstanceId) &&
        m.exportSizeBytes !== undefined,
    )
    .slice(0, SIZE_HISTORY.compareWith)
    .map((m) => m.exportSizeBytes ?? 0);
  if (history.length < SIZE_HISTORY.minimum)
    return skip(
      CHECKS.size,
      `${size} bytes; only ${history.length} earlier successful backup(s), need ${SIZE_HISTORY.minimum} to compare`,
    );
  const med = median(history);
  const floor = med * SIZE_HISTORY.minFractionOfMedian;
  return size < floor
    ? fail(
        CHECKS.size,
        `${size} bytes is under half the median (${med} bytes) of the last ${history.length} backups`,
      )
    : pass(CHECKS.size, `${size} bytes; median of the last ${history.length} backups ${med} bytes`);
}

/** Validate one backup (`latest` or a kb-dr snapshot id) and return the report. */
export async function validateBackup(
  deps: ValidateBackupDeps,
  input: ValidateBackupEvent,
): Promise<ValidateBackupResult> {
  const { rds, s3, config } = deps;
  const isLatest = input.snapshotId.toLowerCase() === LATEST;
  if (!isLatest && !isKbSnapshotId(input.snapshotId)) {
    throw new ValidationError(
      `snapshotId "${truncateForEcho(input.snapshotId)}" is not a kb-dr backup name, e.g. "snapshotId": "kb-snapshot-20261122-020000" or "snapshotId": "latest"`,
      'snapshotId',
      { hint: LIST_SNAPSHOTS_HINT },
    );
  }
  const loc = { s3, bucket: config.backupBucket };
  const checks: CheckResult[] = [];
  let manifest: BackupManifest | undefined;
  let manifestError: string | undefined;
  let snapshotId = input.snapshotId;
  if (isLatest) {
    try {
      // A corrupt manifest is skipped (the newest intact one is validated) and counted.
      let corrupt = 0;
      manifest = await latestSuccessfulManifest(loc, config.dbInstanceId, () => (corrupt += 1));
      if (corrupt > 0) deps.metrics.add(KbMetrics.CorruptManifests, corrupt);
    } catch (err) {
      throw manifestReadError(err, config.backupBucket, undefined, 'validate "latest"');
    }
    if (!manifest) {
      checks.push(
        fail(
          CHECKS.available,
          `no successful backup of ${config.dbInstanceId} is recorded (no SUCCEEDED manifest)`,
        ),
      );
      for (const name of Object.values(CHECKS).slice(1)) checks.push(skip(name, 'no backup to check'));
      return finish(deps, 'latest', checks);
    }
    snapshotId = manifest.snapshotId;
  } else {
    try {
      manifest = await getManifest(loc, snapshotId);
    } catch (err) {
      const e = manifestReadError(err, config.backupBucket, manifestKey(snapshotId), 'read the manifest');
      manifestError =
        e.name === 'AccessDeniedError'
          ? `${e.message}; ${e.hint ?? ''}`
          : `manifest unreadable: ${e.message}`;
    }
  }

  const snapshot = await describeSnapshotIfExists(rds, snapshotId);
  if (!snapshot) checks.push(fail(CHECKS.available, `snapshot ${snapshotId} not found in RDS`));
  else if (snapshot.Status !== 'available')
    checks.push(fail(CHECKS.available, `snapshot is ${snapshot.Status}`));
  else
    checks.push(
      pass(
        CHECKS.available,
        `created ${snapshot.SnapshotCreateTime ? new Date(snapshot.SnapshotCreateTime).toISOString() : 'at an unknown time'}`,
      ),
    );

  if (snapshot) {
    const tags = await snapshotTags(rds, snapshot);
    checks.push(
      isManagedByKbDr(tags)
        ? pass(CHECKS.kbBackup, `named kb-snapshot-*, tagged ${MANAGED_BY_TAG.key}=${MANAGED_BY_TAG.value}`)
        : fail(CHECKS.kbBackup, `lacks the tag ${MANAGED_BY_TAG.key}=${MANAGED_BY_TAG.value}`),
    );
    checks.push(
      snapshot.Encrypted === true
        ? pass(CHECKS.encrypted, `KMS key ${snapshot.KmsKeyId ?? 'unknown'}`)
        : fail(CHECKS.encrypted, 'the snapshot is NOT encrypted'),
    );
    const provenance = snapshotProvenance(snapshot, tags, config.dbInstanceId);
    checks.push(
      provenance.ok
        ? pass(
            CHECKS.fromProtected,
            `from ${snapshot.DBInstanceIdentifier ?? config.dbInstanceId}, a backup of ${config.dbInstanceId}`,
          )
        : fail(CHECKS.fromProtected, `not a backup of ${config.dbInstanceId}: ${provenance.reason}`),
    );
  } else {
    for (const name of [CHECKS.kbBackup, CHECKS.encrypted, CHECKS.fromProtected])
      checks.push(skip(name, 'no snapshot'));
  }

  checks.push(checkManifest(manifest, snapshot, snapshotId, config.backupBucket, manifestError));
  const taskId = manifest?.exportTaskId ?? exportTaskIdFor(snapshotId);
  checks.push(await checkExportTask(rds, taskId));
  const bucket = manifest?.exportLocation?.bucket ?? config.backupBucket;
  const objects = await listAll(s3, bucket, exportObjectsPrefix(taskId));
  checks.push(await checkObjects(s3, bucket, taskId, config.kmsKeyArn, manifest, objects));
  checks.push(await checkTables(s3, bucket, taskId, objects));
  checks.push(await checkSize(deps, manifest, snapshotId));
  const exported = objects.map((o) => ({ key: o.Key ?? '', size: o.Size ?? 0 }));
  checks.push(...(await checkExportData(s3, bucket, taskId, manifest, exported)));
  return finish(deps, snapshotId, checks);
}

function finish(deps: ValidateBackupDeps, snapshotId: string, checks: CheckResult[]): ValidateBackupResult {
  const report = checks.map((c) => `${c.status} ${c.check}: ${c.detail}`);
  const failed = checks.filter((c) => c.status === 'FAIL');
  deps.metrics.add(KbMetrics.BackupValidation, failed.length === 0 ? 1 : 0);
  if (failed.length === 0) return { ok: true, result: 'PASS', snapshotId, checks, report };
  const first = failed[0] as CheckResult;
  return {
    ok: false,
    result: 'FAIL',
    snapshotId,
    checks,
    report,
    error: `backup ${snapshotId} failed ${failed.length} of ${checks.length} checks, first: ${first.check}: ${first.detail}`,
    hint: 'read the FAIL lines in "report"; restore from an older backup that passes (validate it first), and check the backup function logs for that night',
    errorType: 'BackupValidationFailed',
    retryable: false,
  };
}
