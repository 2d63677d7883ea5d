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

/** kb-dr's tags merged with the source instance's own (a `team` tag stands for those). */
const restoreTags = requestTags({
  team: 'knowledge',
  ...MANAGED_BY_CONTEXT,
  'kb-dr:restore-started-at': '2026-11-22T09:00:00.000Z',
  'kb-dr:restored-from-instance': '{protected}',
  'kb-dr:protected-instance': '{protected}',
  'kb-dr:restore-request': '0b7c9a52-5f0e-4f7e-9d8a-2f1f3c4d5e6f',
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
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose:
      "a pre-promotion snapshot's instance (production's aside copy): its settings and tags (TagList) to copy",
    resources: [{ arn: ARN.asideDb }],
  },
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose:
      "a restore whose answer was lost: does the target exist with this request's kb-dr:restore-request tag (TagList)",
    resources: [{ arn: ARN.restoreDb }],
  },
];

export const NOT_SENT: readonly NotSent[] = [
  { command: 'PutObjectCommand', reason: 'imports manifest-store to read manifests; never writes one' },
];
