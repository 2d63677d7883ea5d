/**
 * Where a command acts: `--local` (a PostgreSQL server reachable from this machine) or `--rds`
 * (the deployed AWS automation: each command's `rds-<command>.ts` invokes the kb-dr functions).
 */
import { ValidationError } from '../../core/errors';

export type Mode = 'local' | 'rds';

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
