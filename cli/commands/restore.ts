/** `kb-dr restore --local --backup-file=FILE [--yes]` and `kb-dr restore --local --rollback`. */
import type { Command } from 'commander';
import { LOCAL_ENV, resolveConnection } from '../local/connection';
import { planRestore, type RestoreFlags, type RestorePlan } from '../plans/restore';
import { confirmer, type CliContext } from '../shared/context';
import { formatDuration } from '../../core/duration';

export type { RestoreFlags, RestorePlan } from '../plans/restore';

/** MB/s (decimal megabytes), one decimal. */
export function throughput(bytes: number, ms: number): string {
  return `${(bytes / 1e6 / Math.max(ms / 1000, 0.001)).toFixed(1)} MB/s`;
}

export async function runRestore(ctx: CliContext, plan: RestorePlan): Promise<number> {
  // The AWS SDK loads only for RDS commands: a local restore starts without it.
  if (plan.mode === 'rds') return (await import('./rds')).runRdsPlan(ctx, plan);
  const conn = resolveConnection(ctx.env);
  const app = {
    stop: ctx.env[LOCAL_ENV.appStopCommand] || undefined,
    start: ctx.env[LOCAL_ENV.appStartCommand] || undefined,
  };
  const confirm = confirmer(ctx, plan.yes);
  // Loaded when it runs: `--help` and refused command lines start without it (bench/startup.ts).
  const { restoreLocalBackup, rollbackLocalRestore } = await import('../local/restore');
  if (plan.kind === 'rollback') {
    const result = await rollbackLocalRestore({ conn, logger: ctx.logger, confirm, app, signal: ctx.signal });
    ctx.stdout.write(
      [
        `rolled back: ${result.database} is now the data kept as ${result.restoredFrom} (set aside at ${result.keptAt})`,
        result.setAsideAs ? `kept:        the data it replaced is in ${result.setAsideAs}` : '',
        '',
      ]
        .filter((l, i, a) => l !== '' || i === a.length - 1)
        .join('\n'),
    );
    return 0;
  }
  const result = await restoreLocalBackup({
    conn,
    file: plan.backupFile,
    logger: ctx.logger,
    confirm,
    app,
    allowSmall: plan.allowSmall,
    trustedFile: plan.trustedFile,
    portable: plan.portable,
    signal: ctx.signal,
  });
  ctx.stdout.write(
    [
      `restored:  ${result.connection} from ${result.backupFile}`,
      `entries:   ${result.entriesRestored} knowledge_entries, ${result.embeddingCacheRestored} embedding_cache rows`,
      `duration:  ${formatDuration(result.durationMs)}`,
      `throughput: ${throughput(result.fileBytes, result.durationMs)} of backup file, ${throughput(result.sqlBytes, result.durationMs)} of SQL (validation, load, verification and swap)`,
      result.previousDatabase
        ? `old data:  kept as database ${result.previousDatabase} (undo with \`scripts/restore-kb.sh --local --rollback\`)`
        : 'old data:  none (the database did not exist)',
      '',
    ].join('\n'),
  );
  return 0;
}

export function registerRestoreCommand(
  program: Command,
  ctx: CliContext,
  exit: (code: number) => void,
): void {
  program
    .command('restore')
    .description('restore a backup into a new database, verify it, swap it in (keeps the old one)')
    .option('--local', 'restore into a PostgreSQL reachable from here (KB_DB_* or PG* variables)')
    .option('--rds', 'restore an RDS backup to a NEW instance through the deployed kb-dr functions')
    .option('--snapshot-id <id>', 'with --rds: the kb-dr snapshot to restore, or "latest"')
    .option('--pitr', 'point-in-time restore of the RDS instance (implies --rds)')
    .option('--target-time <time>', 'with --pitr: ISO time with Z or an offset, or "latest"')
    .option('--target-instance <id>', 'with --rds/--pitr: the NEW instance id (kb-restore-...)')
    .option(
      '--source-instance <id>',
      'with --rds/--pitr: the protected instance the backup must be of (default: the configured one)',
    )
    .option(
      '--force-production',
      'with --rds: put --target-instance behind the production name (promote-restore; production is renamed aside, never deleted)',
    )
    .option(
      '--production-instance <id>',
      'with --force-production: the production id (default: $KB_DB_INSTANCE_ID)',
    )
    .option(
      '--allow-encryption-mismatch <reason>',
      'with --force-production: promote a copy not encrypted like production; the reason is recorded in the answer and the logs',
    )
    .option('--backup-file <file>', 'the kb-backup-*.sql.gz file to restore')
    .option('--rollback', 'put back the database the last restore replaced')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--allow-small', 'accept a backup much smaller than the previous ones')
    .option(
      '--portable',
      'restore onto another server: leave out owners and privileges (the restoring user owns everything)',
    )
    .option(
      '--trusted-file',
      "accept a dump without pg_dump's \\restrict guard (pg_dump older than 15.14); it is still loaded with psql meta-commands refused",
    )
    .action(async (flags: RestoreFlags) => exit(await runRestore(ctx, planRestore(flags, ctx.env))));
}
