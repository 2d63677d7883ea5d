/**
 * Where a command acts: `--local` (a PostgreSQL server reachable from this machine) or `--rds`
 * (the deployed AWS automation). `--rds` is the extension point for invoking the deployed Lambdas
 * (backup, restore with --pitr / --snapshot-id / --target-instance / --force-production): add an
 * `rds-<command>.ts` module beside each command and dispatch to it where `rdsNotAvailable` is called.
 */
import { KbDrError, ValidationError } from '../../lambda/shared/errors';

export type Mode = 'local' | 'rds';

/** A feature that is designed but not shipped yet. Nothing was changed. */
export class NotAvailableError extends KbDrError {
  override readonly name = 'NotAvailableError';
}

export interface ModeFlags {
  readonly local?: boolean;
  readonly rds?: boolean;
}

/** Exactly one of --local / --rds; `defaultMode` applies when neither is given. */
export function resolveMode(command: string, flags: ModeFlags, defaultMode?: Mode): Mode {
  if (flags.local && flags.rds) {
    throw new ValidationError(`${command}: --local and --rds exclude each other`, 'mode', {
      hint: 'pass one of them',
    });
  }
  if (flags.local) return 'local';
  if (flags.rds) return 'rds';
  if (defaultMode) return defaultMode;
  throw new ValidationError(`${command}: say where to act`, 'mode', {
    hint: `pass --local for a local PostgreSQL (e.g. \`scripts/${command === 'backup' ? 'backup' : 'restore'}-kb.sh --local\`)`,
  });
}

/** The answer `--rds` gives until the Lambda-backed commands land. */
export function rdsNotAvailable(command: string): never {
  throw new NotAvailableError(`\`${command} --rds\` is not available yet in this CLI`, {
    hint: 'use --local for a local database; for RDS, invoke the deployed kb-dr Lambda functions as the runbook describes',
  });
}
