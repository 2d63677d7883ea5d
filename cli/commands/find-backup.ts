/**
 * `kb-dr find-backup --before=TIME [--local|--rds] [--pitr] [--check] [--json]`: the recovery
 * points taken before a time, newest first, with their entry counts where recorded and the
 * exact commands to use each one. Read-only: nothing is created, restored or changed.
 */
// The AWS SDK and the RDS lookups load only for --rds (a local find-backup starts without them).
import type { RDSClient } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import { ValidationError } from '../../core/errors';
import { ENV } from '../../lambda/shared/env';
import type { RecoveryPoint } from '../local/find-backup';
import { parseZonedTime } from '../local/recovery-selection';
import type { CliContext } from '../shared/context';
import { backupDirOf } from '../plans/backup';
import { restorePrefixOf } from '../plans/checks';
import { resolveMode, type Mode } from './mode';

export interface FindBackupFlags {
  before?: string;
  local?: boolean;
  rds?: boolean;
  dir?: string;
  pitr?: boolean;
  check?: boolean;
  limit?: string;
  instance?: string;
  json?: boolean;
}

export interface FindBackupPlan {
  readonly mode: Mode;
  readonly before: Date;
  readonly limit: number;
  /** RDS: the protected instance. */
  readonly instanceId: string | undefined;
  /** Local: the backup folder. */
  readonly dir: string;
  /** Local: validate each listed backup. */
  readonly check: boolean;
  /** RDS: also the point-in-time window. */
  readonly pitr: boolean;
  readonly json: boolean;
  /** RDS: the restore prefix, to tell restored copies apart. */
  readonly restorePrefix: string;
}

/** The plan for `find-backup`: every check of its flags, before it reads anything. */
export function planFindBackup(flags: FindBackupFlags, env: CliContext['env']): FindBackupPlan {
  if (flags.before === undefined) {
    throw new ValidationError('find-backup: --before is required', '--before', {
      hint: 'give the time the damage happened, with its zone, e.g. `npx kb-dr find-backup --before=2026-11-22T14:05:00Z`',
    });
  }
  const before = parseZonedTime(flags.before, '--before');
  const mode = resolveMode('find-backup', flags, 'local');
  if (mode === 'local' && flags.pitr) {
    throw new ValidationError(
      'find-backup: --pitr is the RDS point-in-time window; it needs --rds',
      '--pitr',
      {
        hint: 'e.g. `npx kb-dr find-backup --rds --pitr --before=2026-11-22T14:05:00Z`',
      },
    );
  }
  const limit = flags.limit === undefined ? 5 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new ValidationError(
      `find-backup: --limit ${JSON.stringify(flags.limit)} is not a whole number from 1 to 100`,
      '--limit',
      {
        hint: 'e.g. --limit=10',
      },
    );
  }
  const instanceId = mode === 'rds' ? flags.instance?.trim() || env[ENV.dbInstanceId]?.trim() : undefined;
  if (mode === 'rds' && !instanceId) {
    throw new ValidationError('find-backup --rds: which protected instance?', '--instance', {
      hint: `pass --instance=kb-prod or set ${ENV.dbInstanceId}`,
    });
  }
  if (mode === 'rds' && flags.check) {
    throw new ValidationError(
      'find-backup: --check validates local backup files; it needs --local',
      '--check',
      {
        hint: 'e.g. `npx kb-dr find-backup --before=2026-11-22T14:05:00Z --check`',
      },
    );
  }
  return {
    mode,
    before,
    limit,
    instanceId,
    dir: backupDirOf(flags.dir, env),
    check: flags.check ?? false,
    pitr: flags.pitr ?? false,
    json: flags.json ?? false,
    restorePrefix: restorePrefixOf(env),
  };
}

