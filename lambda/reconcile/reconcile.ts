/**
 * The reconcile function's two entry points:
 * - `reconcilePass` (every 15 minutes): finds every kb-dr snapshot of the protected instance
 *   whose outcome is not recorded and advances it, applies retention, and emits
 *   TimeSinceLastBackup so that silence itself trips the alarm.
 * - `handleRdsEvent`: advances the one snapshot an RDS event is about, at once.
 * Both go through `advanceSnapshot`, so the event path and the recovery path cannot drift apart.
 */
import { AddTagsToResourceCommand, type DBSnapshot } from '@aws-sdk/client-rds';
import {
  corruptManifestReporter,
  emitOutcome,
  emitTimeSinceLastBackup,
  isBackupOfProtectedInstance,
  logFailure,
  type PipelineConfig,
  type PipelineDeps,
} from '../shared/backup-pipeline';
import { tagValue } from '../shared/tags';
import { awsErrorCode, CorruptManifestError } from '../../core/errors';
import { translateAwsError } from '../shared/aws-errors';
import {
  getManifest,
  latestSuccessfulManifest,
  listManifestSnapshotIds,
  type ManifestLocation,
  type OnCorruptManifest,
} from '../shared/manifest-store';
import { isKbSnapshotId, PROTECTED_INSTANCE_TAG_KEY } from '../../core/naming';
import { advanceSnapshot, type AdvanceResult } from './advance';
import { requestedAtOf } from '../shared/record-outcome';
import { eventTime, snapshotIdOfEvent, type RdsEvent } from '../../core/rds-event';
import { pruneSnapshots, type RetentionResult } from './retention';
import { describeSnapshotIfExists, listManualSnapshots } from '../shared/rds-snapshots';

/**
 * kb-dr's backups of the protected instance, found by tag rather than by DBInstanceIdentifier:
 * after a promotion renames production aside and gives the restored instance the production id,
 * older snapshots name the aside instance (or the restored instance's old id) yet are still the
 * protected instance's backups, to be pruned and counted. Every manual snapshot is listed and
 * kept when kb-dr's tag and the protected-instance tag (or, for snapshots older than that tag,
 * DBInstanceIdentifier) say so.
 */
export async function listInstanceSnapshots(
  deps: PipelineDeps,
  config: PipelineConfig,
): Promise<DBSnapshot[]> {
  let out: DBSnapshot[];
  try {
    out = await listManualSnapshots(deps.rds);
  } catch (err) {
    throw translateAwsError(err, {
      operation: `list the manual snapshots of the account (backups of ${config.dbInstanceId})`,
    });
  }
  const ours = out.filter(
    (s) =>
      isKbSnapshotId(s.DBSnapshotIdentifier ?? '') && isBackupOfProtectedInstance(s, config.dbInstanceId),
  );
  await tagProtectedInstance(deps, config, ours);
  return ours;
}

/**
 * Give snapshots taken before the protected-instance tag existed that tag, while their
 * DBInstanceIdentifier still names the protected instance, so a later rename cannot orphan them.
 * Best effort: a failure is logged and retried by the next pass.
 */
async function tagProtectedInstance(
  deps: PipelineDeps,
  config: PipelineConfig,
  snapshots: readonly DBSnapshot[],
): Promise<void> {
  for (const s of snapshots) {
    if (tagValue(s.TagList, PROTECTED_INSTANCE_TAG_KEY) !== undefined || !s.DBSnapshotArn) continue;
    try {
      await deps.rds.send(
        new AddTagsToResourceCommand({
          ResourceName: s.DBSnapshotArn,
          Tags: [{ Key: PROTECTED_INSTANCE_TAG_KEY, Value: config.dbInstanceId }],
        }),
      );
    } catch (err) {
      deps.logger.warn(`could not tag ${s.DBSnapshotIdentifier} with the protected instance`, {
        awsError: awsErrorCode(err),
      });
    }
  }
}

function isPipelineSnapshot(s: DBSnapshot, config: PipelineConfig): boolean {
  return isKbSnapshotId(s.DBSnapshotIdentifier ?? '') && isBackupOfProtectedInstance(s, config.dbInstanceId);
}

