/**
 * The database login verify-restore uses: an IAM authentication token for the read-only role
 * (default), or the username and password of a Secrets Manager secret. Tokens are signed locally
 * (no AWS call) and live 15 minutes: one is made per connection.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { translateAwsError } from './aws-errors';
import type { VerifySettings } from './verify-settings';

/** A database login for one endpoint: the user and its password or IAM token. */
export interface DbLogin {
  readonly user: string;
  readonly password: string | (() => Promise<string>);
}

/** Where the login comes from (IAM token or Secrets Manager secret); may throw when it cannot be read. */
export type LoginSource = (endpoint: { address: string; port: number }) => Promise<DbLogin>;

/** IAM database authentication as `user` (the role must hold rds-db:connect on that db user). */
export function iamLogin(user: string, region?: string): LoginSource {
  return async ({ address, port }) => {
    // Loaded when a connection needs a token, not at cold start: the signer and the credential
    // providers it brings are most of what verify-restore would otherwise evaluate beyond its clients.
    const { Signer } = await import('@aws-sdk/rds-signer');
    const signer = new Signer({ hostname: address, port, username: user, ...(region ? { region } : {}) });
    return { user, password: () => signer.getAuthToken() };
  };
}

/** The login stored in a Secrets Manager secret as RDS writes it: `{"username": ..., "password": ...}`. */
export function secretLogin(sm: SecretsManagerClient, secretArn: string): LoginSource {
  return async () => {
    let text: string | undefined;
    try {
      text = (await sm.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
    } catch (err) {
      throw translateAwsError(err, { operation: `read secret ${secretArn}` });
    }
    let parsed: { username?: unknown; password?: unknown } = {};
    try {
      parsed = JSON.parse(text ?? '') as typeof parsed;
    } catch {
      // reported below
    }
    if (typeof parsed.username !== 'string' || typeof parsed.password !== 'string')
      throw new Error(
        `secret ${secretArn} does not hold a JSON object with string "username" and "password"`,
      );
    return { user: parsed.username, password: parsed.password };
  };
}

/** The login the settings name (the Secrets Manager client is made once, here); none when not configured. */
export function loginFor(settings: VerifySettings): LoginSource {
  if (settings.mode === 'iam') return iamLogin(settings.dbUser);
  if (settings.mode === 'secret')
    return secretLogin(new SecretsManagerClient({ maxAttempts: 5 }), settings.secretArn);
  return () => Promise.reject(new Error('verification is not configured'));
}
