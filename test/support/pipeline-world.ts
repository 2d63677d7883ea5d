/**
 * The backup pipeline's world on moto_server, shared by the integration and contract tests:
 * a protected instance, the functions' configuration, and fresh (cold-start) handler modules.
 */
import {
  CreateDBInstanceCommand,
  type CreateDBInstanceCommandInput,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { handler as BackupHandler } from '../../lambda/backup/index';
import type { handler as ReconcileHandler } from '../../lambda/reconcile/index';
import { ENV } from '../../lambda/shared/env';

export const TEST_KMS_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
export const TEST_EXPORT_ROLE_ARN = 'arn:aws:iam::123456789012:role/kb-dr-export';

/** A PostgreSQL instance with 7 days of automated backups, as the pipeline protects. */
export async function createProtectedInstance(
  rds: RDSClient,
  id: string,
  overrides: Partial<CreateDBInstanceCommandInput> = {},
): Promise<void> {
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: id,
      Engine: 'postgres',
      DBInstanceClass: 'db.t3.micro',
      AllocatedStorage: 20,
      MasterUsername: 'kb',
      MasterUserPassword: 'not-a-secret-1',
      BackupRetentionPeriod: 7,
      ...overrides,
    }),
  );
}

/** The environment the operations stack gives the pipeline functions, for `instance` and `bucket`. */
export function pipelineEnv(instance: string, bucket: string): Record<string, string> {
  return {
    [ENV.dbInstanceId]: instance,
    [ENV.backupBucket]: bucket,
    [ENV.exportRoleArn]: TEST_EXPORT_ROLE_ARN,
    [ENV.kmsKeyArn]: TEST_KMS_KEY_ARN,
    [ENV.retentionDays]: '30',
  };
}

/** Fresh backup and reconcile handler modules: each reads process.env at its cold start. */
export function loadPipelineHandlers(): { backup: typeof BackupHandler; reconcile: typeof ReconcileHandler } {
  let backup!: typeof BackupHandler;
  let reconcile!: typeof ReconcileHandler;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    backup = (require('../../lambda/backup/index') as { handler: typeof BackupHandler }).handler;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    reconcile = (require('../../lambda/reconcile/index') as { handler: typeof ReconcileHandler }).handler;
  });
  return { backup, reconcile };
}
