/** Every AWS request the validate-backup function sends (checked by test/lib/iam-simulation.test.ts). */
import { ARN, readManifest, s3Kms, type AwsRequest, type NotSent } from '../shared/aws-requests';

export const AWS_REQUESTS: readonly AwsRequest[] = [
  {
    command: 'DescribeDBSnapshotsCommand',
    action: 'rds:DescribeDBSnapshots',
    purpose: 'the backup snapshot exists and is available',
    resources: [{ arn: ARN.kbSnapshot }],
  },
  {
    command: 'ListTagsForResourceCommand',
    action: 'rds:ListTagsForResource',
    purpose: 'the snapshot carries the kb-dr tag',
    resources: [{ arn: ARN.kbSnapshot }],
  },
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose: 'guards shared with the restore functions (instance lookups)',
    resources: [{ arn: ARN.protectedDb }],
  },
  {
    command: 'DescribeExportTasksCommand',
    action: 'rds:DescribeExportTasks',
    purpose:
      'the export task recorded in the manifest is COMPLETE (by ExportTaskIdentifier: names no snapshot)',
    resources: [{ arn: '*' }],
  },
  ...readManifest(),
  {
    command: 'ListObjectsV2Command',
    action: 's3:ListBucket',
    purpose: "list the export's objects",
    resources: [{ arn: ARN.bucket }],
    context: { 's3:prefix': 'exports/{exportTask}/' },
  },
  {
    command: 'HeadObjectCommand',
    action: 's3:GetObject',
    purpose: 'each exported object is encrypted with the backup key',
    resources: [{ arn: ARN.exportObject }],
  },
  {
    command: 'GetObjectCommand',
    action: 's3:GetObject',
    purpose: "read the export's export_tables_info_*.json (both tables exported)",
    resources: [
      {
        arn: 'arn:{partition}:s3:::{bucket}/exports/{exportTask}/export_tables_info_{exportTask}_from_1_to_2.json',
      },
    ],
  },
  {
    command: 'GetObjectCommand',
    action: 's3:GetObject',
    purpose: 'ranged reads of every exported Parquet file footer (readable, row counts)',
    resources: [{ arn: ARN.exportObject }],
  },
  {
    ...s3Kms('GetObjectCommand', 'kms:Decrypt'),
    purpose: 'S3 decrypts an export object (SSE-KMS, backup key)',
  },
];

export const NOT_SENT: readonly NotSent[] = [
  { command: 'PutObjectCommand', reason: 'imports manifest-store to read manifests; never writes one' },
];
