/** Every AWS request the restore-snapshot function sends (checked by test/lib/iam-simulation.test.ts). */
import {
  ARN,
  MANAGED_BY_CONTEXT,
  rdsKms,
  readManifest,
  requestTags,
  type AwsRequest,
  type NotSent,
} from '../shared/aws-requests';

const restoreTags = requestTags({
  ...MANAGED_BY_CONTEXT,
  'kb-dr:restore-started-at': '2026-11-22T09:00:00.000Z',
  'kb-dr:restored-from-instance': '{protected}',
  'kb-dr:restored-from-snapshot': '{snapshot}',
});

export const AWS_REQUESTS: readonly AwsRequest[] = [
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose: "the source instance's settings to copy",
    resources: [{ arn: ARN.protectedDb }],
  },
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose: 'refuse a target that already exists',
    resources: [{ arn: ARN.restoreDb }],
  },
  {
    command: 'DescribeDBSnapshotsCommand',
    action: 'rds:DescribeDBSnapshots',
    purpose: 'the kb-dr snapshot to restore (by id)',
    resources: [{ arn: ARN.kbSnapshot }],
  },
  {
    command: 'ListTagsForResourceCommand',
    action: 'rds:ListTagsForResource',
    purpose: "the snapshot's tags: is it a kb-dr backup (and tags to copy onto the restore)",
    resources: [{ arn: ARN.kbSnapshot }],
  },
  ...readManifest(),
  {
    command: 'RestoreDBInstanceFromDBSnapshotCommand',
    action: 'rds:RestoreDBInstanceFromDBSnapshot',
    purpose:
      'restore a kb-dr snapshot to a new kb-restore-* instance with the source settings (authorized on the target db, the snapshot and the groups)',
    resources: [
      { arn: ARN.restoreDb },
      { arn: ARN.kbSnapshot, context: { 'rds:snapshot-tag/kb-dr:managed-by': 'kb-dr' } },
      { arn: ARN.parameterGroup },
      { arn: ARN.optionGroup },
      { arn: ARN.subnetGroup },
    ],
    context: restoreTags,
  },
  {
    command: 'RestoreDBInstanceFromDBSnapshotCommand',
    action: 'rds:AddTagsToResource',
    purpose: 'tags passed to a create call are authorized as AddTagsToResource on the new instance',
    resources: [{ arn: ARN.restoreDb }],
    context: { ...restoreTags, 'rds:TagsFromRequest': 'true' },
  },
  ...rdsKms('RestoreDBInstanceFromDBSnapshotCommand'),
  {
    command: 'ListTagsForResourceCommand',
    action: 'rds:ListTagsForResource',
    purpose: "the source instance's tags, merged into the restored instance's",
    resources: [{ arn: ARN.protectedDb }],
    pending: 'issue 9 point 5 (merge the source tags)',
  },
  {
    command: 'ListTagsForResourceCommand',
    action: 'rds:ListTagsForResource',
    purpose: 'an existing kb-restore-* instance: was it made by kb-dr (answer with what exists)',
    resources: [{ arn: ARN.restoreDb }],
    pending: 'issue 10 (ambiguous restore outcome resolved from state)',
  },
];

export const NOT_SENT: readonly NotSent[] = [
  { command: 'PutObjectCommand', reason: 'imports manifest-store to read manifests; never writes one' },
];
