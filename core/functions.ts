/**
 * The function catalog: every kb-dr Lambda function by its folder under `lambda/`, and the rule
 * that gives a deployed function its name. CDK, the CLI, the drill and the tests read it here.
 */

/** The backup pipeline's functions (scheduled and event-driven). */
export const PIPELINE_FUNCTIONS = ['backup', 'reconcile'] as const;

/** The on-call functions: restores, their status, validation and promotion. */
export const RESTORE_FUNCTIONS = [
  'restore-snapshot',
  'restore-pitr',
  'restore-status',
  'validate-backup',
  'promote-restore',
] as const;

/** The scheduled restore test: restores the latest backup to a test instance, records, deletes it. */
export const RESTORE_TEST_FUNCTIONS = ['restore-test'] as const;

/** The verification of restored instances (event-driven, periodic backstop, console). */
export const VERIFY_FUNCTIONS = ['verify-restore'] as const;

export const FUNCTIONS = [
  ...PIPELINE_FUNCTIONS,
  ...RESTORE_FUNCTIONS,
  ...VERIFY_FUNCTIONS,
  ...RESTORE_TEST_FUNCTIONS,
] as const;

export type PipelineFunction = (typeof PIPELINE_FUNCTIONS)[number];
export type RestoreFunction = (typeof RESTORE_FUNCTIONS)[number];
export type VerifyFunction = (typeof VERIFY_FUNCTIONS)[number];
export type KbFunctionName = (typeof FUNCTIONS)[number];

/** The default of the deploy setting `functionNamePrefix` (and the CLI's `KB_FUNCTION_PREFIX`). */
export const DEFAULT_FUNCTION_PREFIX = 'kb-dr';

/** The deployed name of a function with a stable name: `<prefix>-<name>`, e.g. `kb-dr-restore-pitr`. */
export function deployedFunctionName(prefix: string, fn: KbFunctionName): string {
  return `${prefix}-${fn}`;
}

/** The Powertools service name of a function (logs and EMF): `kb-<name>`, as the construct sets it. */
export function serviceNameOf(fn: string): string {
  return `kb-${fn}`;
}
