/**
 * The reconcile function's two entry points:
 * - `reconcilePass` (every 15 minutes): finds every kb-dr snapshot of the protected instance
 *   whose outcome is not recorded and advances it, applies retention, and emits
 *   TimeSinceLastBackup so that silence itself trips the alarm.
 * - `handleRdsEvent`: advances the one snapshot an RDS event is about, at once.
 * Both go through `advanceSnapshot`, so the event path and the recovery path cannot drift apart.
 */
import { DescribeDBSnapshotsCommand, type DBSnapshot } from '@aws-sdk/client-rds';
import {
  emitOutcome,
  emitTimeSinceLastBackup,
  isManagedByKbDr,
  logFailure,
  type PipelineConfig,
  type PipelineDeps,
} from '../shared/backup-pipeline';
import { awsErrorCode, translateAwsError } from '../shared/errors';
import { latestSuccessfulManifest, listManifestSnapshotIds } from '../shared/manifest-store';
import { isKbSnapshotId } from '../shared/naming';
import { advanceSnapshot, requestedAtOf, type AdvanceResult } from './advance';
import { eventTime, snapshotIdOfEvent, type RdsEvent } from './rds-event';
import { pruneSnapshots, type RetentionResult } from './retention';

/** The protected instance's manual snapshots (all of them: retention and the pass filter). */
export async function listInstanceSnapshots(
  deps: PipelineDeps,
  config: PipelineConfig,
): Promise<DBSnapshot[]> {
  const out: DBSnapshot[] = [];
  let marker: string | undefined;
  try {
    do {
      const res = await deps.rds.send(
        new DescribeDBSnapshotsCommand({
          DBInstanceIdentifier: config.dbInstanceId,
          SnapshotType: 'manual',
          Marker: marker,
        }),
      );
      out.push(...(res.DBSnapshots ?? []));
      marker = res.Marker;
    } while (marker);
  } catch (err) {
    throw translateAwsError(err, {
      operation: `list snapshots of ${config.dbInstanceId}`,
      notFoundHint: 'check KB_DB_INSTANCE_ID names the protected instance',
    });
  }
  return out;
}

function isPipelineSnapshot(s: DBSnapshot, config: PipelineConfig): boolean {
  return (
    isKbSnapshotId(s.DBSnapshotIdentifier ?? '') &&
    isManagedByKbDr(s.TagList) &&
    s.DBInstanceIdentifier === config.dbInstanceId
  );
}

/** Results that carry an outcome for the BackupSuccess/BackupFailure pair. */
function outcomeOf(r: AdvanceResult): boolean | undefined {
  if (r.kind === 'recorded') return r.manifest.status === 'SUCCEEDED';
  if (r.kind === 'failed') return false;
  return undefined;
}

/** Log failures and emit the outcome pair for the newest snapshot that produced an outcome. */
function report(deps: PipelineDeps, results: readonly AdvanceResult[]): void {
  for (const r of results) {
    if (r.kind === 'failed') logFailure(deps.logger, r.snapshotId, r.failure);
  }
  // "Last run" semantics: several outcomes in one pass (events lost for days) would otherwise
  // share one period, and an older failure would mask tonight's success for the whole day.
  const newest = [...results]
    .sort((a, b) => a.snapshotId.localeCompare(b.snapshotId))
    .reverse()
    .find((r) => outcomeOf(r) !== undefined);
  if (newest) emitOutcome(deps.metrics, outcomeOf(newest) === true);
}

export interface ReconcileSummary {
  readonly mode: 'pass' | 'event';
  readonly results: readonly AdvanceResult[];
  readonly retention?: RetentionResult;
  readonly hoursSinceLastBackup?: number;
  /** Failures a later retry could fix: the handler fails the invocation for these. */
  readonly retryableFailures: number;
}

async function emitAge(
  deps: PipelineDeps,
  config: PipelineConfig,
): Promise<{ hours: number; snapshotId?: string }> {
  const latest = await latestSuccessfulManifest(
    { s3: deps.s3, bucket: config.backupBucket },
    config.dbInstanceId,
  );
  const completed = latest?.exportCompletedAt ? new Date(latest.exportCompletedAt) : undefined;
  const hours = emitTimeSinceLastBackup(deps.metrics, completed, deps.now());
  return latest ? { hours, snapshotId: latest.snapshotId } : { hours };
}