/** Results that carry a DEFINITIVE outcome (a manifest this invocation recorded). */
function outcomeOf(r: AdvanceResult): boolean | undefined {
  if (r.kind === 'recorded') return r.manifest.status === 'SUCCEEDED';
  if (r.kind === 'failed' && r.recorded) return false;
  return undefined;
}

/**
 * Log failures and emit the outcome pair for the newest snapshot that produced a definitive
 * outcome, and only when no newer backup was already recorded: an old backup recorded late (a
 * replayed event, events lost for days) must never clear tonight's failure.
 */
function report(
  deps: PipelineDeps,
  results: readonly AdvanceResult[],
  newestRecordedBefore: string | undefined,
): void {
  for (const r of results) {
    if (r.kind === 'failed') logFailure(deps.logger, r.snapshotId, r.failure);
  }
  const newest = [...results]
    .sort((a, b) => a.snapshotId.localeCompare(b.snapshotId))
    .reverse()
    .find((r) => outcomeOf(r) !== undefined);
  if (!newest) return;
  if (newestRecordedBefore !== undefined && newest.snapshotId < newestRecordedBefore) {
    deps.logger.info(
      `recorded ${newest.snapshotId} late; a newer backup (${newestRecordedBefore}) is already recorded, so no outcome metric is emitted`,
    );
    return;
  }
  emitOutcome(deps.metrics, outcomeOf(newest) === true);
}

export interface ReconcileSummary {
  readonly mode: 'pass' | 'event';
  readonly results: readonly AdvanceResult[];
  readonly retention?: RetentionResult;
  readonly hoursSinceLastBackup?: number;
  /** Failures a later retry could fix: the handler fails the invocation for these. */
  readonly retryableFailures: number;
}

/**
 * The newest recovery point: the newest available kb-dr snapshot whose backup is not recorded
 * FAILED (no manifest yet means its export is still under way: the snapshot is restorable).
 * `recorded` undefined means the bucket could not be listed: every available snapshot counts.
 */
async function newestRecoveryPoint(
  loc: ManifestLocation,
  snapshots: readonly DBSnapshot[],
  recorded: ReadonlySet<string> | undefined,
  onCorrupt: OnCorruptManifest,
): Promise<DBSnapshot | undefined> {
  const available = snapshots
    .filter((s) => s.Status === 'available')
    .sort((a, b) => requestedAtOf(b).getTime() - requestedAtOf(a).getTime());
  for (const snap of available) {
    const id = snap.DBSnapshotIdentifier ?? '';
    if (!recorded?.has(id)) return snap;
    try {
      const m = await getManifest(loc, id);
      if (m?.status !== 'FAILED') return snap;
    } catch (err) {
      if (!(err instanceof CorruptManifestError)) throw err;
      onCorrupt(err);
    }
  }
  return undefined;
}

async function emitAge(
  deps: PipelineDeps,
  loc: ManifestLocation,
  snapshots: readonly DBSnapshot[],
  recorded: ReadonlySet<string> | undefined,
  onCorrupt: OnCorruptManifest,
): Promise<number> {
  const point = await newestRecoveryPoint(loc, snapshots, recorded, onCorrupt);
  return emitTimeSinceLastBackup(deps.metrics, point && requestedAtOf(point), deps.now());
}

function countRetryable(results: readonly AdvanceResult[]): number {
  return results.filter((r) => r.kind === 'failed' && r.failure.retryable).length;
}

function newestKbId(ids: Iterable<string>, except?: string): string | undefined {
  return [...ids]
    .filter((id) => id !== except && isKbSnapshotId(id))
    .sort()
    .at(-1);
}

