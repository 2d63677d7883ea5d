/** Every AWS request the reconcile function sends (checked by test/lib/iam-simulation.test.ts). */
import { ARN, readManifest, requestTags, s3Kms, type AwsRequest, type NotSent } from '../shared/aws-requests';

const kbDrSnapshot = { arn: ARN.kbSnapshot, context: { 'rds:snapshot-tag/kb-dr:managed-by': 'kb-dr' } };

export const AWS_REQUESTS: readonly AwsRequest[] = [
  {
    command: 'DescribeDBSnapshotsCommand',
    action: 'rds:DescribeDBSnapshots',
    purpose:
      "list the account's manual snapshots (no DBInstanceIdentifier: kb-dr's backups are kept by their kb-dr:protected-instance tag, whatever instance name they carry after a promotion)",
    resources: [{ arn: ARN.kbSnapshot }],
  },
  {
    command: 'DescribeDBSnapshotsCommand',
    action: 'rds:DescribeDBSnapshots',
    purpose: 'describe one kb-dr snapshot (event or reconcile of one backup)',
    resources: [{ arn: ARN.kbSnapshot }],
  },
  {
    command: 'DescribeExportTasksCommand',
    action: 'rds:DescribeExportTasks',
    purpose: 'the export tasks of a snapshot (SourceArn)',
    resources: [{ arn: ARN.kbSnapshot }],
  },
  {
    command: 'DescribeExportTasksCommand',
    action: 'rds:DescribeExportTasks',
    purpose: 'one export task by ExportTaskIdentifier (names no snapshot): a lost StartExportTask answer',
    resources: [{ arn: '*' }],
  },
  {
    command: 'StartExportTaskCommand',
    action: 'rds:StartExportTask',
    purpose: 'export an available kb-dr snapshot to the backup bucket',
    resources: [{ arn: ARN.kbSnapshot }],
  },
  {
    command: 'StartExportTaskCommand',
    action: 'iam:PassRole',
    purpose: 'hand the export role to the RDS export service',
    resources: [{ arn: ARN.exportRole }],
    context: { 'iam:PassedToService': 'export.rds.amazonaws.com' },
  },
  {
    command: 'StartExportTaskCommand',
    action: 'kms:CreateGrant',
    purpose: 'StartExportTask: the caller must be able to create a grant on the export key',
    resources: [{ arn: ARN.backupKey }],
  },
  {
    command: 'StartExportTaskCommand',
    action: 'kms:DescribeKey',
    purpose: 'StartExportTask: the caller must be able to describe the export key',
    resources: [{ arn: ARN.backupKey }],
  },
  {
    command: 'AddTagsToResourceCommand',
    action: 'rds:AddTagsToResource',
    purpose: 'record snapshot and export timings on the snapshot',
    resources: [{ arn: ARN.kbSnapshot }],
    context: requestTags({
      'kb-dr:snapshot-available-at': '2026-11-22T02:10:00.000Z',
      'kb-dr:export-started-at': '2026-11-22T02:10:05.000Z',
    }),
  },
  {
    command: 'AddTagsToResourceCommand',
    action: 'rds:AddTagsToResource',
    purpose: 'give a kb-dr snapshot taken before the tag existed its kb-dr:protected-instance tag',
    resources: [{ arn: ARN.kbSnapshot }],
    context: requestTags({ 'kb-dr:protected-instance': '{protected}' }),
  },
  {
    command: 'DeleteDBSnapshotCommand',
    action: 'rds:DeleteDBSnapshot',
    purpose: 'retention: delete an expired kb-dr snapshot (carries the kb-dr tag)',
    resources: [kbDrSnapshot],
  },
  ...readManifest(),
  {
    command: 'PutObjectCommand',
    action: 's3:PutObject',
    purpose: "record a backup's outcome in its manifest",
    resources: [{ arn: ARN.manifestObject }],
  },
  s3Kms('PutObjectCommand', 'kms:GenerateDataKey'),
  {
    command: 'ListObjectsV2Command',
    action: 's3:ListBucket',
    purpose: "size an export: list the export task's objects",
    resources: [{ arn: ARN.bucket }],
    context: { 's3:prefix': 'exports/{exportTask}/' },
  },
  {
    command: 'GetObjectCommand',
    action: 's3:GetObject',
    purpose:
      "a completed export's export_tables_info JSON and ranged reads of its Parquet footers (row counts for the manifest)",
    resources: [{ arn: ARN.exportObject }],
  },
  {
    ...s3Kms('GetObjectCommand', 'kms:Decrypt'),
    purpose: 'S3 decrypts an export object (SSE-KMS, backup key) for the footer reads',
  },
  {
    command: 'ListTagsForResourceCommand',
    action: 'rds:ListTagsForResource',
    purpose: "read a snapshot's kb-dr tags when the describe answer carries none",
    resources: [{ arn: ARN.kbSnapshot }],
    pending: 'issue 9 point 9 / issue 10 (snapshots found by tag)',
  },
  {
    command: 'HeadObjectCommand',
    action: 's3:GetObject',
    purpose: 'does a manifest exist (absent = 404 with ListBucket, denied = 403)?',
    resources: [{ arn: ARN.manifestObject }],
    pending: 'issue 9 point 1 (manifest existence check) may use HeadObject',
  },
];

export const NOT_SENT: readonly NotSent[] = [];
