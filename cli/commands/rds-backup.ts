/** `kb-dr backup --rds [--reason=TEXT]`: an on-demand snapshot through the deployed backup function. */
import { deployedInvoker, runRds, terminalIo } from '../rds/context';
import type { Invoker } from '../rds/invoke';
import { requestRdsBackup, type RdsIo } from '../rds/operations';
import type { CliContext } from '../shared/context';

export async function runRdsBackup(
  ctx: CliContext,
  flags: { reason?: string; yes?: boolean },
  deps: { invoker?: Invoker; io?: RdsIo } = {},
): Promise<number> {
  const invoke = deps.invoker ?? deployedInvoker(ctx, ['backup']);
  const io = deps.io ?? terminalIo(ctx, flags.yes ?? false);
  return runRds(ctx, async () => {
    const res = await requestRdsBackup(invoke, io, {
      reason: flags.reason?.trim() || 'on-demand backup from the kb-dr CLI',
      yes: flags.yes ?? false,
    });
    const snapshotId = typeof res.snapshotId === 'string' ? res.snapshotId : undefined;
    ctx.stdout.write(
      [
        `backup:    ${String(res.status ?? 'requested')}${snapshotId ? ` ${snapshotId}` : ''}`,
        'next:      the snapshot and its export finish in the background (typically 10-40 minutes);',
        `           then check it: scripts/validate-backup.sh --snapshot-id=${snapshotId ?? 'latest'}`,
        '',
      ].join('\n'),
    );
    return 0;
  });
}