function countRetryable(results: readonly AdvanceResult[]): number {
  return results.filter((r) => r.kind === 'failed' && r.failure.retryable).length;
}

/** The periodic pass: finish what events missed, prune, report the age of the newest success. */
export async function reconcilePass(deps: PipelineDeps, config: PipelineConfig): Promise<ReconcileSummary> {
  const snapshots = await listInstanceSnapshots(deps, config);
  const loc = { s3: deps.s3, bucket: config.backupBucket };
  const recorded = new Set(await listManifestSnapshotIds(loc));
  // Only snapshots younger than the retention: older manifests have expired with the bucket
  // lifecycle, and an old backup must never be recorded (and counted) a second time.
  const horizon = deps.now().getTime() - config.retentionDays * 86_400_000;
  const pending = snapshots
    .filter(
      (s) =>
        isPipelineSnapshot(s, config) &&
        !recorded.has(s.DBSnapshotIdentifier ?? '') &&
        requestedAtOf(s).getTime() > horizon,
    )
    .sort((a, b) => (a.DBSnapshotIdentifier ?? '').localeCompare(b.DBSnapshotIdentifier ?? ''));
  const results: AdvanceResult[] = [];
  for (const snap of pending) {
    const r = await advanceSnapshot(deps, config, snap);
    results.push(r);
    if (r.kind === 'recorded' || (r.kind === 'failed' && r.recorded) || r.kind === 'already-recorded')
      recorded.add(r.snapshotId);
  }
  report(deps, results);
  const age = await emitAge(deps, config);
  const retention = await pruneSnapshots(deps, config, {
    snapshots,
    newestSuccessfulSnapshotId: age.snapshotId,
  });
  deps.logger.info('reconcile pass done', {
    pending: pending.length,
    outcomes: results.map((r) => `${r.snapshotId}:${r.kind}`),
    deleted: retention.deleted,
    hoursSinceLastBackup: age.hours,
  });
  return {
    mode: 'pass',
    results,
    retention,
    hoursSinceLastBackup: age.hours,
    retryableFailures: countRetryable(results),
  };
}

/** Advance the snapshot an RDS event is about; events about anything else change nothing. */
export async function handleRdsEvent(
  deps: PipelineDeps,
  config: PipelineConfig,
  event: RdsEvent,
): Promise<ReconcileSummary> {
  const snapshotId = snapshotIdOfEvent(event);
  const ignored: ReconcileSummary = { mode: 'event', results: [], retryableFailures: 0 };
  if (!snapshotId) {
    deps.logger.info('RDS event is not about a kb-dr snapshot; ignored', { eventId: event.detail.EventID });
    return ignored;
  }
  let snapshot: DBSnapshot | undefined;
  try {
    const res = await deps.rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }));
    snapshot = res.DBSnapshots?.[0];
  } catch (err) {
    if (awsErrorCode(err) !== 'DBSnapshotNotFoundFault')
      throw translateAwsError(err, { operation: `describe snapshot ${snapshotId}` });
  }
  if (!snapshot || !isPipelineSnapshot(snapshot, config)) {
    deps.logger.warn(
      `RDS event ${event.detail.EventID} names ${snapshotId}, which is not a kb-dr snapshot of ${config.dbInstanceId}; ignored`,
    );
    return ignored;
  }
  const observedAt = eventTime(event);
  const result = await advanceSnapshot(deps, config, snapshot, observedAt ? { observedAt } : {});
  deps.logger.info(`RDS event ${event.detail.EventID} for ${snapshotId}: ${result.kind}`);
  report(deps, [result]);
  let hoursSinceLastBackup: number | undefined;
  if (result.kind === 'recorded' && result.manifest.status === 'SUCCEEDED') {
    hoursSinceLastBackup = (await emitAge(deps, config)).hours;
  }
  return {
    mode: 'event',
    results: [result],
    ...(hoursSinceLastBackup !== undefined ? { hoursSinceLastBackup } : {}),
    retryableFailures: countRetryable([result]),
  };
}
