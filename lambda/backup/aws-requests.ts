/** Every AWS request the backup function sends (checked by test/lib/iam-simulation.test.ts). */
import {
  ARN,
  MANAGED_BY_CONTEXT,
  readManifest,
  requestTags,
  s3Kms,
  type AwsRequest,
  type NotSent,
} from '../shared/aws-requests';

const snapshotTags = requestTags({
  ...MANAGED_BY_CONTEXT,
  'kb-dr:protected-instance': '{protected}',
  'kb-dr:trigger': 'scheduled',
  'kb-dr:requested-at': '2026-11-22T02:00:00.000Z',
});

export const AWS_REQUESTS: readonly AwsRequest[] = [
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose: 'is the protected instance there, and in a state that can be snapshotted?',
    resources: [{ arn: ARN.protectedDb }],
  },
  {
    command: 'DescribeDBSnapshotsCommand',
    action: 'rds:DescribeDBSnapshots',
    purpose: "does tonight's snapshot exist already (by id; again after a CreateDBSnapshot answer was lost)?",
    resources: [{ arn: ARN.kbSnapshot }],
  },
  {
    command: 'CreateDBSnapshotCommand',
    action: 'rds:CreateDBSnapshot',
    purpose: "tonight's snapshot of the protected instance, tagged on creation",
    resources: [{ arn: ARN.protectedDb }, { arn: ARN.kbSnapshot }],
    context: snapshotTags,
  },
  {
    command: 'CreateDBSnapshotCommand',
    action: 'rds:AddTagsToResource',
    purpose: 'tags passed to a create call are authorized as AddTagsToResource on the new snapshot',
    resources: [{ arn: ARN.kbSnapshot }],
    context: { ...snapshotTags, 'rds:TagsFromRequest': 'true' },
  },
  ...readManifest(),
  {
    command: 'PutObjectCommand',
    action: 's3:PutObject',
    purpose: "record tonight's manifest (If-None-Match)",
    resources: [{ arn: ARN.manifestObject }],
  },
  s3Kms('PutObjectCommand', 'kms:GenerateDataKey'),
  {
    command: 'HeadObjectCommand',
    action: 's3:GetObject',
    purpose: 'does a manifest exist (absent = 404 with ListBucket, denied = 403)?',
    resources: [{ arn: ARN.manifestObject }],
    pending: 'issue 9 point 1 (manifest existence check) may use HeadObject',
  },
  {
    command: 'ListTagsForResourceCommand',
    action: 'rds:ListTagsForResource',
    purpose: 'read the kb-dr tags of a snapshot found after an ambiguous CreateDBSnapshot',
    resources: [{ arn: ARN.kbSnapshot }],
    pending: 'issue 10 (ambiguous outcomes resolved from state)',
  },
];

export const NOT_SENT: readonly NotSent[] = [];
