/**
 * `kb-dr restore`: the flags become one plan (a local restore, a rollback, a snapshot restore, a
 * point-in-time restore, or a promotion), checked completely before anything is touched. The run
 * functions consume the plan only.
 */
import { ValidationError } from '../../core/errors';
import { ENV } from '../../lambda/shared/env';
import { parseZonedTime } from '../local/recovery-selection';
import { resolveMode } from '../commands/mode';
import {
  LATEST,
  checkInstanceId,
  checkRestoreTargetId,
  checkSnapshotId,
  productionInstanceOf,
  refuseFlags,
  type Env,
} from './checks';

/** The options commander gives `restore` (every one optional, as typed). */
export interface RestoreFlags {
  local?: boolean;
  rds?: boolean;
  backupFile?: string;
  rollback?: boolean;
  yes?: boolean;
  allowSmall?: boolean;
  trustedFile?: boolean;
  portable?: boolean;
  pitr?: boolean;
  snapshotId?: string;
  targetTime?: string;
  targetInstance?: string;
  sourceInstance?: string;
  forceProduction?: boolean;
  productionInstance?: string;
  /** With --force-production: the reason to promote a copy not encrypted like production. */
  allowEncryptionMismatch?: string;
}

/** `restore --local --backup-file=FILE`. */
export interface LocalRestorePlan {
  readonly kind: 'local-restore';
  readonly mode: 'local';
  readonly backupFile: string;
  readonly yes: boolean;
  readonly allowSmall: boolean;
  readonly trustedFile: boolean;
  readonly portable: boolean;
}

/** `restore --local --rollback`. */
export interface RollbackPlan {
  readonly kind: 'rollback';
  readonly mode: 'local';
  readonly yes: boolean;
}

/** `--force-production`: put the restored instance behind the production name afterwards. */
export interface PromoteStep {
  readonly productionInstanceId: string;
  /** The operator's reason to promote a copy not encrypted like production (trimmed, non-empty). */
  readonly allowEncryptionMismatch?: string;
}

/** `restore --rds --snapshot-id=ID --target-instance=ID [--force-production]`. */
export interface SnapshotRestorePlan {
  readonly kind: 'snapshot-restore';
  readonly mode: 'rds';
  /** `latest` or a kb-snapshot-* id. */
  readonly snapshotId: string;
  readonly targetInstanceId: string;
  readonly sourceInstanceId?: string;
  readonly promote?: PromoteStep;
  readonly yes: boolean;
}

/** `restore --pitr --target-time=T --target-instance=ID [--force-production]`. */
export interface PitrRestorePlan {
  readonly kind: 'pitr-restore';
  readonly mode: 'rds';
  /** `latest`, or the time as typed (checked: a zone, a real calendar date). */
  readonly targetTime: string;
  readonly targetInstanceId: string;
  readonly sourceInstanceId?: string;
  readonly promote?: PromoteStep;
  readonly yes: boolean;
}

/** `restore --rds --force-production --target-instance=ID`: promote an instance already restored. */
export interface PromotePlan {
  readonly kind: 'promote';
  readonly mode: 'rds';
  readonly restoredInstanceId: string;
  readonly promote: PromoteStep;
  readonly yes: boolean;
}

export type RdsRestorePlan = SnapshotRestorePlan | PitrRestorePlan | PromotePlan;
export type RestorePlan = LocalRestorePlan | RollbackPlan | RdsRestorePlan;

const RDS_EXAMPLES = [
  '`scripts/restore-kb.sh --rds --snapshot-id=latest --target-instance=kb-restore-drill-1`',
  '`scripts/restore-kb.sh --pitr --target-time=2026-11-22T01:30:00Z --target-instance=kb-restore-pitr-1`',
  '`scripts/restore-kb.sh --rds --force-production --target-instance=kb-restore-drill-1`',
].join(', ');

const LOCAL_EXAMPLE =
  '`scripts/restore-kb.sh --local --backup-file=backups/kb-backup-20261122-020000.sql.gz`';

const LOCAL_ONLY = ['backupFile', 'rollback', 'allowSmall', 'trustedFile', 'portable'] as const;
const RDS_ONLY = [
  'snapshotId',
  'targetTime',
  'targetInstance',
  'sourceInstance',
  'forceProduction',
  'productionInstance',
  'allowEncryptionMismatch',
] as const;

/** The plan for `kb-dr restore` with these flags; throws a ValidationError (exit 2) before any effect. */
export function planRestore(flags: RestoreFlags, env: Env): RestorePlan {
  if (flags.pitr && flags.local) {
    throw new ValidationError('restore: --pitr restores the RDS instance; it excludes --local', 'pitr', {
      hint: 'e.g. `scripts/restore-kb.sh --pitr --target-time=2026-11-22T01:30:00Z --target-instance=kb-restore-pitr-1`',
    });
  }
  // --pitr is always an RDS restore.
  if (flags.pitr || resolveMode('restore', flags) === 'rds') return planRdsRestore(flags, env);
  refuseFlags('restore --local', flags, RDS_ONLY, 'a local restore', `e.g. ${LOCAL_EXAMPLE}`);
  if (Boolean(flags.backupFile) === Boolean(flags.rollback)) {
    throw new ValidationError('restore: pass either --backup-file=FILE or --rollback', 'backupFile', {
      hint: `e.g. ${LOCAL_EXAMPLE}`,
    });
  }
  const yes = flags.yes ?? false;
  if (flags.rollback) {
    refuseFlags(
      'restore --rollback',
      flags,
      ['allowSmall', 'trustedFile', 'portable'],
      'a rollback (it loads no backup file)',
      'e.g. `scripts/restore-kb.sh --local --rollback`',
    );
    return { kind: 'rollback', mode: 'local', yes };
  }
  return {
    kind: 'local-restore',
    mode: 'local',
    backupFile: flags.backupFile!,
    yes,
    allowSmall: flags.allowSmall ?? false,
    trustedFile: flags.trustedFile ?? false,
    portable: flags.portable ?? false,
  };
}

