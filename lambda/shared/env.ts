/**
 * Runtime configuration of the Lambda functions, read once at cold start from environment
 * variables the operations stack sets. The variable names are exported so the stack uses the
 * same constants. A missing or invalid value fails the cold start with the variable's name and
 * an example of a valid value.
 */
import { ConfigurationError } from '../../core/errors';
import {
  DEFAULT_RESTORE_PREFIX,
  isValidRetentionDays,
  RETENTION_DAYS,
  RETENTION_DAYS_RULE,
} from '../../core/limits';
import { isValidDbInstanceId, normaliseInstanceId } from '../../core/naming';

export const ENV = {
  dbInstanceId: 'KB_DB_INSTANCE_ID',
  backupBucket: 'KB_BACKUP_BUCKET',
  exportRoleArn: 'KB_EXPORT_ROLE_ARN',
  kmsKeyArn: 'KB_KMS_KEY_ARN',
  retentionDays: 'KB_BACKUP_RETENTION_DAYS',
  restorePrefix: 'KB_RESTORE_INSTANCE_PREFIX',
  productionInstanceIds: 'KB_PRODUCTION_INSTANCE_IDS',
} as const;

export type EnvSource = Readonly<Record<string, string | undefined>>;

/** A required variable, or a ConfigurationError naming it with an example. */
export function requireEnv(env: EnvSource, name: string, example: string): string {
  const value = env[name]?.trim();
  if (!value) {
    throw new ConfigurationError(`environment variable ${name} is not set`, {
      hint: `set it, e.g. ${name}=${example} (the operations stack sets it on deploy)`,
    });
  }
  return value;
}

/** Runtime settings shared by the backup and restore functions. */
export interface RuntimeConfig {
  readonly dbInstanceId: string;
  readonly backupBucket: string;
  readonly exportRoleArn: string;
  readonly kmsKeyArn: string;
  readonly retentionDays: number;
  readonly restorePrefix: string;
  readonly productionInstanceIds: readonly string[];
}

/** Parse and validate the runtime configuration from `env` (default: process.env). */
export function loadRuntimeConfig(env: EnvSource = process.env): RuntimeConfig {
  // RDS stores identifiers lower case; a mixed-case setting would miss every comparison.
  const dbInstanceId = normaliseInstanceId(requireEnv(env, ENV.dbInstanceId, 'kb-prod'));
  if (!isValidDbInstanceId(dbInstanceId)) {
    throw new ConfigurationError(
      `${ENV.dbInstanceId}=${dbInstanceId} is not a valid RDS instance identifier`,
      {
        hint: `use 1-63 letters, digits and single hyphens starting with a letter, e.g. ${ENV.dbInstanceId}=kb-prod`,
      },
    );
  }
  const retentionRaw = env[ENV.retentionDays]?.trim() || String(RETENTION_DAYS.default);
  const retentionDays = Number(retentionRaw);
  if (!isValidRetentionDays(retentionDays)) {
    throw new ConfigurationError(`${ENV.retentionDays}=${retentionRaw} is not ${RETENTION_DAYS_RULE}`, {
      hint: `e.g. ${ENV.retentionDays}=${RETENTION_DAYS.default}`,
    });
  }
  const restorePrefix = env[ENV.restorePrefix]?.trim() || DEFAULT_RESTORE_PREFIX;
  const productionInstanceIds = (env[ENV.productionInstanceIds] ?? '')
    .split(',')
    .map((s) => normaliseInstanceId(s))
    .filter(Boolean);
  return {
    dbInstanceId,
    backupBucket: requireEnv(env, ENV.backupBucket, 'kb-dr-storage-backupbucket-abc123'),
    exportRoleArn: requireEnv(env, ENV.exportRoleArn, 'arn:aws:iam::123456789012:role/kb-dr-export'),
    kmsKeyArn: requireEnv(
      env,
      ENV.kmsKeyArn,
      'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    ),
    retentionDays,
    restorePrefix,
    productionInstanceIds: productionInstanceIds.length > 0 ? productionInstanceIds : [dbInstanceId],
  };
}
