/**
 * Move one kb-dr snapshot one step on, from what RDS and the bucket say now (never from memory
 * or from which event arrived): snapshot available → start its export; export ended → record
 * the outcome. The same function serves RDS events and the periodic pass, so a duplicated,
 * out-of-order or lost event changes nothing but how soon the step happens.
 */
import {
  AddTagsToResourceCommand,
  DescribeExportTasksCommand,
  StartExportTaskCommand,
  type DBSnapshot,
  type ExportTask,
} from '@aws-sdk/client-rds';
import {
  DEFAULT_EXPORT_START_DEADLINE_HOURS,
  describeFailure,
  type BackupFailure,
  type BackupStage,
  type PipelineConfig,
  type PipelineDeps,
} from '../shared/backup-pipeline';
import { tagTime } from '../shared/tags';
import { awsErrorCode, isAlreadyExists } from '../../core/errors';
import { isAmbiguousOutcome } from '../shared/fault-class';
import type { BackupManifest } from '../../core/manifest';
import { manifestExists, type OnCorruptManifest } from '../shared/manifest-store';
import { KbMetrics } from '../../core/metrics-catalog';
import {
  EXPORT_STARTED_AT_TAG_KEY,
  exportObjectsPrefix,
  exportS3Prefix,
  exportTaskIdFor,
  SNAPSHOT_AVAILABLE_AT_TAG_KEY,
  snapshotIdForExportTask,
} from '../../core/naming';
import { listExportTasksOf } from '../shared/rds-export-tasks';
import { listObjects } from '../shared/s3-objects';
import { normaliseExportStatus } from '../shared/moto-quirks';
import {
  failedManifest,
  failureOf,
  manifestBaseOf,
  recordOutcome,
  requestedAtOf,
  secondsBetween,
  type RecordResult,
} from '../shared/record-outcome';
import { emitEntryCountMetrics, rowCountFields } from './export-row-counts';

export type AdvanceResult =
  /**
   * `already-recorded`: a manifest exists already (recorded by an earlier invocation or a
   * concurrent one); `recorded`: this invocation recorded the outcome (the first writer).
   */
  | RecordResult
  /** Nothing to do yet: snapshot still creating or export still running. */
  | { readonly kind: 'waiting'; readonly snapshotId: string; readonly reason: string }
  | { readonly kind: 'export-started'; readonly snapshotId: string; readonly exportTaskId: string }
  /**
   * A step failed. `recorded`: this invocation wrote the FAILED manifest (final); otherwise
   * nothing was recorded and the next pass tries again until the deadline.
   */
  | {
      readonly kind: 'failed';
      readonly snapshotId: string;
      readonly failure: BackupFailure;
      readonly recorded: boolean;
    };

/** Hints from the event that triggered the step (its time is a better estimate than "now"). */
export interface AdvanceHints {
  /** When RDS says the event happened (`detail.Date`). */
  readonly observedAt?: Date;
  /** Told about a corrupt manifest found on the way (it counts as recorded: never overwritten). */
  readonly onCorrupt?: OnCorruptManifest;
}

/**
 * Tables whose absence from the export makes the backup FAILED: the Knowledge Base itself.
 * Other skipped tables are recorded as a warning only.
 */
export const REQUIRED_EXPORT_TABLES = ['knowledge_entries', 'embedding_cache'] as const;

/**
 * The tables an export's WarningMessage says were skipped. RDS documents the field only as "a
 * warning about the export task", naming `skippedTables`; the text is read tolerantly: a JSON
 * object with `skippedTables`, or `skippedTables` followed by a list.
 */
