/** Every AWS request the restore-pitr function sends (checked by test/lib/iam-simulation.test.ts). */
import {
  ARN,
  MANAGED_BY_CONTEXT,
  rdsKms,
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
  'kb-dr:restored-to-time': '2026-11-22T08:30:00Z',
});
/** An existing protected instance carries the tag the stack puts on it. */
const taggedSource = (arn: string) => ({
  arn,
  context: { 'rds:db-tag/kb-dr:protected-instance': '{protected}' },
});
const groups = [{ arn: ARN.parameterGroup }, { arn: ARN.optionGroup }, { arn: ARN.subnetGroup }];

export const AWS_REQUESTS: readonly AwsRequest[] = [
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose: 'the source instance: its restore window and settings to copy',
    resources: [{ arn: ARN.protectedDb }],
  },
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose: 'refuse a target that already exists',
    resources: [{ arn: ARN.restoreDb }],
  },
  {
    command: 'DescribeDBInstanceAutomatedBackupsCommand',
    action: 'rds:DescribeDBInstanceAutomatedBackups',
    purpose: 'the earliest restorable time (DBInstanceIdentifier: authorized on the db)',
    resources: [{ arn: ARN.protectedDb }],
  },
  {
    command: 'RestoreDBInstanceToPointInTimeCommand',
    action: 'rds:RestoreDBInstanceToPointInTime',
    purpose:
      'restore the protected instance to a time, as a new kb-restore-* instance (authorized on the source db, the target db and the groups)',
    resources: [taggedSource(ARN.protectedDb), { arn: ARN.restoreDb }, ...groups],
    context: restoreTags,
  },
  {
    command: 'RestoreDBInstanceToPointInTimeCommand',
    action: 'rds:AddTagsToResource',
    purpose: 'tags passed to a create call are authorized as AddTagsToResource on the new instance',
    resources: [{ arn: ARN.restoreDb }],
    context: { ...restoreTags, 'rds:TagsFromRequest': 'true' },
  },
  ...rdsKms('RestoreDBInstanceToPointInTimeCommand'),
  {
    command: 'RestoreDBInstanceToPointInTimeCommand',
    action: 'rds:RestoreDBInstanceToPointInTime',
    purpose: "after a promotion: PITR of the old history, from production's aside copy",
    resources: [taggedSource(ARN.asideDb), { arn: ARN.restoreDb }, ...groups],
    context: restoreTags,
  },
  {
    command: 'DescribeDBInstanceAutomatedBackupsCommand',
    action: 'rds:DescribeDBInstanceAutomatedBackups',
    purpose: "the restore window of production's aside copy",
    resources: [{ arn: ARN.asideDb }],
  },
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose: "production's aside copy as a PITR source: its window, settings and tags (TagList)",
    resources: [{ arn: ARN.asideDb }],
  },
];

export const NOT_SENT: readonly NotSent[] = [
  {
    command: 'ListTagsForResourceCommand',
    reason:
      "restore-common's snapshotTags (a restore-snapshot helper); PITR reads the source's tags from DescribeDBInstances (TagList)",
  },
  {
    command: 'DescribeDBSnapshotsCommand',
    reason: 'restore-common snapshot helpers; PITR restores from an instance',
  },
  {
    command: 'GetObjectCommand',
    reason: 'restore-common imports manifest-store for restore-snapshot; PITR reads no manifest',
  },
  {
    command: 'ListObjectsV2Command',
    reason: 'restore-common imports manifest-store for restore-snapshot; PITR reads no manifest',
  },
  {
    command: 'PutObjectCommand',
    reason: 'restore-common imports manifest-store; no restore function writes a manifest',
  },
];