function planRdsRestore(flags: RestoreFlags, env: Env): RdsRestorePlan {
  refuseFlags('restore --rds', flags, LOCAL_ONLY, 'an RDS restore', `e.g. ${RDS_EXAMPLES}`);
  const target = flags.targetInstance?.trim();
  if (!target) {
    throw new ValidationError('restore --rds: --target-instance is required', 'targetInstance', {
      hint: `e.g. ${RDS_EXAMPLES}`,
    });
  }
  if (flags.pitr && flags.snapshotId) {
    throw new ValidationError('restore: --pitr and --snapshot-id exclude each other', 'pitr', {
      hint: `e.g. ${RDS_EXAMPLES}`,
    });
  }
  if (flags.pitr && !flags.targetTime) {
    throw new ValidationError(
      'restore --pitr: --target-time is required (with Z or an offset)',
      'targetTime',
      {
        hint: 'e.g. --target-time=2026-11-22T01:30:00Z or --target-time=latest',
      },
    );
  }
  if (!flags.pitr && flags.targetTime !== undefined) {
    throw new ValidationError(
      'restore: --target-time is the point in time of a --pitr restore',
      'targetTime',
      { hint: `add --pitr (and remove --snapshot-id), or remove --target-time; e.g. ${RDS_EXAMPLES}` },
    );
  }
  const restoring = Boolean(flags.pitr || flags.snapshotId);
  if (!restoring && !flags.forceProduction) {
    throw new ValidationError(
      'restore --rds: say what to restore: --snapshot-id=ID, --pitr, or --force-production',
      'snapshotId',
      {
        hint: `e.g. ${RDS_EXAMPLES}`,
      },
    );
  }
  const promote = promoteStep(flags, env);
  const production = promote?.productionInstanceId ?? productionInstanceOf(undefined, env);
  const targetInstanceId = checkRestoreTargetId('restore', '--target-instance', target, production, env);
  const sourceInstanceId =
    flags.sourceInstance === undefined
      ? undefined
      : checkInstanceId('restore', '--source-instance', flags.sourceInstance);
  const yes = flags.yes ?? false;
  const common = {
    mode: 'rds' as const,
    targetInstanceId,
    ...(sourceInstanceId ? { sourceInstanceId } : {}),
    ...(promote ? { promote } : {}),
    yes,
  };
  if (flags.pitr) {
    const targetTime = flags.targetTime!.trim();
    if (targetTime.toLowerCase() !== LATEST) parseZonedTime(targetTime, '--target-time');
    return { kind: 'pitr-restore', targetTime, ...common };
  }
  if (flags.snapshotId !== undefined) {
    return { kind: 'snapshot-restore', snapshotId: checkSnapshotId('restore', flags.snapshotId), ...common };
  }
  if (flags.sourceInstance !== undefined) {
    throw new ValidationError(
      'restore: --source-instance names the instance a backup is of; a promotion restores nothing',
      'sourceInstance',
      { hint: `remove it, or add --snapshot-id or --pitr; e.g. ${RDS_EXAMPLES}` },
    );
  }
  return { kind: 'promote', mode: 'rds', restoredInstanceId: targetInstanceId, promote: promote!, yes };
}

function promoteStep(flags: RestoreFlags, env: Env): PromoteStep | undefined {
  if (!flags.forceProduction) {
    if (flags.productionInstance !== undefined) {
      throw new ValidationError(
        'restore: --production-instance only applies to a promotion (--force-production)',
        'productionInstance',
        { hint: `remove it, or add --force-production; e.g. ${RDS_EXAMPLES}` },
      );
    }
    if (flags.allowEncryptionMismatch !== undefined) {
      throw new ValidationError(
        'restore: --allow-encryption-mismatch only applies to a promotion (--force-production)',
        'allowEncryptionMismatch',
        { hint: `remove it, or add --force-production; e.g. ${RDS_EXAMPLES}` },
      );
    }
    return undefined;
  }
  const production = productionInstanceOf(flags.productionInstance, env);
  if (!production) {
    throw new ValidationError(
      'restore --force-production: which production instance?',
      'productionInstance',
      {
        hint: `pass --production-instance=kb-prod or set ${ENV.dbInstanceId}`,
      },
    );
  }
  const productionInstanceId = checkInstanceId('restore', '--production-instance', production);
  if (flags.allowEncryptionMismatch === undefined) return { productionInstanceId };
  const reason = flags.allowEncryptionMismatch.trim();
  if (!reason) {
    throw new ValidationError(
      'restore --force-production: --allow-encryption-mismatch needs a reason',
      'allowEncryptionMismatch',
      {
        hint: 'e.g. --allow-encryption-mismatch="production key was deleted; approved by J. Doe"',
      },
    );
  }
  return { productionInstanceId, allowEncryptionMismatch: reason };
}
