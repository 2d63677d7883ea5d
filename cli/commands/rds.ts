/**
 * The one entry to the RDS commands: builds the RDS session once for the plan (the functions it
 * invokes, --yes), runs the plan, and maps a failure to its exit code the way the binary does.
 * Imported dynamically: the AWS SDK loads only for RDS plans.
 */
import { createRdsSession, type RdsSession } from '../rds/context';
import type { RdsFunction } from '../rds/invoke';
import type { RdsBackupPlan, RdsValidatePlan } from '../plans/backup';
import type { RdsRestorePlan } from '../plans/restore';
import type { CliContext } from '../shared/context';
import { reportFailure } from '../shared/exit-code';
import { runRdsBackup } from './rds-backup';
import { runRdsRestore } from './rds-restore';
import { runRdsValidate } from './rds-validate';

export type RdsPlan = RdsBackupPlan | RdsValidatePlan | RdsRestorePlan;

/** The deployed functions a plan invokes (their names are checked before any call). */
export function functionsFor(plan: RdsPlan): RdsFunction[] {
  switch (plan.kind) {
    case 'rds-backup':
      return ['backup'];
    case 'rds-validate':
      return ['validate-backup'];
    case 'promote':
      return ['promote-restore'];
    case 'snapshot-restore':
    case 'pitr-restore':
      return [
        plan.kind === 'pitr-restore' ? 'restore-pitr' : 'restore-snapshot',
        'restore-status',
        'verify-restore',
        ...(plan.promote ? (['promote-restore'] as const) : []),
      ];
  }
}

/** Run an RDS plan; `session` is injectable for tests (test/cli/rds/fake-session.ts). */
export async function runRdsPlan(ctx: CliContext, plan: RdsPlan, session?: RdsSession): Promise<number> {
  try {
    const s = session ?? createRdsSession(ctx, functionsFor(plan), 'yes' in plan ? plan.yes : false);
    switch (plan.kind) {
      case 'rds-backup':
        return await runRdsBackup(s, plan);
      case 'rds-validate':
        return await runRdsValidate(s, plan);
      default:
        return await runRdsRestore(s, plan);
    }
  } catch (err) {
    return reportFailure(err, ctx);
  }
}
