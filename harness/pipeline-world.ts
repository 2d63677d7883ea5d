/**
 * The backup pipeline's world on moto_server, shared by the integration and contract tests and
 * the drill: a protected instance and the functions' configuration. Fresh (cold-start) handler
 * modules under jest come from test/support/pipeline-handlers.ts.
 */
import {
  CreateDBInstanceCommand,
  type CreateDBInstanceCommandInput,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { ENV } from '../lambda/shared/env';

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
