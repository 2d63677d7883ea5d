/** `kb-dr backup --rds [--reason=TEXT]`: an on-demand snapshot through the deployed backup function. */
import type { RdsSession } from '../rds/context';
import { requestRdsBackup } from '../rds/operations';
import type { RdsBackupPlan } from '../plans/backup';

export async function runRdsBackup(session: RdsSession, plan: RdsBackupPlan): Promise<number> {
  const res = await requestRdsBackup(session.invoke, session.io, { reason: plan.reason, yes: plan.yes });
  const snapshotId = typeof res.snapshotId === 'string' ? res.snapshotId : undefined;
  session.stdout.write(
    [
      `backup:    ${String(res.status ?? 'requested')}${snapshotId ? ` ${snapshotId}` : ''}`,
      'next:      the snapshot and its export finish in the background (typically 10-40 minutes);',
      `           then check it: scripts/validate-backup.sh --snapshot-id=${snapshotId ?? 'latest'}`,
      '',
    ].join('\n'),
  );
  return 0;
}
