/**
 * The restore-test function's own settings, read once at cold start from the variables the
 * operations stack sets (lib/config.ts validates the same values at synth). A bad value fails the
 * cold start with the variable's name and an example.
 */
import { ConfigurationError } from '../../core/errors';
import { loadRuntimeConfig, type EnvSource, type RuntimeConfig } from '../shared/env';

export const RESTORE_TEST_ENV = {
  instanceClass: 'KB_RESTORE_TEST_INSTANCE_CLASS',
  stuckHours: 'KB_RESTORE_TEST_STUCK_HOURS',
  allowConcurrent: 'KB_RESTORE_TEST_ALLOW_CONCURRENT',
} as const;

/** Defaults shared with lib/config.ts. */
export const RESTORE_TEST_DEFAULTS = {
  instanceClass: 'db.t4g.medium',
  stuckHours: 6,
  allowConcurrent: false,
} as const;

export interface RestoreTestSettings {
  /** Instance class of the test instance. @default 'db.t4g.medium' */
  readonly instanceClass: string;
  /** A test not verified this many hours after its request is a failure. @default 6 */
  readonly stuckHours: number;
  /** Start a test even while another test or an on-call restore of the same backup runs. @default false */
  readonly allowConcurrent: boolean;
}

export type RestoreTestConfig = RuntimeConfig & RestoreTestSettings;

/** True when `value` looks like an RDS instance class (`db.<family>.<size>`). */
export function isInstanceClass(value: string): boolean {
  return /^db\.[a-z0-9]+\.[a-z0-9]+$/.test(value);
}

/** True when `hours` is an allowed stuck limit: 1 to 48 hours. */
export function isValidStuckHours(hours: number): boolean {
  return Number.isFinite(hours) && hours >= 1 && hours <= 48;
}

function bad(name: string, value: string, rule: string, example: string): ConfigurationError {
  return new ConfigurationError(`${name}=${value} ${rule}`, { hint: `e.g. ${name}=${example}` });
}

/** The restore-test settings from `env` (default: process.env) on top of the shared runtime config. */
export function loadRestoreTestConfig(env: EnvSource = process.env): RestoreTestConfig {
  const base = loadRuntimeConfig(env);
  const instanceClass = env[RESTORE_TEST_ENV.instanceClass]?.trim() || RESTORE_TEST_DEFAULTS.instanceClass;
  if (!isInstanceClass(instanceClass))
    throw bad(RESTORE_TEST_ENV.instanceClass, instanceClass, 'is not an RDS instance class', 'db.t4g.medium');
  const stuckRaw = env[RESTORE_TEST_ENV.stuckHours]?.trim() || String(RESTORE_TEST_DEFAULTS.stuckHours);
  const stuckHours = Number(stuckRaw);
  if (!isValidStuckHours(stuckHours))
    throw bad(RESTORE_TEST_ENV.stuckHours, stuckRaw, 'is not a number of hours from 1 to 48', '6');
  const concurrentRaw = env[RESTORE_TEST_ENV.allowConcurrent]?.trim() || 'false';
  if (concurrentRaw !== 'true' && concurrentRaw !== 'false')
    throw bad(RESTORE_TEST_ENV.allowConcurrent, concurrentRaw, 'must be true or false', 'false');
  return { ...base, instanceClass, stuckHours, allowConcurrent: concurrentRaw === 'true' };
}
