/**
 * Every AWS request the verify-restore function sends (checked by test/lib/iam-simulation.test.ts).
 * The database login itself (rds-db:connect as kb_verify) is not an SDK request: the simulation
 * test checks it separately, as must-allow and must-deny entries.
 */
import { ARN, readManifest, s3Kms, type AwsRequest, type NotSent } from '../shared/aws-requests';

export const AWS_REQUESTS: readonly AwsRequest[] = [
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose: "the restored instance's endpoint, status and kb-dr tags (what it was restored from)",
    resources: [{ arn: ARN.restoreDb }],
  },
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose: 'the periodic pass lists instances to find available kb-restore-* ones without a record',
    resources: [{ arn: ARN.protectedDb }],
  },
  ...readManifest(),
  {
    command: 'GetObjectCommand',
    action: 's3:GetObject',
    purpose: 'read the stored verification record (idempotency)',
    resources: [{ arn: ARN.verificationObject }],
  },
  {
    command: 'PutObjectCommand',
    action: 's3:PutObject',
    purpose: 'store the verification record',
    resources: [{ arn: ARN.verificationObject }],
  },
  s3Kms('PutObjectCommand', 'kms:GenerateDataKey'),
];

export const NOT_SENT: readonly NotSent[] = [
  {
    command: 'ListTagsForResourceCommand',
    reason: 'restore-common (imported for its MetricSink type); DescribeDBInstances answers the tags',
  },
  {
    command: 'DescribeDBSnapshotsCommand',
    reason: 'rds-snapshots, reached through restore-common; verify-restore reads no snapshot',
  },
  {
    command: 'GetSecretValueCommand',
    reason:
      'sent only with the verifyAuth=secret setting (shared/verify-login); test/lib/constructs/restore-verification.test.ts checks that deployment grants it on the configured secret only',
  },
];
