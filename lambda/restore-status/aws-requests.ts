/** Every AWS request the restore-status function sends (checked by test/lib/iam-simulation.test.ts). */
import { ARN, requestTags, s3Kms, type AwsRequest, type NotSent } from '../shared/aws-requests';

export const AWS_REQUESTS: readonly AwsRequest[] = [
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose: 'the status of a kb-restore-* instance',
    resources: [{ arn: ARN.restoreDb }],
  },
  {
    command: 'AddTagsToResourceCommand',
    action: 'rds:AddTagsToResource',
    purpose: 'record when the restored instance became available (stops the RTO clock)',
    resources: [{ arn: ARN.restoreDb }],
    context: requestTags({ 'kb-dr:restore-available-at': '2026-11-22T09:40:00.000Z' }),
  },
  {
    command: 'GetObjectCommand',
    action: 's3:GetObject',
    purpose: "report the restore's data verification (verify-restore's record)",
    resources: [{ arn: ARN.verificationObject }],
  },
  {
    command: 'GetObjectCommand',
    action: 's3:ListBucket',
    purpose: 'S3 answers 404 for a record not written yet only to a caller with s3:ListBucket, else 403',
    resources: [{ arn: ARN.bucket }],
  },
  s3Kms('GetObjectCommand', 'kms:Decrypt'),
  {
    command: 'ListTagsForResourceCommand',
    action: 'rds:ListTagsForResource',
    purpose: 'where the restored instance came from (promoteEvent only for a restore of production)',
    resources: [{ arn: ARN.restoreDb }],
    pending: 'issue 10 (promotion provenance); the describe answer carries TagList today',
  },
];

export const NOT_SENT: readonly NotSent[] = [
  {
    command: 'ListTagsForResourceCommand',
    reason:
      "restore-common's snapshotTags (a restore-snapshot helper); restore-status sends it for provenance once issue 10 lands (pending above)",
  },
  {
    command: 'DescribeDBSnapshotsCommand',
    reason: 'restore-common snapshot helpers; restore-status reads instances only',
  },
  {
    command: 'ListObjectsV2Command',
    reason: 'restore-common imports manifest-store; restore-status reads no manifest',
  },
  {
    command: 'PutObjectCommand',
    reason: 'restore-common imports manifest-store; restore-status writes no manifest',
  },
];
