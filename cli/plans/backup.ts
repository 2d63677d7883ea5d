/** `kb-dr backup` and `kb-dr validate`: the flags become one plan, checked before anything is read or written. */
import { ValidationError } from '../../core/errors';
import { LOCAL_ENV } from '../local/connection';
import { resolveMode } from '../commands/mode';
import { checkSnapshotId, refuseFlags, type Env } from './checks';

export interface BackupFlags {
  local?: boolean;
  rds?: boolean;
  dir?: string;
  prune?: boolean;
  reason?: string;
  yes?: boolean;
}

/** `backup --local [--dir DIR] [--prune]`. */
export interface LocalBackupPlan {
  readonly kind: 'local-backup';
  readonly mode: 'local';
  /** The backup folder: --dir, else $KB_BACKUP_LOCAL_PATH, else ./backups. */
  readonly dir: string;
  readonly prune: boolean;
}

/** `backup --rds [--reason TEXT] [--yes]`: an on-demand snapshot through the backup function. */
export interface RdsBackupPlan {
  readonly kind: 'rds-backup';
  readonly mode: 'rds';
  readonly reason: string;
  readonly yes: boolean;
}

export type BackupPlan = LocalBackupPlan | RdsBackupPlan;

/** The local backup folder: the flag, else $KB_BACKUP_LOCAL_PATH, else ./backups. */
export function backupDirOf(flag: string | undefined, env: Env): string {
  return flag ?? (env[LOCAL_ENV.backupPath]?.trim() || './backups');
}

export function planBackup(flags: BackupFlags, env: Env): BackupPlan {
  if (resolveMode('backup', flags) === 'rds') {
    refuseFlags(
      'backup --rds',
      flags,
      ['dir', 'prune'],
      'an RDS backup (RDS snapshots are kept by the deployed retention)',
      'e.g. `scripts/backup-kb.sh --rds --reason="before the schema migration"`',
    );
    return {
      kind: 'rds-backup',
      mode: 'rds',
      reason: flags.reason?.trim() || 'on-demand backup from the kb-dr CLI',
      yes: flags.yes ?? false,
    };
  }
  refuseFlags(
    'backup --local',
    flags,
    ['reason'],
    'a local backup',
    'e.g. `scripts/backup-kb.sh --local --prune`',
  );
  return {
    kind: 'local-backup',
    mode: 'local',
    dir: backupDirOf(flags.dir, env),
    prune: flags.prune ?? false,
  };
}

export interface ValidateFlags {
  local?: boolean;
  rds?: boolean;
  backupFile?: string;
  snapshotId?: string;
  allowSmall?: boolean;
  trustedFile?: boolean;
}

/** `validate --backup-file=FILE`. */
export interface LocalValidatePlan {
  readonly kind: 'local-validate';
  readonly mode: 'local';
  readonly backupFile: string;
  readonly allowSmall: boolean;
  readonly trustedFile: boolean;
}

/** `validate --snapshot-id=ID`: the validate-backup function's report. */
export interface RdsValidatePlan {
  readonly kind: 'rds-validate';
  readonly mode: 'rds';
  readonly snapshotId: string;
}

export type ValidatePlan = LocalValidatePlan | RdsValidatePlan;

/** `--snapshot-id` names an RDS backup, so it implies --rds. */
export function planValidate(flags: ValidateFlags): ValidatePlan {
  const mode = flags.snapshotId && !flags.local ? 'rds' : resolveMode('validate', flags, 'local');
  if (mode === 'rds') {
    if (!flags.snapshotId || flags.backupFile) {
      throw new ValidationError('validate --rds: pass --snapshot-id=ID (not --backup-file)', 'snapshotId', {
        hint: 'e.g. `scripts/validate-backup.sh --snapshot-id=latest` or `--snapshot-id=kb-snapshot-20261122-020000`',
      });
    }
    refuseFlags(
      'validate --rds',
      flags,
      ['allowSmall', 'trustedFile'],
      'an RDS backup (they concern a local backup file)',
      'e.g. `scripts/validate-backup.sh --snapshot-id=latest`',
    );
    return { kind: 'rds-validate', mode, snapshotId: checkSnapshotId('validate', flags.snapshotId) };
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
  refuseFlags(
    'validate --local',
    flags,
    ['snapshotId'],
    'a local backup file',
    'e.g. `scripts/validate-backup.sh --backup-file=backups/kb-backup-20261122-020000.sql.gz`',
  );
  return {
    kind: 'local-validate',
    mode,
    backupFile: flags.backupFile,
    allowSmall: flags.allowSmall ?? false,
    trustedFile: flags.trustedFile ?? false,
  };
}
