/** `kb-dr validate --snapshot-id=ID` (or `--rds`): the validate-backup function's PASS/FAIL report. */
import { deployedInvoker, runRds } from '../rds/context';
import type { Invoker } from '../rds/invoke';
import { validateRdsBackup } from '../rds/operations';
import type { CliContext } from '../shared/context';

export async function runRdsValidate(
  ctx: CliContext,
  snapshotId: string,
  deps: { invoker?: Invoker } = {},
): Promise<number> {
  const invoke = deps.invoker ?? deployedInvoker(ctx, ['validate-backup']);
  return runRds(ctx, async () => {
    const res = await validateRdsBackup(invoke, snapshotId);
    ctx.stdout.write(
      [...res.report, `RESULT: ${res.passed ? 'PASS' : 'FAIL'} (${res.snapshotId})`, ''].join('\n'),
    );
    return res.passed ? 0 : 1;
  });
}
