/** `kb-dr backup --local [--dir DIR] [--prune]`: a verified local backup, optionally followed by pruning. */
import type { Command } from 'commander';
import { KbDrError } from '../../core/errors';
import { LOCAL_ENV, resolveConnection } from '../local/connection';
import type { CliContext } from '../shared/context';
import { formatDuration } from '../../core/duration';
import { formatBytes } from '../shared/format';
import { planBackup, type BackupFlags, type BackupPlan } from '../plans/backup';

export type { BackupFlags, BackupPlan } from '../plans/backup';

export async function runBackup(ctx: CliContext, plan: BackupPlan): Promise<number> {
  // The AWS SDK loads only for RDS commands: a local backup starts without it.
  if (plan.mode === 'rds') return (await import('./rds')).runRdsPlan(ctx, plan);
  const conn = resolveConnection(ctx.env);
  const dir = plan.dir;
  // Loaded when it runs: `--help` and refused command lines start without it (bench/startup.ts).
  const { createLocalBackup } = await import('../local/backup');
  const result = await createLocalBackup({ conn, dir, logger: ctx.logger, signal: ctx.signal });
  ctx.stdout.write(
    [
      `backup:    ${result.path}`,
      `database:  ${result.connection}`,
      `checksum:  ${result.sha256}  (${result.checksumPath})`,
      `size:      ${formatBytes(result.bytes)} compressed, ${formatBytes(result.sqlBytes)} SQL`,
      `entries:   ${result.entryCount} knowledge_entries, ${result.embeddingCacheCount} embedding_cache rows`,
      `duration:  ${formatDuration(result.durationMs)}`,
      '',
    ].join('\n'),
  );
  if (!plan.prune) return 0;
  // The retention setting is read only now: a bad value never prevents the backup itself.
  const { pruneBackups, retentionDaysFrom } = await import('../local/prune');
  let retentionDays: number;
  try {
    retentionDays = retentionDaysFrom(ctx.env);
  } catch (err) {
    if (!(err instanceof KbDrError)) throw err;
    ctx.stderr.write(`error: the backup was written, but pruning was skipped: ${err.userMessage}\n`);
    return 1;
  }
  const pruned = await pruneBackups({ dir, retentionDays, logger: ctx.logger });
  if (pruned.refusedBecause) {
    ctx.stderr.write(
      `error: nothing was pruned: ${pruned.refusedBecause}; check the backup before deleting older ones\n`,
    );
    return 1;
  }
  ctx.stdout.write(
    `pruned:    ${pruned.deleted.length} backup(s) older than ${retentionDays} days; ${pruned.kept.length} kept` +
      (pruned.skipped.length > 0 ? `; ${pruned.skipped.length} not written by kb-dr left alone` : '') +
      '\n',
  );
  return 0;
}

export function registerBackupCommand(program: Command, ctx: CliContext, exit: (code: number) => void): void {
  program
    .command('backup')
    .description('back up the Knowledge Base database (pg_dump | gzip, SHA-256 checksum)')
    .option('--local', 'back up a PostgreSQL reachable from here (KB_DB_* or PG* variables)')
    .option('--rds', 'request an on-demand RDS snapshot through the deployed backup function')
    .option('--reason <text>', 'with --rds: why (recorded with the backup)')
    .option('-y, --yes', 'with --rds: do not ask for confirmation')
    .option('--dir <path>', `backup folder (default: $${LOCAL_ENV.backupPath} or ./backups)`)
    .option(
      '--prune',
      `after the backup, delete backups older than $${LOCAL_ENV.retentionDays} days (default 30), never the newest valid one`,
    )
    .action(async (flags: BackupFlags) => exit(await runBackup(ctx, planBackup(flags, ctx.env))));
}
