/**
 * How verify-restore reaches a restored instance, read once at cold start. The operations stack
 * sets these variables from the `verify*` deploy settings (lib/config.ts); without the VPC settings
 * it sets `KB_VERIFY_MODE=not-configured` and the function records NOT_CONFIGURED, never a pass.
 */
import { ConfigurationError } from '../../core/errors';
import { requireEnv, type EnvSource } from './env';

export const VERIFY_ENV = {
  mode: 'KB_VERIFY_MODE',
  database: 'KB_VERIFY_DATABASE',
  dbUser: 'KB_VERIFY_DB_USER',
  secretArn: 'KB_VERIFY_SECRET_ARN',
} as const;

/** The runbook section that says how to configure verification (quoted in every NOT_CONFIGURED). */
export const VERIFY_DOCS = 'docs/DISASTER-RECOVERY-RUNBOOK.md#verifying-a-restored-instance';

/** The default read-only login role (exists in production, so in every snapshot). */
export const DEFAULT_VERIFY_DB_USER = 'kb_verify';
export const DEFAULT_VERIFY_DATABASE = 'knowledge_base';

export type VerifySettings =
  | { readonly mode: 'not-configured' }
  | { readonly mode: 'iam'; readonly database: string; readonly dbUser: string }
  | { readonly mode: 'secret'; readonly database: string; readonly secretArn: string };

/** Parse the verification settings; a wrong value fails the cold start naming the variable. */
export function loadVerifySettings(env: EnvSource = process.env): VerifySettings {
  const mode = env[VERIFY_ENV.mode]?.trim() || 'not-configured';
  const database = env[VERIFY_ENV.database]?.trim() || DEFAULT_VERIFY_DATABASE;
  if (mode === 'not-configured') return { mode };
  if (mode === 'iam')
    return { mode, database, dbUser: env[VERIFY_ENV.dbUser]?.trim() || DEFAULT_VERIFY_DB_USER };
  if (mode === 'secret')
    return {
      mode,
      database,
      secretArn: requireEnv(
        env,
        VERIFY_ENV.secretArn,
        'arn:aws:secretsmanager:us-east-1:123456789012:secret:kb-verify-AbCdEf',
      ),
    };
  throw new ConfigurationError(`${VERIFY_ENV.mode}=${mode} is not iam, secret or not-configured`, {
    hint: `e.g. ${VERIFY_ENV.mode}=iam (the operations stack sets it from the verifyAuth setting)`,
  });
}

/**
 * The read-only login role to create once in production (connected to the Knowledge Base database
 * as its owner or the master user); every snapshot then carries it. The runbook quotes this text.
 */
export function verifyRoleSql(
  user: string = DEFAULT_VERIFY_DB_USER,
  database: string = DEFAULT_VERIFY_DATABASE,
): string {
  return [
    `CREATE ROLE ${user} WITH LOGIN;`,
    `GRANT rds_iam TO ${user};`,
    `ALTER ROLE ${user} SET default_transaction_read_only = on;`,
    `GRANT CONNECT ON DATABASE ${database} TO ${user};`,
    `GRANT USAGE ON SCHEMA public TO ${user};`,
    `GRANT SELECT ON public.knowledge_entries, public.embedding_cache TO ${user};`,
  ].join('\n');
}
