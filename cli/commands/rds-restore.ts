/**
 * `kb-dr restore --rds --snapshot-id=ID --target-instance=ID`, `kb-dr restore --pitr
 * --target-time=T --target-instance=ID`, and `--force-production` (promote-restore), through the
 * deployed functions.
 */
import { deployedInvoker, pollOptions, runRds, terminalIo } from '../rds/context';
import type { Invoker, RdsFunction } from '../rds/invoke';
import {
  formatRestoreSummary,
  promoteToProduction,
  restoreFromSnapshot,
  restoreToPointInTime,
  type RdsIo,
  type RestoreSummary,
} from '../rds/operations';
import { verifyRestored } from '../rds/verify';
import type { CliContext } from '../shared/context';
import { checkRdsRestoreFlags, type RdsRestoreFlags } from './rds-restore-flags';

export { checkRdsRestoreFlags, type RdsRestoreFlags } from './rds-restore-flags';

/** Run the RDS restore; `invoker`/`io` are injectable for tests. */
export async function runRdsRestore(
  ctx: CliContext,
  flags: RdsRestoreFlags,
  deps: { invoker?: Invoker; io?: RdsIo } = {},
): Promise<number> {
  const { target, production } = checkRdsRestoreFlags(flags, ctx.env);
  const restoring = Boolean(flags.pitr || flags.snapshotId);
  const uses: RdsFunction[] = [
    ...(flags.pitr ? (['restore-pitr'] as const) : flags.snapshotId ? (['restore-snapshot'] as const) : []),
    ...(restoring ? (['restore-status', 'verify-restore'] as const) : []),
    ...(flags.forceProduction ? (['promote-restore'] as const) : []),
  ];
  const invoke = deps.invoker ?? deployedInvoker(ctx, uses);
  const io = deps.io ?? terminalIo(ctx, flags.yes ?? false);
  const yes = flags.yes ?? false;

  return runRds(ctx, async () => {
    let summary: RestoreSummary | undefined;
    if (flags.pitr) {
      summary = await restoreToPointInTime(invoke, io, {
        targetTime: flags.targetTime ?? '',
        targetInstanceId: target,
        ...(flags.sourceInstance ? { sourceInstanceId: flags.sourceInstance } : {}),
        yes,
        ...pollOptions(ctx),
      });
    } else if (flags.snapshotId) {
      summary = await restoreFromSnapshot(invoke, io, {
        snapshotId: flags.snapshotId,
        targetInstanceId: target,
        ...(flags.sourceInstance ? { sourceInstanceId: flags.sourceInstance } : {}),
        yes,
        ...pollOptions(ctx),
      });
    }
    if (summary) ctx.stdout.write(formatRestoreSummary(summary));
    // The restored data is checked before anything else is done with it (a FAIL exits 1, no promotion).
    const verification =
      summary?.phase === 'available' ? await verifyRestored(invoke, summary.targetInstanceId) : undefined;
    if (verification) ctx.stdout.write(`${verification.lines.join('\n')}\n`);
    if (verification?.failed) {
      if (production) ctx.stderr.write(`error: the data checks of ${target} FAILED: not promoting it\n`);
      return 1;
    }
    if (!production) return summary && summary.phase !== 'available' ? 1 : 0;
    if (summary && summary.phase !== 'available') {
      ctx.stderr.write(
        `error: ${summary.targetInstanceId} is ${summary.state}, not available: not promoting it\n`,
      );
      return 1;
    }
    const promoted = await promoteToProduction(invoke, io, {
      restoredInstanceId: summary?.targetInstanceId ?? target,
      productionInstanceId: production,
      ...(flags.allowEncryptionMismatch
        ? { allowEncryptionMismatch: flags.allowEncryptionMismatch.trim() }
        : {}),
      yes,
    });
    ctx.stdout.write(
      [
        `promoted:  ${promoted.restoredInstanceId} -> ${promoted.productionInstanceId}`,
        ...(promoted.asideInstanceId ? [`kept:      old production as ${promoted.asideInstanceId}`] : []),
        ...promoted.next.map((n, i) => `${i === 0 ? 'next:' : '     '}      ${n}`),
        '',
      ].join('\n'),
    );
    return 0;
  });
}