export function skippedTablesOf(warning: string | undefined): string[] {
  if (!warning) return [];
  try {
    const json = JSON.parse(warning) as { skippedTables?: unknown };
    if (Array.isArray(json.skippedTables)) return json.skippedTables.map(String);
  } catch {
    // not JSON: read the text
  }
  const m = /skipped\s*tables?\W*[:=]?\s*\[?([^\]\n]*)\]?/i.exec(warning);
  if (!m?.[1]) return [];
  return m[1]
    .split(/[,\s]+/)
    .map((t) => t.replace(/^["'`]+|["'`.;]+$/g, ''))
    .filter((t) => /^[\w$."-]+$/.test(t));
}

/** The required tables an export skipped, matching `public.knowledge_entries` or `knowledge_entries`. */
export function requiredTablesSkipped(warning: string | undefined, skipped: readonly string[]): string[] {
  const bare = (t: string): string => (t.split('.').at(-1) ?? t).replace(/"/g, '').toLowerCase();
  const named = new Set(skipped.map(bare));
  // A warning that names a required table outside a parsable list still counts: never guess "fine".
  const text = (warning ?? '').toLowerCase();
  return REQUIRED_EXPORT_TABLES.filter(
    (t) => named.has(t) || (skipped.length === 0 && new RegExp(`\\b${t}\\b`).test(text)),
  );
}

const RUNNING_EXPORT = new Set(['STARTING', 'IN_PROGRESS', 'CANCELING']);

/** The snapshot's export tasks started by kb-dr, newest attempt last. */
export async function findExportTasks(deps: PipelineDeps, snapshot: DBSnapshot): Promise<ExportTask[]> {
  const snapshotId = snapshot.DBSnapshotIdentifier ?? '';
  const tasks = await listExportTasksOf(deps.rds, snapshot.DBSnapshotArn);
  const attempt = (id: string): number => Number(/-r(\d+)$/.exec(id)?.[1] ?? 1);
  return tasks
    .filter((t) => snapshotIdForExportTask(t.ExportTaskIdentifier ?? '') === snapshotId)
    .sort((a, b) => attempt(a.ExportTaskIdentifier ?? '') - attempt(b.ExportTaskIdentifier ?? ''));
}

/** True when an export of the snapshot is still running (retention must keep it). */
export function hasRunningExport(tasks: readonly ExportTask[]): boolean {
  return tasks.some((t) => RUNNING_EXPORT.has(normaliseExportStatus(t.Status)));
}

async function exportedBytes(
  deps: PipelineDeps,
  config: PipelineConfig,
  task: ExportTask,
): Promise<number | undefined> {
  const prefix = exportObjectsPrefix(task.ExportTaskIdentifier ?? '');
  let total = 0;
  try {
    for (const o of await listObjects(deps.s3, config.backupBucket, prefix)) total += o.Size ?? 0;
  } catch (err) {
    deps.logger.warn(`could not size export ${prefix}; using the task's own figure`, {
      awsError: awsErrorCode(err),
    });
    total = 0;
  }
  if (total > 0) return total;
  return task.TotalExtractedDataInGB !== undefined ? task.TotalExtractedDataInGB * 1024 ** 3 : undefined;
}

async function recordFailure(
  deps: PipelineDeps,
  config: PipelineConfig,
  snapshot: DBSnapshot,
  failure: BackupFailure,
  extra: Partial<BackupManifest> = {},
): Promise<AdvanceResult> {
  const result = await recordOutcome(
    deps,
    config,
    failedManifest({ ...manifestBaseOf(deps, config, snapshot), ...extra }, failure),
  );
  return result.kind === 'recorded'
    ? { kind: 'failed', snapshotId: result.snapshotId, failure, recorded: true }
    : result;
}

/** Whether RDS has the export task `exportTaskId` (undefined answers count as "no"). */
async function exportTaskExists(deps: PipelineDeps, exportTaskId: string): Promise<boolean> {
  try {
    const res = await deps.rds.send(new DescribeExportTasksCommand({ ExportTaskIdentifier: exportTaskId }));
    return (res.ExportTasks ?? []).some((t) => t.ExportTaskIdentifier === exportTaskId);
  } catch {
    return false;
  }
}

async function startExport(
  deps: PipelineDeps,
  config: PipelineConfig,
  snapshot: DBSnapshot,
  attempt: number,
  hints: AdvanceHints,
): Promise<AdvanceResult> {
  const snapshotId = snapshot.DBSnapshotIdentifier ?? '';
  const exportTaskId = exportTaskIdFor(snapshotId, attempt);
  const now = deps.now();
  const availableAt = tagTime(snapshot.TagList, SNAPSHOT_AVAILABLE_AT_TAG_KEY) ?? hints.observedAt ?? now;
  try {
    await deps.rds.send(
      new StartExportTaskCommand({
        ExportTaskIdentifier: exportTaskId,
        SourceArn: snapshot.DBSnapshotArn,
        S3BucketName: config.backupBucket,
        S3Prefix: exportS3Prefix(),
        IamRoleArn: config.exportRoleArn,
        KmsKeyId: config.kmsKeyArn,
      }),
    );
  } catch (err) {
    if (isAlreadyExists(err)) {
      deps.logger.info(`export ${exportTaskId} was started by a concurrent invocation`);
      return { kind: 'waiting', snapshotId, reason: 'export-running' };
    }
    // The answer was lost (timeout, 5xx, dropped connection): RDS may have started it. Ask.
    if (!(isAmbiguousOutcome(err) && (await exportTaskExists(deps, exportTaskId)))) {
      return {
        kind: 'failed',
        snapshotId,
        failure: describeFailure('export-start', err, `start export ${exportTaskId}`),
        recorded: false,
      };
    }
    deps.logger.warn(
      `StartExportTask's answer was lost (${awsErrorCode(err)}) but RDS has export ${exportTaskId}; continuing with it`,
    );
  }
  // Durable timing for the manifest; losing it only loses precision, never the backup.
  try {
    await deps.rds.send(
      new AddTagsToResourceCommand({
        ResourceName: snapshot.DBSnapshotArn,
        Tags: [
          { Key: SNAPSHOT_AVAILABLE_AT_TAG_KEY, Value: availableAt.toISOString() },
          { Key: EXPORT_STARTED_AT_TAG_KEY, Value: now.toISOString() },
        ],
      }),
    );
  } catch (err) {
    deps.logger.warn(`could not tag ${snapshotId} with its timings`, { awsError: awsErrorCode(err) });
  }
  const backupDuration = secondsBetween(requestedAtOf(snapshot), availableAt);
  if (backupDuration !== undefined) deps.metrics.add(KbMetrics.BackupDuration, backupDuration);
  deps.logger.info(`snapshot ${snapshotId} is available; started export ${exportTaskId}`, {
    exportTaskId,
    backupDurationSeconds: backupDuration,
    destination: `s3://${config.backupBucket}/${exportObjectsPrefix(exportTaskId)}`,
  });
  return { kind: 'export-started', snapshotId, exportTaskId };
}

async function finishExport(
  deps: PipelineDeps,
  config: PipelineConfig,
  snapshot: DBSnapshot,
  task: ExportTask,
  hints: AdvanceHints,
): Promise<AdvanceResult> {
  const snapshotId = snapshot.DBSnapshotIdentifier ?? '';
  const exportTaskId = task.ExportTaskIdentifier ?? '';
  const status = normaliseExportStatus(task.Status);
  const startedAt = task.TaskStartTime ?? tagTime(snapshot.TagList, EXPORT_STARTED_AT_TAG_KEY);
  const endedAt = task.TaskEndTime ?? hints.observedAt ?? deps.now();
  const exportDurationSeconds = secondsBetween(startedAt, endedAt);
  const common: Partial<BackupManifest> = {
    exportTaskId,
    exportLocation: { bucket: config.backupBucket, prefix: exportObjectsPrefix(exportTaskId) },
    ...(startedAt ? { exportStartedAt: startedAt.toISOString() } : {}),
    exportCompletedAt: endedAt.toISOString(),
    ...(exportDurationSeconds !== undefined ? { exportDurationSeconds } : {}),
  };
  if (status === 'COMPLETE') {
    const warning = task.WarningMessage?.trim() || undefined;
    const skippedTables = skippedTablesOf(warning);
    const withWarning: Partial<BackupManifest> = {
      ...common,
      ...(warning ? { exportWarning: warning } : {}),
      ...(skippedTables.length > 0 ? { skippedTables } : {}),
    };
    const missing = requiredTablesSkipped(warning, skippedTables);
    if (missing.length > 0) {
      return recordFailure(
        deps,
        config,
        snapshot,
        failureOf(
          'export',
          'ExportSkippedTables',
          `export ${exportTaskId} of ${snapshotId} completed but skipped ${missing.join(' and ')}: the archive does not hold the Knowledge Base (${warning})`,
          'the snapshot itself is intact and restorable; check that the export can read those tables (permissions, column names RDS cannot map to Parquet), then invoke the backup function with {"reason": "..."}',
        ),
        withWarning,
      );
    }
    if (warning) {
      deps.logger.warn(`export ${exportTaskId} of ${snapshotId} completed with a warning`, {
        exportWarning: warning,
        skippedTables,
      });
    }
    const size = await exportedBytes(deps, config, task);
    const recorded = await recordOutcome(deps, config, {
      ...manifestBaseOf(deps, config, snapshot),
      ...withWarning,
      ...(size !== undefined ? { exportSizeBytes: size } : {}),
      ...(await rowCountFields(deps, config, exportTaskId)),
      status: 'SUCCEEDED',
    });
    if (recorded.kind === 'recorded') await emitEntryCountMetrics(deps, config, recorded.manifest);
    return recorded;
  }
  const canceled = status === 'CANCELED';
  return recordFailure(
    deps,
    config,
    snapshot,
    failureOf(
      'export',
      canceled ? 'ExportCanceled' : 'ExportFailed',
      `export ${exportTaskId} of ${snapshotId} ${canceled ? 'was canceled' : 'failed'}${task.FailureCause ? `: ${task.FailureCause}` : ''}`,
      canceled
        ? 'someone canceled the export; the snapshot is still a valid recovery point. Invoke the backup function with {"reason": "..."} for a fresh archived backup'
        : 'check the export role\'s S3 and KMS permissions (see FailureCause), then invoke the backup function with {"reason": "..."}',
    ),
    common,
  );
}

/**
 * Advance one kb-dr snapshot (already checked to be kb-dr's and the protected instance's).
 * Errors from AWS become a `failed` result naming the stage; nothing is thrown.
 */
export async function advanceSnapshot(
  deps: PipelineDeps,
  config: PipelineConfig,
  snapshot: DBSnapshot,
  hints: AdvanceHints = {},
): Promise<AdvanceResult> {
  const snapshotId = snapshot.DBSnapshotIdentifier ?? '';
  let stage: BackupStage = 'record';
  try {
    if (await manifestExists({ s3: deps.s3, bucket: config.backupBucket }, snapshotId, hints.onCorrupt)) {
      return { kind: 'already-recorded', snapshotId };
    }
    const deadlineHours = config.exportStartDeadlineHours ?? DEFAULT_EXPORT_START_DEADLINE_HOURS;
    const pastDeadline = deps.now().getTime() - requestedAtOf(snapshot).getTime() > deadlineHours * 3_600_000;
    const state = snapshot.Status ?? 'unknown';

    if (state === 'failed' || state === 'error') {
      return await recordFailure(
        deps,
        config,
        snapshot,
        failureOf(
          'snapshot',
          'SnapshotFailed',
          `snapshot ${snapshotId} ended in state ${state}`,
          'check the RDS events of the instance; invoke the backup function with {"reason": "..."} for a new snapshot',
        ),
      );
    }
    if (state !== 'available') {
      if (!pastDeadline) return { kind: 'waiting', snapshotId, reason: `snapshot ${state}` };
      return await recordFailure(
        deps,
        config,
        snapshot,
        failureOf(
          'snapshot',
          'SnapshotNotAvailable',
          `snapshot ${snapshotId} is still ${state} ${deadlineHours} h after it was requested`,
          'check the snapshot in the RDS console (storage, instance health); invoke the backup function with {"reason": "..."} once the instance is healthy',
        ),
      );
    }

    stage = 'export';
    const tasks = await findExportTasks(deps, snapshot);
    const latest = tasks.at(-1);
    if (!latest) {
      stage = 'export-start';
      const started = await startExport(deps, config, snapshot, 1, hints);
      if (started.kind !== 'failed' || !pastDeadline) return started;
      return await recordFailure(deps, config, snapshot, {
        ...started.failure,
        message: `export of ${snapshotId} has not started ${deadlineHours} h after the snapshot was requested: ${started.failure.message}`,
        retryable: false,
      });
    }
    const status = normaliseExportStatus(latest.Status);
    if (RUNNING_EXPORT.has(status)) return { kind: 'waiting', snapshotId, reason: `export ${status}` };
    if (status === 'COMPLETE' || status === 'FAILED' || status === 'CANCELED') {
      stage = 'record';
      return await finishExport(deps, config, snapshot, latest, hints);
    }
    deps.logger.warn(`export ${latest.ExportTaskIdentifier} has an unknown status ${latest.Status}; waiting`);
    return { kind: 'waiting', snapshotId, reason: `export ${status}` };
  } catch (err) {
    return {
      kind: 'failed',
      snapshotId,
      failure: describeFailure(stage, err, `advance backup ${snapshotId}`),
      recorded: false,
    };
  }
}
