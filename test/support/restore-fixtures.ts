/** Fixtures shared by the restore functions' unit tests (mocked SDK answers). */
import { DBInstanceNotFoundFault, DBSnapshotNotFoundFault, type DBInstance } from '@aws-sdk/client-rds';
import {
  MANAGED_BY_TAG,
  PROTECTED_INSTANCE_TAG_KEY,
  RESTORED_FROM_INSTANCE_TAG_KEY,
  RESTORE_STARTED_AT_TAG_KEY,
} from '../../core/naming';
import type { BackupManifest } from '../../core/manifest';
import { INSTANCE, KMS_KEY_ARN, instanceArn } from './aws-fixtures';

export { kbSnapshot } from './aws-fixtures';

export const CONFIG = {
  dbInstanceId: INSTANCE,
  restorePrefix: 'kb-restore-',
  productionInstanceIds: ['kb-prod', 'kb-prod-replica'],
  backupBucket: 'kb-backups-unit',
  kmsKeyArn: KMS_KEY_ARN,
} as const;

export const NOW = new Date('2026-11-22T03:00:00.000Z');

export function instanceNotFound(): DBInstanceNotFoundFault {
  return new DBInstanceNotFoundFault({ message: 'DBInstance not found', $metadata: {} });
}

export function snapshotNotFound(): DBSnapshotNotFoundFault {
  return new DBSnapshotNotFoundFault({ message: 'DBSnapshot not found', $metadata: {} });
}

export function prodInstance(overrides: Partial<DBInstance> = {}): DBInstance {
  return {
    DBInstanceIdentifier: 'kb-prod',
    DBInstanceArn: instanceArn(INSTANCE),
    DBInstanceStatus: 'available',
    DBInstanceClass: 'db.r6g.large',
    DBSubnetGroup: { DBSubnetGroupName: 'kb-db-subnets' },
    VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-0abc', Status: 'active' }],
    DBParameterGroups: [{ DBParameterGroupName: 'kb-pg15' }],
    StorageEncrypted: true,
    KmsKeyId: CONFIG.kmsKeyArn,
    MultiAZ: true,
    PubliclyAccessible: false,
    BackupRetentionPeriod: 7,
    InstanceCreateTime: new Date('2026-01-01T00:00:00Z'),
    LatestRestorableTime: new Date('2026-11-22T02:55:00Z'),
    Endpoint: { Address: 'kb-prod.abc.us-east-1.rds.amazonaws.com', Port: 5432 },
    ...overrides,
  };
}

/** An available kb-dr restore of kb-prod, tagged as restore-snapshot tags it. */
export function restoredInstance(overrides: Partial<DBInstance> = {}, id = 'kb-restore-drill-1'): DBInstance {
  return prodInstance({
    DBInstanceIdentifier: id,
    DBInstanceArn: instanceArn(id),
    Endpoint: { Address: `${id}.abc.us-east-1.rds.amazonaws.com`, Port: 5432 },
    TagList: [
      { Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value },
      { Key: PROTECTED_INSTANCE_TAG_KEY, Value: 'kb-prod' },
      { Key: RESTORED_FROM_INSTANCE_TAG_KEY, Value: 'kb-prod' },
      { Key: RESTORE_STARTED_AT_TAG_KEY, Value: '2026-11-22T02:30:00.000Z' },
    ],
    ...overrides,
  });
}

export function manifest(snapshotId: string, overrides: Partial<BackupManifest> = {}): BackupManifest {
  return {
    version: 1,
    snapshotId,
    dbInstanceId: 'kb-prod',
    trigger: 'scheduled',
    status: 'SUCCEEDED',
    requestedAt: '2026-11-22T02:00:00Z',
    exportTaskId: snapshotId.replace('kb-snapshot-', 'kb-export-'),
    exportSizeBytes: 1000,
    recordedAt: '2026-11-22T02:30:00Z',
    ...overrides,
  };
}

/** A metric sink that records what was added. */
export function metricSink(): {
  add: (def: { name: string }, value: number) => void;
  added: [string, number][];
} {
  const added: [string, number][] = [];
  return { add: (def, value) => void added.push([def.name, value]), added };
}

/** A GetObject body as the manifest store reads it. */
export function s3Body(text: string): never {
  return { transformToString: async () => text } as never;
}
