/**
 * `kb-dr restore --rds --snapshot-id=ID --target-instance=ID`, `kb-dr restore --pitr
 * --target-time=T --target-instance=ID`, and `--force-production` (promote-restore), through the
 * deployed functions.
 */
import { ValidationError } from '../../core/errors';
import { ENV } from '../../lambda/shared/env';
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

export interface RdsRestoreFlags {
  pitr?: boolean;
  snapshotId?: string;
  targetTime?: string;
  targetInstance?: string;
  sourceInstance?: string;
  forceProduction?: boolean;
  productionInstance?: string;
  /** With --force-production: the reason to promote a copy not encrypted like production. */
  allowEncryptionMismatch?: string;
  yes?: boolean;
}

const EXAMPLES = [
  '`scripts/restore-kb.sh --rds --snapshot-id=latest --target-instance=kb-restore-drill-1`',
  '`scripts/restore-kb.sh --pitr --target-time=2026-11-22T01:30:00Z --target-instance=kb-restore-pitr-1`',
  '`scripts/restore-kb.sh --rds --force-production --target-instance=kb-restore-drill-1`',
].join(', ');

/**
 * The checks `restore --rds/--pitr` makes on its flags before any AWS call: returns the target
 * instance and, with --force-production, the production instance (flag, else $KB_DB_INSTANCE_ID).
 */
export function checkRdsRestoreFlags(
  flags: RdsRestoreFlags,
  env: CliContext['env'],
): { target: string; production: string | undefined } {
  const target = flags.targetInstance?.trim();
  if (!target) {
    throw new ValidationError('restore --rds: --target-instance is required', 'targetInstance', {
      hint: `e.g. ${EXAMPLES}`,
    });
  }
  if (flags.pitr && flags.snapshotId) {
    throw new ValidationError('restore: --pitr and --snapshot-id exclude each other', 'pitr', {
      hint: `e.g. ${EXAMPLES}`,
    });
  }
  if (flags.pitr && !flags.targetTime) {
    throw new ValidationError(
      'restore --pitr: --target-time is required (with Z or an offset)',
      'targetTime',
      {
        hint: 'e.g. --target-time=2026-11-22T01:30:00Z or --target-time=latest',
      },
    );
  }
  const restoring = Boolean(flags.pitr || flags.snapshotId);
  if (!restoring && !flags.forceProduction) {
    throw new ValidationError(
      'restore --rds: say what to restore: --snapshot-id=ID, --pitr, or --force-production',
      'snapshotId',
      {
        hint: `e.g. ${EXAMPLES}`,
      },
    );
  }
  const production = flags.forceProduction
    ? flags.productionInstance?.trim() || env[ENV.dbInstanceId]?.trim()
    : undefined;
  if (flags.forceProduction && !production) {
    throw new ValidationError(
      'restore --force-production: which production instance?',
      'productionInstance',
      {
        hint: `pass --production-instance=kb-prod or set ${ENV.dbInstanceId}`,
      },
    );
  }
  if (flags.allowEncryptionMismatch !== undefined) {
    if (!flags.forceProduction) {
      throw new ValidationError(
        'restore: --allow-encryption-mismatch only applies to a promotion (--force-production)',
        'allowEncryptionMismatch',
        { hint: `remove it, or add --force-production; e.g. ${EXAMPLES}` },
      );
    }
    if (!flags.allowEncryptionMismatch.trim()) {
      throw new ValidationError(
        'restore --force-production: --allow-encryption-mismatch needs a reason',
        'allowEncryptionMismatch',
        {
          hint: 'e.g. --allow-encryption-mismatch="production key was deleted; approved by J. Doe"',
        },
      );
    }
  }
  return { target, production };
}

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
