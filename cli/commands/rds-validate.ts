/** `kb-dr validate --snapshot-id=ID` (or `--rds`): the validate-backup function's PASS/FAIL report. */
import type { RdsSession } from '../rds/context';
import { validateRdsBackup } from '../rds/operations';
import type { RdsValidatePlan } from '../plans/backup';

export async function runRdsValidate(session: RdsSession, plan: RdsValidatePlan): Promise<number> {
  const res = await validateRdsBackup(session.invoke, plan.snapshotId);
  session.stdout.write(
    [...res.report, `RESULT: ${res.passed ? 'PASS' : 'FAIL'} (${res.snapshotId})`, ''].join('\n'),
  );
  return res.passed ? 0 : 1;
}
