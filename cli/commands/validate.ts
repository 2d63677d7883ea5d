/** `kb-dr validate --backup-file=FILE`: PASS/FAIL per check; exit 0 only when valid. */
import type { Command } from 'commander';
import type { CliContext } from '../shared/context';
import { planValidate, type ValidateFlags, type ValidatePlan } from '../plans/backup';

export type { ValidateFlags, ValidatePlan } from '../plans/backup';

export async function runValidate(ctx: CliContext, plan: ValidatePlan): Promise<number> {
  // The AWS SDK loads only for RDS commands.
  if (plan.mode === 'rds') return (await import('./rds')).runRdsPlan(ctx, plan);
  // Loaded when it runs: `--help` and refused command lines start without it (bench/startup.ts).
  const { formatValidationReport, validateBackup } = await import('../local/validate');
  const report = await validateBackup({
    file: plan.backupFile,
    logger: ctx.logger,
    allowSmall: plan.allowSmall,
    trustedFile: plan.trustedFile,
  });
  ctx.stdout.write(formatValidationReport(report));
  return report.valid ? 0 : 1;
}

export function registerValidateCommand(
  program: Command,
  ctx: CliContext,
  exit: (code: number) => void,
): void {
  program
    .command('validate')
    .description('check a backup file: readable, checksum, gzip, complete pg_dump, content, plausible size')
    .option('--backup-file <file>', 'the kb-backup-*.sql.gz file')
    .option('--local', 'a local backup file (the default)')
    .option('--rds', 'validate an RDS backup through the deployed validate-backup function')
    .option('--snapshot-id <id>', 'the RDS backup to validate (kb-snapshot-... or "latest"; implies --rds)')
    .option('--allow-small', 'accept a backup much smaller than the previous ones (the data really shrank)')
    .option('--trusted-file', "accept a dump without pg_dump's \\restrict guard (pg_dump older than 15.14)")
    .action(async (flags: ValidateFlags) => exit(await runValidate(ctx, planValidate(flags))));
}
