/** Every AWS request the restore-test function sends (checked by test/lib/iam-simulation.test.ts). */
import {
  ARN,
  MANAGED_BY_CONTEXT,
  rdsKms,
  readManifest,
  requestTags,
  s3Kms,
  type AwsRequest,
  type NotSent,
} from '../shared/aws-requests';

/** A test instance as IAM sees it once it exists: its name and the restore-test tag. */
const testInstance = {
  arn: 'arn:{partition}:rds:{region}:{account}:db:{restoreTest}',
  context: { 'rds:db-tag/kb-dr:restore-test': 'kb-dr' },
} as const;

const testTags = requestTags({
  team: 'knowledge',
  ...MANAGED_BY_CONTEXT,
  'kb-dr:restore-started-at': '2026-11-25T04:00:00.000Z',
  'kb-dr:restored-from-instance': '{protected}',
  'kb-dr:protected-instance': '{protected}',
  'kb-dr:restore-request': '0b7c9a52-5f0e-4f7e-9d8a-2f1f3c4d5e6f',
  'kb-dr:restored-from-snapshot': '{snapshot}',
  'kb-dr:restore-test': 'kb-dr',
  'kb-dr:restore-test-kind': 'snapshot',
});

export const AWS_REQUESTS: readonly AwsRequest[] = [
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose:
      'list the kb-restore-* instances (tests in progress, on-call restores of the same backup) and read one test instance',
    resources: [{ arn: 'arn:{partition}:rds:{region}:{account}:db:*' }],
  },
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose: "the source instance's settings to copy onto the test instance",
    resources: [{ arn: ARN.protectedDb }],
  },
  {
    command: 'DescribeDBSnapshotsCommand',
    action: 'rds:DescribeDBSnapshots',
    purpose: 'the latest successful backup (by id from its manifest)',
    resources: [{ arn: ARN.kbSnapshot }],
  },
  {
    command: 'ListTagsForResourceCommand',
    action: 'rds:ListTagsForResource',
    purpose: "the snapshot's tags: is it a kb-dr backup of the protected instance",
    resources: [{ arn: ARN.kbSnapshot }],
  },
  ...readManifest(),
  {
    command: 'RestoreDBInstanceFromDBSnapshotCommand',
    action: 'rds:RestoreDBInstanceFromDBSnapshot',
    purpose: 'restore the latest kb-dr backup to a new kb-restore-test-* instance with test settings',
    resources: [
      { arn: 'arn:{partition}:rds:{region}:{account}:db:{restoreTest}' },
      { arn: ARN.kbSnapshot, context: { 'rds:snapshot-tag/kb-dr:managed-by': 'kb-dr' } },
      { arn: ARN.parameterGroup },
      { arn: ARN.optionGroup },
      { arn: ARN.subnetGroup },
    ],
    context: testTags,
  },
  {
    command: 'RestoreDBInstanceFromDBSnapshotCommand',
    action: 'rds:AddTagsToResource',
    purpose: 'tags passed to a create call are authorized as AddTagsToResource on the new instance',
    resources: [{ arn: 'arn:{partition}:rds:{region}:{account}:db:{restoreTest}' }],
    context: { ...testTags, 'rds:TagsFromRequest': 'true' },
  },
  ...rdsKms('RestoreDBInstanceFromDBSnapshotCommand'),
  {
    command: 'AddTagsToResourceCommand',
    action: 'rds:AddTagsToResource',
    purpose: 'record the time the test instance was first seen available (kb-dr:restore-available-at)',
    resources: [testInstance],
  },
  {
    command: 'DeleteDBInstanceCommand',
    action: 'rds:DeleteDBInstance',
    purpose: 'delete a finished test instance (no final snapshot, automated backups deleted)',
    resources: [testInstance],
  },
  {
    command: 'GetObjectCommand',
    action: 's3:GetObject',
    purpose: 'read the verification record verify-restore wrote for the test instance',
    resources: [{ arn: 'arn:{partition}:s3:::{bucket}/verifications/{restoreTest}.json' }],
  },
  {
    command: 'GetObjectCommand',
    action: 's3:GetObject',
    purpose: 'read restore-test records (written once; the age of the last success)',
    resources: [{ arn: 'arn:{partition}:s3:::{bucket}/restore-tests/{restoreTest}.json' }],
  },
  {
    command: 'ListObjectsV2Command',
    action: 's3:ListBucket',
    purpose: 'list the restore-test records',
    resources: [{ arn: ARN.bucket }],
    context: { 's3:prefix': 'restore-tests/' },
  },
  {
    command: 'PutObjectCommand',
    action: 's3:PutObject',
    purpose: "write a test's record once (If-None-Match: *)",
    resources: [{ arn: 'arn:{partition}:s3:::{bucket}/restore-tests/{restoreTest}.json' }],
  },
  s3Kms('PutObjectCommand', 'kms:GenerateDataKey'),
];

export const NOT_SENT: readonly NotSent[] = [];
