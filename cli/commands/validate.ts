/** `kb-dr validate --backup-file=FILE`: PASS/FAIL per check; exit 0 only when valid. */
import type { Command } from 'commander';
import { formatValidationReport, validateBackup } from '../local/validate';
import type { CliContext } from '../shared/context';
import { ValidationError } from '../../core/errors';
import { resolveMode, type Mode } from './mode';

export interface ValidateFlags {
  local?: boolean;
  rds?: boolean;
  backupFile?: string;
  snapshotId?: string;
  allowSmall?: boolean;
  trustedFile?: boolean;
}

/**
 * The checks `validate` makes on its flags before it does anything; returns where it acts.
 * `--snapshot-id` names an RDS backup, so it implies --rds.
 */
export function checkValidateFlags(flags: ValidateFlags): Mode {
  const mode = flags.snapshotId && !flags.local ? 'rds' : resolveMode('validate', flags, 'local');
  if (mode === 'rds') {
    if (!flags.snapshotId || flags.backupFile) {
      throw new ValidationError('validate --rds: pass --snapshot-id=ID (not --backup-file)', 'snapshotId', {
        hint: 'e.g. `scripts/validate-backup.sh --snapshot-id=latest` or `--snapshot-id=kb-snapshot-20261122-020000`',
      });
    }
    return mode;
  }
  if (!flags.backupFile) {
    throw new ValidationError(
      'validate: pass --backup-file=FILE (local) or --snapshot-id=ID (RDS)',
      'backupFile',
      {
        hint: 'e.g. `scripts/validate-backup.sh --backup-file=backups/kb-backup-20261122-020000.sql.gz`',
      },
    );
  }
  return mode;
}

export async function runValidate(ctx: CliContext, flags: ValidateFlags): Promise<number> {
  // The AWS SDK loads only for RDS commands.
  if (checkValidateFlags(flags) === 'rds')
    return (await import('./rds-validate')).runRdsValidate(ctx, flags.snapshotId!);
  const report = await validateBackup({
    file: flags.backupFile!,
    logger: ctx.logger,
    allowSmall: flags.allowSmall ?? false,
    trustedFile: flags.trustedFile ?? false,
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
    .action(async (flags: ValidateFlags) => exit(await runValidate(ctx, flags)));
}
