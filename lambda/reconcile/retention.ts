/**
 * Retention of kb-dr's manual snapshots (exports expire through the bucket lifecycle).
 * A snapshot is deleted only when every guard agrees: kb-dr's name format AND kb-dr's tag, the
 * protected instance (by its tag, so snapshots taken before a promotion's renames still count), manual and `available`, older than the retention, no export of it
 * running, and it is neither the newest successful backup nor the newest available recovery point.
 *
 * Whether its outcome is recorded is deliberately not a guard: the bucket lifecycle expires
 * manifests after the same retention, so an expired snapshot has usually lost its manifest, and
 * such a guard would keep every snapshot forever. Every snapshot gets a manifest within the
 * export-start deadline (hours) anyway; a running export is checked directly.
 */
import { DeleteDBSnapshotCommand, type DBSnapshot } from '@aws-sdk/client-rds';
import {
  isBackupOfProtectedInstance,
  type PipelineConfig,
  type PipelineDeps,
} from '../shared/backup-pipeline';
import { awsErrorCode, isNotFound } from '../../core/errors';
import { translateAwsError } from '../shared/aws-errors';
import { isKbSnapshotId, parseSnapshotTime } from '../../core/naming';
import { findExportTasks, hasRunningExport } from './advance';

export interface RetentionInput {
  /** The protected instance's kb-dr snapshots (listInstanceSnapshots), whatever instance name they carry. */
  readonly snapshots: readonly DBSnapshot[];
  /** Snapshot id of the newest successful backup, kept whatever its age. */
  readonly newestSuccessfulSnapshotId: string | undefined;
}

export interface RetentionResult {
  readonly deleted: string[];
  /** Old enough to go but kept, with the guard that kept it. */
  readonly kept: { readonly snapshotId: string; readonly reason: string }[];
  readonly errors: { readonly snapshotId: string; readonly message: string }[];
}

function createdAt(s: DBSnapshot): Date | undefined {
  return s.SnapshotCreateTime ?? parseSnapshotTime(s.DBSnapshotIdentifier ?? '');
}

/** Delete kb-dr snapshots past the retention, never one a guard protects. */
export async function pruneSnapshots(
  deps: PipelineDeps,
  config: PipelineConfig,
  input: RetentionInput,
): Promise<RetentionResult> {
  const cutoff = deps.now().getTime() - config.retentionDays * 86_400_000;
  const ours = input.snapshots.filter(
    (s) =>
      isKbSnapshotId(s.DBSnapshotIdentifier ?? '') &&
      isBackupOfProtectedInstance(s, config.dbInstanceId) &&
      s.SnapshotType === 'manual',
  );
  const newestAvailable = ours
    .filter((s) => s.Status === 'available')
    .map((s) => s.DBSnapshotIdentifier ?? '')
    .sort()
    .at(-1);
  const result: RetentionResult = { deleted: [], kept: [], errors: [] };
  for (const snap of ours) {
    const id = snap.DBSnapshotIdentifier ?? '';
    const time = createdAt(snap);
    if (!time || time.getTime() >= cutoff) continue;
    const keep = (reason: string): void => {
      result.kept.push({ snapshotId: id, reason });
    };
    if (id === input.newestSuccessfulSnapshotId) keep('newest successful backup');
    else if (id === newestAvailable) keep('newest available recovery point');
    else if (snap.Status !== 'available') keep(`snapshot is ${snap.Status}`);
    else {
      try {
        if (hasRunningExport(await findExportTasks(deps, snap))) {
          keep('export still running');
          continue;
        }
        await deps.rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: id }));
        result.deleted.push(id);
        deps.logger.info(`deleted snapshot ${id}: older than ${config.retentionDays} days`, {
          snapshotCreateTime: time.toISOString(),
        });
      } catch (err) {
        if (isNotFound(err)) continue; // deleted concurrently
        const e = translateAwsError(err, { operation: `delete expired snapshot ${id}` });
        result.errors.push({ snapshotId: id, message: e.userMessage });
        deps.logger.error(`retention could not delete ${id}: ${awsErrorCode(err)}`, {
          stage: 'retention',
          awsError: awsErrorCode(err),
          fix: e.hint,
        });
      }
    }
  }
  for (const k of result.kept) deps.logger.info(`kept expired snapshot ${k.snapshotId}: ${k.reason}`);
  return result;
}
