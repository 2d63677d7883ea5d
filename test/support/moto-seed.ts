/**
 * Seeding helpers for the restore and validation integration tests: a protected instance and
 * kb-dr backups in moto, written where the backup pipeline and RDS would write them (snapshot
 * tagged as kb-dr's, export task, export objects under `exports/<task-id>/`, manifest).
 */
import {
  AddTagsToResourceCommand,
  CreateDBInstanceCommand,
  CreateDBParameterGroupCommand,
  CreateDBSnapshotCommand,
  RDSClient,
  StartExportTaskCommand,
} from '@aws-sdk/client-rds';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ENV } from '../../lambda/shared/env';
import type { BackupManifest } from '../../core/manifest';
import { putManifest } from '../../lambda/shared/manifest-store';
import {
  MANAGED_BY_TAG,
  exportObjectsPrefix,
  exportS3Prefix,
  exportTablesInfoKey,
  exportTaskIdFor,
} from '../../core/naming';
import type { MotoServer } from '../../harness/moto';
import { EXPORT_ROLE_ARN, KMS_KEY_ARN } from './aws-fixtures';

export { KMS_KEY_ARN };

export interface Seeder {
  readonly rds: RDSClient;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly prodId: string;
}

/** Point this process's SDK and the handlers' runtime config at moto. */
export function applyEnv(moto: MotoServer, bucket: string, prodId: string): void {
  Object.assign(process.env, moto.env, {
    [ENV.dbInstanceId]: prodId,
    [ENV.backupBucket]: bucket,
    [ENV.kmsKeyArn]: KMS_KEY_ARN,
    [ENV.exportRoleArn]: EXPORT_ROLE_ARN,
    [ENV.productionInstanceIds]: prodId,
  });
}

export function clients(moto: MotoServer): { rds: RDSClient; s3: S3Client } {
  const common = {
    endpoint: moto.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  return { rds: new RDSClient(common), s3: new S3Client({ ...common, forcePathStyle: true }) };
}

/** The bucket and the protected instance (encrypted, 7 days of automated backups). */
export async function seedProtectedInstance(s: Seeder): Promise<void> {
  await s.s3.send(new CreateBucketCommand({ Bucket: s.bucket }));
  await s.rds.send(
    new CreateDBParameterGroupCommand({
      DBParameterGroupName: `${s.prodId}-pg`,
      DBParameterGroupFamily: 'postgres15',
      Description: 'kb test parameters',
    }),
  );
  await s.rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: s.prodId,
      Engine: 'postgres',
      DBInstanceClass: 'db.r6g.large',
      AllocatedStorage: 20,
      MasterUsername: 'kb',
      MasterUserPassword: 'not-a-real-password',
      StorageEncrypted: true,
      KmsKeyId: KMS_KEY_ARN,
      BackupRetentionPeriod: 7,
      DBParameterGroupName: `${s.prodId}-pg`,
      VpcSecurityGroupIds: ['sg-0kbtest'],
    }),
  );
}

export interface SeedBackupOptions {
  /** Bytes per export object. @default [6000, 4000] */
  readonly objectSizes?: readonly number[];
  readonly status?: 'SUCCEEDED' | 'FAILED';
  /** Tag the snapshot as kb-dr's. @default true */
  readonly managed?: boolean;
  /**
   * The export_tables_info perTableStatus RDS would write. @default both Knowledge Base tables
   * COMPLETE; null: write no export_tables_info file.
   */
  readonly tables?: readonly { target: string; status: string; warningMessage?: string }[] | null;
}

/** Both Knowledge Base tables exported COMPLETE, as RDS lists them in export_tables_info. */
export const KB_TABLES_COMPLETE = [
  { target: 'kb.public.knowledge_entries', status: 'COMPLETE' },
  { target: 'kb.public.embedding_cache', status: 'COMPLETE' },
] as const;

/** A complete kb-dr backup: snapshot, export task, export objects and manifest. */
export async function seedBackup(
  s: Seeder,
  snapshotId: string,
  opts: SeedBackupOptions = {},
): Promise<BackupManifest> {
  const snap = await s.rds.send(
    new CreateDBSnapshotCommand({ DBInstanceIdentifier: s.prodId, DBSnapshotIdentifier: snapshotId }),
  );
  if (opts.managed !== false) {
    await s.rds.send(
      new AddTagsToResourceCommand({
        ResourceName: snap.DBSnapshot?.DBSnapshotArn,
        Tags: [{ Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value }],
      }),
    );
  }
  const exportTaskId = exportTaskIdFor(snapshotId);
  await s.rds.send(
    new StartExportTaskCommand({
      ExportTaskIdentifier: exportTaskId,
      SourceArn: snap.DBSnapshot?.DBSnapshotArn,
      S3BucketName: s.bucket,
      S3Prefix: exportS3Prefix(),
      IamRoleArn: EXPORT_ROLE_ARN,
      KmsKeyId: KMS_KEY_ARN,
    }),
  );
  const sizes = opts.objectSizes ?? [6000, 4000];
  // moto's export writes nothing: put the objects where RDS would, SSE-KMS with our key.
  for (const [i, size] of sizes.entries()) {
    await s.s3.send(
      new PutObjectCommand({
        Bucket: s.bucket,
        Key: exportKey(exportTaskId, i),
        Body: Buffer.alloc(size, 7),
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: KMS_KEY_ARN,
      }),
    );
  }
  if (opts.tables !== null) {
    await s.s3.send(
      new PutObjectCommand({
        Bucket: s.bucket,
        Key: exportTablesInfoKey(exportTaskId, 1, 2),
        Body: JSON.stringify({ perTableStatus: opts.tables ?? KB_TABLES_COMPLETE }),
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: KMS_KEY_ARN,
      }),
    );
  }
  const manifest: BackupManifest = {
    version: 1,
    snapshotId,
    snapshotArn: snap.DBSnapshot?.DBSnapshotArn,
    dbInstanceId: s.prodId,
    trigger: 'scheduled',
    status: opts.status ?? 'SUCCEEDED',
    requestedAt: new Date().toISOString(),
    exportTaskId,
    exportLocation: { bucket: s.bucket, prefix: exportS3Prefix() },
    exportSizeBytes: sizes.reduce((a, b) => a + b, 0),
    kmsKeyId: KMS_KEY_ARN,
    recordedAt: new Date().toISOString(),
  };
  await putManifest({ s3: s.s3, bucket: s.bucket, kmsKeyArn: KMS_KEY_ARN }, manifest);
  return manifest;
}

/** Key of the i-th exported object of a task, laid out as RDS does. */
export function exportKey(exportTaskId: string, i: number): string {
  return `${exportObjectsPrefix(exportTaskId)}kb/public.knowledge_entries/1/part-0000${i}.gz.parquet`;
}
