/**
 * The checks `restore --rds/--pitr` makes on its flags, apart from the RDS command itself so a
 * local restore can run them without loading the AWS SDK.
 */
import { ValidationError } from '../../core/errors';
import { ENV } from '../../lambda/shared/env';
import type { CliContext } from '../shared/context';

export interface RdsRestoreFlags {
  pitr?: boolean;
  snapshotId?: string;
  targetTime?: string;
  targetInstance?: string;
  sourceInstance?: string;
  forceProduction?: boolean;
  productionInstance?: string;
  /** With --force-production: the reason to promote a copy not encrypted like production. */
  allowEncryptionMismatch?: string;
  yes?: boolean;
}

const EXAMPLES = [
  '`scripts/restore-kb.sh --rds --snapshot-id=latest --target-instance=kb-restore-drill-1`',
  '`scripts/restore-kb.sh --pitr --target-time=2026-11-22T01:30:00Z --target-instance=kb-restore-pitr-1`',
  '`scripts/restore-kb.sh --rds --force-production --target-instance=kb-restore-drill-1`',
].join(', ');

/**
 * The checks `restore --rds/--pitr` makes on its flags before any AWS call: returns the target
 * instance and, with --force-production, the production instance (flag, else $KB_DB_INSTANCE_ID).
 */
export function checkRdsRestoreFlags(
  flags: RdsRestoreFlags,
  env: CliContext['env'],
): { target: string; production: string | undefined } {
  const target = flags.targetInstance?.trim();
  if (!target) {
    throw new ValidationError('restore --rds: --target-instance is required', 'targetInstance', {
      hint: `e.g. ${EXAMPLES}`,
    });
  }
  if (flags.pitr && flags.snapshotId) {
    throw new ValidationError('restore: --pitr and --snapshot-id exclude each other', 'pitr', {
      hint: `e.g. ${EXAMPLES}`,
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
  const restoring = Boolean(flags.pitr || flags.snapshotId);
  if (!restoring && !flags.forceProduction) {
    throw new ValidationError(
      'restore --rds: say what to restore: --snapshot-id=ID, --pitr, or --force-production',
      'snapshotId',
      {
        hint: `e.g. ${EXAMPLES}`,
      },
    );
  }
  const production = flags.forceProduction
    ? flags.productionInstance?.trim() || env[ENV.dbInstanceId]?.trim()
    : undefined;
  if (flags.forceProduction && !production) {
    throw new ValidationError(
      'restore --force-production: which production instance?',
      'productionInstance',
      {
        hint: `pass --production-instance=kb-prod or set ${ENV.dbInstanceId}`,
      },
    );
  }
  if (flags.allowEncryptionMismatch !== undefined) {
    if (!flags.forceProduction) {
      throw new ValidationError(
        'restore: --allow-encryption-mismatch only applies to a promotion (--force-production)',
        'allowEncryptionMismatch',
        { hint: `remove it, or add --force-production; e.g. ${EXAMPLES}` },
      );
    }
    if (!flags.allowEncryptionMismatch.trim()) {
      throw new ValidationError(
        'restore --force-production: --allow-encryption-mismatch needs a reason',
        'allowEncryptionMismatch',
        {
          hint: 'e.g. --allow-encryption-mismatch="production key was deleted; approved by J. Doe"',
        },
      );
    }
  }
  return { target, production };
}
