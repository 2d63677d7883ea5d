/**
 * `kb-dr restore --rds --snapshot-id=ID --target-instance=ID`, `kb-dr restore --pitr
 * --target-time=T --target-instance=ID`, and `--force-production` (promote-restore), through the
 * deployed functions.
 */
import type { RdsSession } from '../rds/context';
import {
  formatRestoreSummary,
  promoteToProduction,
  restoreFromSnapshot,
  restoreToPointInTime,
  type RestoreSummary,
} from '../rds/operations';
import { verifyRestored } from '../rds/verify';
import type { RdsRestorePlan } from '../plans/restore';

/** Restore (and verify), then promote when the plan says so; the exit code. */
export async function runRdsRestore(session: RdsSession, plan: RdsRestorePlan): Promise<number> {
  const { invoke, io, poll, stdout, stderr } = session;
  const yes = plan.yes;
  let summary: RestoreSummary | undefined;
  if (plan.kind === 'pitr-restore') {
    summary = await restoreToPointInTime(invoke, io, {
      targetTime: plan.targetTime,
      targetInstanceId: plan.targetInstanceId,
      ...(plan.sourceInstanceId ? { sourceInstanceId: plan.sourceInstanceId } : {}),
      yes,
      ...poll,
    });
  } else if (plan.kind === 'snapshot-restore') {
    summary = await restoreFromSnapshot(invoke, io, {
      snapshotId: plan.snapshotId,
      targetInstanceId: plan.targetInstanceId,
      ...(plan.sourceInstanceId ? { sourceInstanceId: plan.sourceInstanceId } : {}),
      yes,
      ...poll,
    });
  }
  if (summary) stdout.write(formatRestoreSummary(summary));
  const target = plan.kind === 'promote' ? plan.restoredInstanceId : plan.targetInstanceId;
  const promote = plan.promote;
  // The restored data is checked before anything else is done with it (a FAIL exits 1, no promotion).
  const verification =
    summary?.phase === 'available' ? await verifyRestored(invoke, summary.targetInstanceId) : undefined;
  if (verification) stdout.write(`${verification.lines.join('\n')}\n`);
  if (verification?.failed) {
    if (promote) stderr.write(`error: the data checks of ${target} FAILED: not promoting it\n`);
    return 1;
  }
  if (!promote) return summary && summary.phase !== 'available' ? 1 : 0;
  if (summary && summary.phase !== 'available') {
    stderr.write(`error: ${summary.targetInstanceId} is ${summary.state}, not available: not promoting it\n`);
    return 1;
  }
  const promoted = await promoteToProduction(invoke, io, {
    restoredInstanceId: summary?.targetInstanceId ?? target,
    productionInstanceId: promote.productionInstanceId,
    ...(promote.allowEncryptionMismatch ? { allowEncryptionMismatch: promote.allowEncryptionMismatch } : {}),
    yes,
  });
  stdout.write(
    [
      `promoted:  ${promoted.restoredInstanceId} -> ${promoted.productionInstanceId}`,
      ...(promoted.asideInstanceId ? [`kept:      old production as ${promoted.asideInstanceId}`] : []),
      ...promoted.next.map((n, i) => `${i === 0 ? 'next:' : '     '}      ${n}`),
      '',
    ].join('\n'),
  );
  return 0;
}