/** The periodic pass: finish what events missed, prune, report the age of the newest recovery point. */
export async function reconcilePass(deps: PipelineDeps, config: PipelineConfig): Promise<ReconcileSummary> {
  const snapshots = await listInstanceSnapshots(deps, config);
  const loc = { s3: deps.s3, bucket: config.backupBucket };
  const corrupt = corruptManifestReporter(deps);
  try {
    let recorded: Set<string>;
    try {
      recorded = new Set(await listManifestSnapshotIds(loc));
    } catch (err) {
      // The recovery points live in RDS: report their age even while the bucket cannot be read,
      // record nothing and prune nothing, and fail the invocation (the next pass records).
      const hours = await emitAge(deps, loc, snapshots, undefined, corrupt.onCorrupt);
      deps.logger.error('the backup bucket cannot be listed; nothing recorded or pruned this pass', {
        hoursSinceLastBackup: hours,
        error: err instanceof Error ? err.message : String(err),
      });
      throw err;
    }
    const newestBefore = newestKbId(recorded);
    // Only snapshots younger than the retention: older manifests have expired with the bucket
    // lifecycle, and an old backup must never be recorded (and counted) a second time.
    const horizon = deps.now().getTime() - config.retentionDays * 86_400_000;
    const pending = snapshots
      .filter((s) => !recorded.has(s.DBSnapshotIdentifier ?? '') && requestedAtOf(s).getTime() > horizon)
      .sort((a, b) => (a.DBSnapshotIdentifier ?? '').localeCompare(b.DBSnapshotIdentifier ?? ''));
    const results: AdvanceResult[] = [];
    for (const snap of pending) {
      const r = await advanceSnapshot(deps, config, snap, { onCorrupt: corrupt.onCorrupt });
      results.push(r);
      if (r.kind === 'recorded' || (r.kind === 'failed' && r.recorded) || r.kind === 'already-recorded')
        recorded.add(r.snapshotId);
    }
    report(deps, results, newestBefore);
    const hours = await emitAge(deps, loc, snapshots, recorded, corrupt.onCorrupt);
    const newestSuccess = await latestSuccessfulManifest(loc, config.dbInstanceId, corrupt.onCorrupt);
    const retention = await pruneSnapshots(deps, config, {
      snapshots,
      newestSuccessfulSnapshotId: newestSuccess?.snapshotId,
    });
    deps.logger.info('reconcile pass done', {
      pending: pending.length,
      outcomes: results.map((r) => `${r.snapshotId}:${r.kind}`),
      deleted: retention.deleted,
      hoursSinceLastBackup: hours,
      corruptManifests: corrupt.count(),
    });
    return {
      mode: 'pass',
      results,
      retention,
      hoursSinceLastBackup: hours,
      retryableFailures: countRetryable(results),
    };
  } finally {
    corrupt.flush();
  }
}

/**
 * Advance the snapshot an RDS event is about; events about anything else change nothing. The
 * same window and ordering checks as the periodic pass: a snapshot older than the retention is
 * never (re-)recorded, and an outcome older than the newest recorded backup emits no metric.
 */
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
  const snapshot = await describeSnapshotIfExists(deps.rds, snapshotId);
  if (!snapshot || !isPipelineSnapshot(snapshot, config)) {
    deps.logger.warn(
      `RDS event ${event.detail.EventID} names ${snapshotId}, which is not a kb-dr snapshot of ${config.dbInstanceId}; ignored`,
    );
    return ignored;
  }
  const horizon = deps.now().getTime() - config.retentionDays * 86_400_000;
  if (requestedAtOf(snapshot).getTime() <= horizon) {
    deps.logger.warn(
      `RDS event ${event.detail.EventID} is about ${snapshotId}, older than the ${config.retentionDays}-day retention; ignored (replayed or late event)`,
    );
    return ignored;
  }
  const loc = { s3: deps.s3, bucket: config.backupBucket };
  const corrupt = corruptManifestReporter(deps);
  try {
    const newestBefore = newestKbId(
      (await listManifestSnapshotIds(loc)).filter((id) => id > snapshotId),
      snapshotId,
    );
    const observedAt = eventTime(event);
    const result = await advanceSnapshot(deps, config, snapshot, {
      ...(observedAt ? { observedAt } : {}),
      onCorrupt: corrupt.onCorrupt,
    });
    deps.logger.info(`RDS event ${event.detail.EventID} for ${snapshotId}: ${result.kind}`);
    report(deps, [result], newestBefore);
    return { mode: 'event', results: [result], retryableFailures: countRetryable([result]) };
  } finally {
    corrupt.flush();
  }
}
