import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { KbDrConfig } from '../config';
import { ENV } from '../../lambda/shared/env';

/** The stateful resources the operations side works with, handed over from the storage stack. */
export interface StorageResources {
  readonly backupBucket: s3.IBucket;
  readonly backupKey: kms.IKey;
  readonly exportRole: iam.IRole;
  readonly backupLogGroup: logs.ILogGroup;
  readonly restoreLogGroup: logs.ILogGroup;
}

/** The environment every kb-dr function reads with `loadRuntimeConfig()` (names from lambda/shared/env.ts). */
export function runtimeEnvironment(config: KbDrConfig, storage: StorageResources): Record<string, string> {
  return {
    [ENV.dbInstanceId]: config.dbInstanceId,
    [ENV.backupBucket]: storage.backupBucket.bucketName,
    [ENV.exportRoleArn]: storage.exportRole.roleArn,
    [ENV.kmsKeyArn]: storage.backupKey.keyArn,
    [ENV.retentionDays]: String(config.backupRetentionDays),
    [ENV.restorePrefix]: config.restoreInstancePrefix,
    [ENV.productionInstanceIds]: config.productionInstanceIds.join(','),
  };
}
