/**
 * Limits and defaults every layer checks against: the CDK config, the stacks and the functions'
 * cold start read them from here, so a range or a default is written once.
 */

/** Backup retention, in whole days. */
export const RETENTION_DAYS = { min: 1, max: 3650, default: 30 } as const;

/** True when `days` is an allowed retention (a whole number within RETENTION_DAYS). */
export function isValidRetentionDays(days: number): boolean {
  return Number.isInteger(days) && days >= RETENTION_DAYS.min && days <= RETENTION_DAYS.max;
}

/** What RETENTION_DAYS allows, in words, for error messages. */
export const RETENTION_DAYS_RULE = `a whole number of days from ${RETENTION_DAYS.min} to ${RETENTION_DAYS.max}`;

/** Prefix every restored instance id carries unless configured otherwise. */
export const DEFAULT_RESTORE_PREFIX = 'kb-restore-';

/** What a restore prefix must look like, in words, for error messages. */
export const RESTORE_PREFIX_RULE = '2-40 letters, digits and single hyphens starting with a letter';

/** True when `prefix` can start an RDS instance id: RESTORE_PREFIX_RULE. */
export function isValidRestorePrefix(prefix: string): boolean {
  return /^[a-zA-Z](?:[a-zA-Z0-9]|-(?!-)){1,39}$/.test(prefix);
}
