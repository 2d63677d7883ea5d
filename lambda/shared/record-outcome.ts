/**
 * Recording a backup's outcome: the manifest a night ends with (SUCCEEDED or FAILED), written
 * once (the first writer wins; a concurrent invocation's record is never overwritten), and the
 * metrics and log line a recorded success produces. The reconcile function records what an
 * export ended with; the backup function records a snapshot it could not request. Both build
 * their FAILED manifest with `failedManifest`.
 *
 * To add a field to a SUCCEEDED manifest (e.g. figures read from the export), compute it before
 * the call and spread it into the manifest passed to `recordOutcome`.
 */
import type { DBSnapshot } from '@aws-sdk/client-rds';
import { MANIFEST_VERSION, type BackupManifest } from '../../core/manifest';
import { KbMetrics } from '../../core/metrics-catalog';
import {
  parseSnapshotTime,
  REQUESTED_AT_TAG_KEY,
  SNAPSHOT_AVAILABLE_AT_TAG_KEY,
  TRIGGER_TAG_KEY,
} from '../../core/naming';
import type { BackupFailure, BackupStage, PipelineConfig, PipelineDeps } from './backup-pipeline';
import { putManifestOnce } from './manifest-store';
import { tagTime, tagValue } from './tags';

/** What recording answered: this invocation wrote the manifest, or an earlier/concurrent one had. */
export type RecordResult =
  | { readonly kind: 'recorded'; readonly snapshotId: string; readonly manifest: BackupManifest }
  | { readonly kind: 'already-recorded'; readonly snapshotId: string };

/** A manifest before its outcome: everything but `status` and `failure`. */
export type ManifestBase = Omit<BackupManifest, 'status' | 'failure'>;

/** When the backup was requested: the tag the backup function set, else the snapshot's own times. */
export function requestedAtOf(snapshot: DBSnapshot): Date {
  return (
    tagTime(snapshot.TagList, REQUESTED_AT_TAG_KEY) ??
    snapshot.SnapshotCreateTime ??
    parseSnapshotTime(snapshot.DBSnapshotIdentifier ?? '') ??
    new Date(0)
  );
}

/** Whole seconds from `from` to `to` (never negative), or undefined when either is unknown. */
export function secondsBetween(from: Date | undefined, to: Date | undefined): number | undefined {
  if (!from || !to) return undefined;
  return Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));
}

/** The manifest fields a snapshot's tags and attributes give, recorded now. */
export function manifestBaseOf(
  deps: Pick<PipelineDeps, 'now'>,
  config: Pick<PipelineConfig, 'dbInstanceId' | 'kmsKeyArn'>,
  snapshot: DBSnapshot,
): ManifestBase {
  const requestedAt = requestedAtOf(snapshot);
  const availableAt = tagTime(snapshot.TagList, SNAPSHOT_AVAILABLE_AT_TAG_KEY);
  const trigger = tagValue(snapshot.TagList, TRIGGER_TAG_KEY) === 'on-demand' ? 'on-demand' : 'scheduled';
  const backupDurationSeconds = secondsBetween(requestedAt, availableAt);
  return {
    version: MANIFEST_VERSION,
    snapshotId: snapshot.DBSnapshotIdentifier ?? '',
    ...(snapshot.DBSnapshotArn ? { snapshotArn: snapshot.DBSnapshotArn } : {}),
    dbInstanceId: config.dbInstanceId,
    trigger,
    requestedAt: requestedAt.toISOString(),
    ...(availableAt ? { snapshotAvailableAt: availableAt.toISOString() } : {}),
    ...(backupDurationSeconds !== undefined ? { backupDurationSeconds } : {}),
    ...(snapshot.AllocatedStorage !== undefined
      ? { snapshotAllocatedBytes: snapshot.AllocatedStorage * 1024 ** 3 }
      : {}),
    kmsKeyId: config.kmsKeyArn,
    recordedAt: deps.now().toISOString(),
  };
}

/** A definitive (not retryable) failure at `stage`, with kb-dr's own code and next step. */
export function failureOf(stage: BackupStage, code: string, message: string, hint: string): BackupFailure {
  return { stage, code, message, hint, retryable: false };
}

/** The one FAILED manifest: `base` plus the failure (stage, code, message and hint when there is one). */
export function failedManifest(base: ManifestBase, failure: BackupFailure): BackupManifest {
  return {
    ...base,
    status: 'FAILED',
    failure: {
      stage: failure.stage,
      code: failure.code,
      message: failure.message,
      ...(failure.hint ? { hint: failure.hint } : {}),
    },
  };
}

/**
 * Write `manifest` unless one exists (first writer wins). A recorded success emits ExportDuration
 * and BackupSizeBytes (when known) and logs one line; the outcome pair (BackupSuccess/Failure) is
 * the caller's, since it also covers outcomes found already recorded.
 */
export async function recordOutcome(
  deps: PipelineDeps,
  config: Pick<PipelineConfig, 'backupBucket' | 'kmsKeyArn'>,
  manifest: BackupManifest,
): Promise<RecordResult> {
  const written = await putManifestOnce(
    { s3: deps.s3, bucket: config.backupBucket, kmsKeyArn: config.kmsKeyArn },
    manifest,
  );
  if (!written) {
    deps.logger.info(`backup ${manifest.snapshotId} was recorded by a concurrent invocation`);
    return { kind: 'already-recorded', snapshotId: manifest.snapshotId };
  }
  if (manifest.status === 'SUCCEEDED') {
    if (manifest.exportDurationSeconds !== undefined)
      deps.metrics.add(KbMetrics.ExportDuration, manifest.exportDurationSeconds);
    if (manifest.exportSizeBytes !== undefined)
      deps.metrics.add(KbMetrics.BackupSizeBytes, manifest.exportSizeBytes);
    deps.logger.info(`backup ${manifest.snapshotId} succeeded`, {
      exportLocation: manifest.exportLocation,
      exportSizeBytes: manifest.exportSizeBytes,
      backupDurationSeconds: manifest.backupDurationSeconds,
      exportDurationSeconds: manifest.exportDurationSeconds,
    });
  }
  return { kind: 'recorded', snapshotId: manifest.snapshotId, manifest };
}
