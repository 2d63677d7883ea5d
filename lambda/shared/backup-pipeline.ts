/**
 * Pieces of the nightly backup pipeline shared by the backup function (starts a snapshot) and
 * the reconcile function (moves snapshots on to export, records outcomes, prunes): the
 * dependencies both take, how a failure is described and logged, and how an outcome becomes
 * metrics. Metric names and units come from the catalogue only.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { PipelineDeps } from './pipeline-deps';
import type { DBSnapshot } from '@aws-sdk/client-rds';
import { KbDrError, awsErrorCode, type CorruptManifestError } from '../../core/errors';
import { translateAwsError } from './aws-errors';
import type { OnCorruptManifest } from './manifest-store';
import { KbMetrics } from '../../core/metrics-catalog';
import { PROTECTED_INSTANCE_TAG_KEY, sameInstanceId } from '../../core/naming';
import { isManagedByKbDr, tagValue } from './tags';
import type { MetricSink } from './powertools';

export { DEFAULT_EXPORT_START_DEADLINE_HOURS } from './pipeline-deps';
export type { PipelineConfig, PipelineDeps } from './pipeline-deps';

/**
 * What `TimeSinceLastBackup` reports while no backup has ever succeeded: one year, far above
 * the 25 h alarm threshold, so a fresh or never-working deployment is in ALARM until the first
 * success (take one on demand right after the first deploy to clear it).
 */
export const NO_SUCCESSFUL_BACKUP_HOURS = 365 * 24;

/** Pipeline stages, named in every failure log line and manifest. */
export type BackupStage = 'snapshot' | 'export-start' | 'export' | 'record';

export interface BackupFailure {
  readonly stage: BackupStage;
  /** The AWS error code (e.g. `SnapshotQuotaExceeded`) or a kb-dr code (e.g. `ExportFailed`). */
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  /** Whether running the same step again later could succeed. */
  readonly retryable: boolean;
}

/** Describe an error raised at `stage` as a BackupFailure (SDK errors are translated first). */
export function describeFailure(stage: BackupStage, err: unknown, operation: string): BackupFailure {
  const translated: KbDrError = translateAwsError(err, { operation });
  const code = err instanceof KbDrError ? awsErrorCode(err.cause ?? err) : awsErrorCode(err);
  return {
    stage,
    code: code === 'UnknownError' ? translated.name : code,
    message: translated.message,
    ...(translated.hint ? { hint: translated.hint } : {}),
    retryable: translated.retryable,
  };
}

/** The one error line a failure produces: stage, AWS error and the likely fix. */
export function logFailure(logger: Logger, snapshotId: string, failure: BackupFailure): void {
  logger.error(`backup ${snapshotId} failed at stage ${failure.stage}: ${failure.code}`, {
    snapshotId,
    stage: failure.stage,
    awsError: failure.code,
    error: failure.message,
    fix: failure.hint ?? 'check the function logs and retry',
    retryable: failure.retryable,
  });
}

/**
 * Emit the outcome pair for a DEFINITIVE outcome only: a recorded SUCCEEDED or FAILED manifest.
 * A transient fault fails the invocation so it is retried and emits nothing here, so a fault the
 * next attempt heals never pages. Both metrics carry 1/0 values, so the
 * `KB-BackupFailure-LastRunFailed` alarm (TreatMissingData `ignore`) holds ALARM after a failure
 * until a success writes BackupFailure=0.
 */
export function emitOutcome(metrics: MetricSink, succeeded: boolean): void {
  metrics.add(KbMetrics.BackupSuccess, succeeded ? 1 : 0);
  metrics.add(KbMetrics.BackupFailure, succeeded ? 0 : 1);
}

/** Hours between `since` and `now`, rounded to 0.01 h, never negative. */
export function hoursBetween(since: Date, now: Date): number {
  return Math.max(0, Math.round(((now.getTime() - since.getTime()) / 3_600_000) * 100) / 100);
}

/**
 * Emit TimeSinceLastBackup: hours since the newest recovery point (or the no-success sentinel).
 *
 * Measured from the recovery point's data time (the request time of the newest kb-dr snapshot
 * that is available and not recorded FAILED), not from export completion: the RPO is about the
 * data's point in time, and the snapshot is what a restore uses. Measured from export completion,
 * a night whose export merely ran an hour longer than the night before would page with nothing
 * wrong; a failed or stuck export has its own signal (BackupFailure=1 when recorded FAILED, which
 * also removes that snapshot from the recovery points counted here).
 */
export function emitTimeSinceLastBackup(
  metrics: MetricSink,
  recoveryPointAt: Date | undefined,
  now: Date,
): number {
  const hours =
    recoveryPointAt === undefined ? NO_SUCCESSFUL_BACKUP_HOURS : hoursBetween(recoveryPointAt, now);
  metrics.add(KbMetrics.TimeSinceLastBackup, hours);
  return hours;
}

/** PITR below this many days of automated backups cannot cover the 24 h RPO over a long weekend. */
export const MIN_AUTOMATED_BACKUP_RETENTION_DAYS = 7;

/**
 * True when `snapshot` is a kb-dr backup of the protected instance `dbInstanceId`: kb-dr's tag,
 * and the protected-instance tag naming it (or, for snapshots taken before that tag existed, the
 * snapshot's own DBInstanceIdentifier). Ids compare case-insensitively, as RDS compares them.
 * The tag survives a promotion's renames; DBInstanceIdentifier does not.
 */
export function isBackupOfProtectedInstance(snapshot: DBSnapshot, dbInstanceId: string): boolean {
  if (!isManagedByKbDr(snapshot.TagList)) return false;
  const protectedId = tagValue(snapshot.TagList, PROTECTED_INSTANCE_TAG_KEY);
  return protectedId !== undefined
    ? sameInstanceId(protectedId, dbInstanceId)
    : sameInstanceId(snapshot.DBInstanceIdentifier, dbInstanceId);
}

/**
 * Reports corrupt manifests: one error line each (with the fix), and their count as the
 * CorruptManifests metric when `flush` is called (emitted only when above 0).
 */
export function corruptManifestReporter(deps: Pick<PipelineDeps, 'logger' | 'metrics'>): {
  readonly onCorrupt: OnCorruptManifest;
  readonly count: () => number;
  readonly flush: () => void;
} {
  const seen = new Set<string>();
  return {
    onCorrupt(err: CorruptManifestError) {
      if (seen.has(err.source)) return;
      seen.add(err.source);
      deps.logger.error(`corrupt manifest skipped: ${err.message}`, {
        stage: 'manifest',
        manifest: err.source,
        fix: err.hint,
      });
    },
    count: () => seen.size,
    flush() {
      if (seen.size > 0) deps.metrics.add(KbMetrics.CorruptManifests, seen.size);
    },
  };
}
