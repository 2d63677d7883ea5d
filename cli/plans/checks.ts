/**
 * The checks the plan builders share, each written once: which flags go together, what a kb-dr
 * backup name and a restored instance id look like, and which instance is production. Pure: they
 * read the flags and the environment, never AWS.
 */
import { ValidationError } from '../../core/errors';
import { DEFAULT_RESTORE_PREFIX } from '../../core/limits';
import { isKbSnapshotId, isValidDbInstanceId, sameInstanceId } from '../../core/naming';
import { ENV } from '../../lambda/shared/env';

export type Env = Readonly<Record<string, string | undefined>>;

/** `--snapshot-id=latest`: the newest successful kb-dr backup (the functions resolve it). */
export const LATEST = 'latest';

/** `backupFile` → `--backup-file`. */
export function optionName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Refuse the first of `keys` given in `flags`: it does not apply to what the command line asks
 * for (`context`, e.g. "--rds"). A flag silently ignored at 3 a.m. is an operator misled.
 */
export function refuseFlags<F extends object>(
  command: string,
  flags: F,
  keys: readonly (keyof F & string)[],
  context: string,
  hint: string,
): void {
  const given = keys.find((k) => flags[k] !== undefined && flags[k] !== false);
  if (given === undefined) return;
  throw new ValidationError(`${command}: ${optionName(given)} does not apply to ${context}`, given, {
    hint: `remove ${optionName(given)}; ${hint}`,
  });
}

/** The restore prefix the deployment uses ($KB_RESTORE_INSTANCE_PREFIX, default kb-restore-). */
export function restorePrefixOf(env: Env): string {
  return env[ENV.restorePrefix]?.trim() || DEFAULT_RESTORE_PREFIX;
}

/** True for an RDS id with the restore prefix: an instance kb-dr restored (or may restore to). */
export function isRestoredInstanceId(id: string, env: Env): boolean {
  return isValidDbInstanceId(id) && id.toLowerCase().startsWith(restorePrefixOf(env).toLowerCase());
}

/** The production instance: the flag, else $KB_DB_INSTANCE_ID; undefined when neither is set. */
export function productionInstanceOf(flag: string | undefined, env: Env): string | undefined {
  return flag?.trim() || env[ENV.dbInstanceId]?.trim() || undefined;
}

/**
 * A restore target (or the restored instance to promote): a valid RDS id, never production, with
 * the restore prefix. The deployed functions check the same again; this refuses before any call.
 */
export function checkRestoreTargetId(
  command: string,
  option: string,
  id: string,
  production: string | undefined,
  env: Env,
): string {
  const prefix = restorePrefixOf(env);
  const example = `${option}=${prefix}drill-1`;
  if (!isValidDbInstanceId(id)) {
    throw new ValidationError(
      `${command}: ${option}=${JSON.stringify(id)} is not an RDS instance id (1-63 letters, digits and single hyphens, starting with a letter)`,
      option,
      { hint: `e.g. ${example}; nothing was changed` },
    );
  }
  if (sameInstanceId(id, production)) {
    throw new ValidationError(
      `${command}: ${option}=${id} is the production instance: a restore always creates a NEW instance`,
      option,
      {
        hint: `restore to a new instance (e.g. ${example}), then put it behind the production name with --force-production; nothing was changed`,
      },
    );
  }
  if (!isRestoredInstanceId(id, env)) {
    throw new ValidationError(
      `${command}: ${option}=${id} does not start with the restore prefix "${prefix}"`,
      option,
      {
        hint: `e.g. ${example} (a deployment with another prefix: set ${ENV.restorePrefix} to it); nothing was changed`,
      },
    );
  }
  return id;
}

/** `latest` or a kb-dr backup name (kb-snapshot-YYYYMMDD-HHMMSS). */
export function checkSnapshotId(command: string, id: string): string {
  const trimmed = id.trim();
  if (trimmed.toLowerCase() === LATEST || isKbSnapshotId(trimmed)) return trimmed;
  throw new ValidationError(
    `${command}: --snapshot-id=${JSON.stringify(id)} is not "latest" nor a kb-dr backup name (kb-snapshot-YYYYMMDD-HHMMSS)`,
    '--snapshot-id',
    {
      hint: 'e.g. --snapshot-id=latest or --snapshot-id=kb-snapshot-20261122-020000; list them with `npx kb-dr find-backup --rds --before=TIME`',
    },
  );
}

/** A protected instance id given on the command line (--source-instance, --production-instance). */
export function checkInstanceId(command: string, option: string, id: string): string {
  const trimmed = id.trim();
  if (isValidDbInstanceId(trimmed)) return trimmed;
  throw new ValidationError(
    `${command}: ${option}=${JSON.stringify(id)} is not an RDS instance id (1-63 letters, digits and single hyphens, starting with a letter)`,
    option,
    { hint: `e.g. ${option}=kb-prod; nothing was changed` },
  );
}