/** The points as text for a person. */
export function formatRecoveryPoints(
  before: Date,
  points: readonly RecoveryPoint[],
  notes: readonly string[],
): string {
  const lines = [`recovery points before ${before.toISOString()}, newest first:`];
  if (points.length === 0) lines.push('  none');
  points.forEach((p, i) => {
    const counts =
      p.entries !== undefined
        ? `${p.entries} entries, ${p.embeddingCache ?? '?'} embedding_cache rows (${p.counts})`
        : `entries: ${p.counts}`;
    lines.push(
      '',
      `${i + 1}. ${p.kind} ${p.id}`,
      `   holds:    ${p.time} (${p.timeFrom})`,
      `   status:   ${p.status}`,
      `   counts:   ${counts}`,
      ...p.commands.map((c, j) => `   ${j === 0 ? 'use:' : '    '}      ${c}`),
    );
  });
  for (const n of notes) lines.push(`note: ${n}`);
  return `${lines.join('\n')}\n`;
}

export interface FindBackupDeps {
  readonly rds?: RDSClient;
  readonly s3?: S3Client;
  readonly now?: () => Date;
}

export async function runFindBackup(
  ctx: CliContext,
  plan: FindBackupPlan,
  deps: FindBackupDeps = {},
): Promise<number> {
  let points: RecoveryPoint[];
  let notes: string[] = [];
  if (plan.mode === 'local') {
    // Loaded when it runs: `--help` and refused command lines start without it (bench/startup.ts).
    const { findLocalRecoveryPoints } = await import('../local/find-backup');
    points = await findLocalRecoveryPoints({
      dir: plan.dir,
      before: plan.before,
      check: plan.check,
      limit: plan.limit,
      logger: ctx.logger,
    });
    if (points.length === 0) notes.push(`no kb-backup-*.sql.gz taken before that time in ${plan.dir}`);
  } else {
    const bucket = ctx.env[ENV.backupBucket]?.trim() || undefined;
    const { findRdsRecoveryPoints } = await import('../rds/recovery-points');
    const rds = deps.rds ?? new (await import('@aws-sdk/client-rds')).RDSClient({ maxAttempts: 3 });
    const s3 = bucket
      ? (deps.s3 ?? new (await import('@aws-sdk/client-s3')).S3Client({ maxAttempts: 3 }))
      : undefined;
    const found = await findRdsRecoveryPoints({
      rds,
      ...(bucket && s3 ? { s3, bucket } : {}),
      instanceId: plan.instanceId!,
      before: plan.before,
      now: (deps.now ?? (() => new Date()))(),
      pitr: plan.pitr,
      restorePrefix: plan.restorePrefix,
      limit: plan.limit,
    });
    points = found.points;
    notes = found.notes;
  }
  ctx.stdout.write(
    plan.json
      ? `${JSON.stringify({ before: plan.before.toISOString(), source: plan.mode, points, notes }, null, 2)}\n`
      : formatRecoveryPoints(plan.before, points, notes),
  );
  return 0;
}

export function registerFindBackupCommand(
  program: Command,
  ctx: CliContext,
  exit: (code: number) => void,
): void {
  program
    .command('find-backup')
    .description(
      'list the recovery points taken before a time, newest first, with the commands to use them (read-only)',
    )
    .option('--before <time>', 'ISO time with Z or an offset: when the damage happened')
    .option('--local', 'local backups in the backup folder (the default)')
    .option('--rds', 'the kb-dr RDS snapshots of the protected instance')
    .option('--pitr', 'with --rds: also the point-in-time window')
    .option('--instance <id>', 'with --rds: the protected instance (default: $KB_DB_INSTANCE_ID)')
    .option('--dir <path>', 'local backup folder (default: $KB_BACKUP_LOCAL_PATH or ./backups)')
    .option('--check', 'local: validate each listed backup and show its entry counts (reads each file)')
    .option('--limit <n>', 'at most this many points (default 5)')
    .option('--json', 'print JSON for scripts')
    .action(async (flags: FindBackupFlags) => exit(await runFindBackup(ctx, planFindBackup(flags, ctx.env))));
}
