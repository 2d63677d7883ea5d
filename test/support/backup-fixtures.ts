/** Shared fixtures for the backup pipeline's unit tests (aws-sdk-client-mock). */
import { RDSClient } from '@aws-sdk/client-rds';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { PipelineConfig, PipelineDeps } from '../../lambda/shared/backup-pipeline';
import type { BackupManifest } from '../../core/manifest';
import { MANIFEST_VERSION } from '../../core/manifest';
import { manifestKey } from '../../core/naming';
import { createLogger, createMetrics, type KbMetricStore } from '../../lambda/shared/powertools';
import { EXPORT_ROLE_ARN, INSTANCE, KMS_KEY_ARN } from './aws-fixtures';

// Quiet logs in these suites; tests spy on logger methods to assert what is logged.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

export { ACCOUNT, INSTANCE, kbSnapshot, kbTags } from './aws-fixtures';

export const CONFIG: PipelineConfig = {
  dbInstanceId: INSTANCE,
  backupBucket: 'kb-dr-backups-test',
  exportRoleArn: EXPORT_ROLE_ARN,
  kmsKeyArn: KMS_KEY_ARN,
  retentionDays: 30,
  exportStartDeadlineHours: 6,
};

/** Pipeline dependencies whose metrics are real Powertools metrics (flushed by `flush`). */
export type TestPipelineDeps = PipelineDeps & { readonly metrics: KbMetricStore };

/** Dependencies with real (mockable) clients, real Powertools and a fixed clock. */
export function makeDeps(now: Date, instance = INSTANCE): TestPipelineDeps {
  return {
    rds: new RDSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
    s3: new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
    logger: createLogger('kb-backup-test'),
    metrics: createMetrics('kb-backup-test', instance),
    now: () => now,
  };
}

export function successManifest(snapshotId: string, completedAt: Date): BackupManifest {
  return {
    version: MANIFEST_VERSION,
    snapshotId,
    dbInstanceId: INSTANCE,
    trigger: 'scheduled',
    status: 'SUCCEEDED',
    requestedAt: new Date(completedAt.getTime() - 3_600_000).toISOString(),
    exportCompletedAt: completedAt.toISOString(),
    recordedAt: completedAt.toISOString(),
  };
}

export function failedManifest(snapshotId: string, at: Date): BackupManifest {
  return {
    version: MANIFEST_VERSION,
    snapshotId,
    dbInstanceId: INSTANCE,
    trigger: 'scheduled',
    status: 'FAILED',
    requestedAt: at.toISOString(),
    failure: { stage: 'export', code: 'ExportFailed', message: 'x' },
    recordedAt: at.toISOString(),
  };
}

/** An SDK-shaped service error with the given name (what `awsErrorCode` reads). */
export function awsError(name: string, message = name, status = 400): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status } });
}

function body(text: string): GetObjectCommandOutput['Body'] {
  return { transformToString: async () => text } as unknown as GetObjectCommandOutput['Body'];
}

/** Serve `manifests` from the mocked bucket; any other key is NoSuchKey. */
export function serveManifests(stub: AwsClientStub<S3Client>, manifests: readonly BackupManifest[]): void {
  stub.on(GetObjectCommand).rejects(awsError('NoSuchKey', 'The specified key does not exist.', 404));
  stub.on(ListObjectsV2Command).resolves({
    Contents: manifests.map((m) => ({ Key: manifestKey(m.snapshotId) })),
    IsTruncated: false,
  });
  for (const m of manifests) {
    stub.on(GetObjectCommand, { Key: manifestKey(m.snapshotId) }).resolves({ Body: body(JSON.stringify(m)) });
  }
}

/** Flush what the logic added, as the handlers do (no warning when there is nothing). */
export function flush(deps: TestPipelineDeps): void {
  deps.metrics.flushIfStored();
}

/** The manifest body of a PutObject call, parsed. */
export function putBody(input: { Body?: unknown }): BackupManifest {
  return JSON.parse(String(input.Body)) as BackupManifest;
}
