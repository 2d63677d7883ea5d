/** `kb-dr validate --backup-file=FILE`: PASS/FAIL per check; exit 0 only when valid. */
import type { Command } from 'commander';
import { formatValidationReport, validateBackup } from '../local/validate';
import type { CliContext } from '../shared/context';
import { rdsNotAvailable, resolveMode } from './mode';

interface ValidateFlags {
  local?: boolean;
  rds?: boolean;
  backupFile: string;
  allowSmall?: boolean;
}

export async function runValidate(ctx: CliContext, flags: ValidateFlags): Promise<number> {
  if (resolveMode('validate', flags, 'local') === 'rds') rdsNotAvailable('validate');
  const report = await validateBackup({
    file: flags.backupFile,
    logger: ctx.logger,
    allowSmall: flags.allowSmall ?? false,
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
    .description('check a backup file: readable, checksum, gzip, complete pg_dump, plausible size')
    .requiredOption('--backup-file <file>', 'the kb-backup-*.sql.gz file')
    .option('--local', 'a local backup file (the default)')
    .option('--rds', 'validate an RDS backup through the deployed automation (not available yet)')
    .option('--allow-small', 'accept a backup much smaller than the previous ones (the data really shrank)')
    .action(async (flags: ValidateFlags) => exit(await runValidate(ctx, flags)));
}
