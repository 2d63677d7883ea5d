/**
 * The emulated AWS side of the drill: moto_server on a free loopback port, the protected instance,
 * the backup bucket, and the real Lambda handlers loaded (cold start) with their configuration,
 * exactly as the operations stack would configure them.
 */
import { RDSClient } from '@aws-sdk/client-rds';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ENV } from '../lambda/shared/env';
import { captureEmf, type EmfDocument } from '../harness/emf';
import { startMoto, type MotoServer } from '../harness/moto';
import { createProtectedInstance } from '../harness/pipeline-world';

export const DRILL_PROD_ID = 'kb-prod';
export const DRILL_BUCKET = 'kb-dr-drill-backups';
/** moto accepts any key id for SSE-KMS; validation checks objects carry exactly this one. */
export const DRILL_KMS_KEY_ARN =
  'arn:aws:kms:us-east-1:123456789012:key/0b5e1c7a-kb00-4d12-9e3f-drill0000001';

/** The configuration the drill's functions run with (the variables set below), for verify-restore's logic. */
export const DRILL_FUNCTION_CONFIG = {
  dbInstanceId: DRILL_PROD_ID,
  backupBucket: DRILL_BUCKET,
  kmsKeyArn: DRILL_KMS_KEY_ARN,
  restorePrefix: 'kb-restore-',
  productionInstanceIds: [DRILL_PROD_ID],
};

type Handler = (event: unknown) => Promise<unknown>;

export interface AwsWorld {
  readonly moto: MotoServer;
  readonly rds: RDSClient;
  readonly s3: S3Client;
  readonly handlers: {
    readonly backup: Handler;
    readonly reconcile: Handler;
    readonly restoreSnapshot: Handler;
    readonly restorePitr: Handler;
    readonly restoreStatus: Handler;
    readonly validateBackup: Handler;
  };
  /** Run `fn`, returning its result and the EMF documents the handlers printed meanwhile. */
  captureMetrics<T>(fn: () => Promise<T>): Promise<{ result: T; emf: EmfDocument[] }>;
}

async function loadHandler(path: string): Promise<Handler> {
  const mod = (await import(path)) as { handler: Handler };
  return mod.handler;
}

export async function startAwsWorld(): Promise<AwsWorld> {
  const moto = await startMoto({ applyToProcessEnv: true });
  Object.assign(process.env, {
    // Powertools: print EMF through console.log (captured below), keep logs quiet.
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_METRICS_DISABLED: 'false',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    [ENV.dbInstanceId]: DRILL_PROD_ID,
    [ENV.backupBucket]: DRILL_BUCKET,
    [ENV.kmsKeyArn]: DRILL_KMS_KEY_ARN,
    [ENV.exportRoleArn]: 'arn:aws:iam::123456789012:role/kb-dr-export',
    [ENV.retentionDays]: '30',
    [ENV.productionInstanceIds]: DRILL_PROD_ID,
    [ENV.restorePrefix]: 'kb-restore-',
  });
  const rds = new RDSClient({});
  const s3 = new S3Client({ forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: DRILL_BUCKET }));
  await createProtectedInstance(rds, DRILL_PROD_ID, {
    EngineVersion: '15.8',
    DBInstanceClass: 'db.r6g.large',
    MasterUserPassword: 'drill-only-not-a-secret',
    StorageEncrypted: true,
    KmsKeyId: DRILL_KMS_KEY_ARN,
  });

  // Cold start only now, with the configuration in place (each handler reads it at module load).
  const handlers = {
    backup: await loadHandler('../lambda/backup/index'),
    reconcile: await loadHandler('../lambda/reconcile/index'),
    restoreSnapshot: await loadHandler('../lambda/restore-snapshot/index'),
    restorePitr: await loadHandler('../lambda/restore-pitr/index'),
    restoreStatus: await loadHandler('../lambda/restore-status/index'),
    validateBackup: await loadHandler('../lambda/validate-backup/index'),
  };
  return {
    moto,
    rds,
    s3,
    handlers,
    async captureMetrics(fn) {
      const capture = captureEmf();
      try {
        return { result: await fn(), emf: capture.docs() };
      } finally {
        capture.restore();
      }
    },
  };
}
