/** Every AWS request the promote-restore function sends (checked by test/lib/iam-simulation.test.ts). */
import { ARN, type AwsRequest, type NotSent } from '../shared/aws-requests';

export const AWS_REQUESTS: readonly AwsRequest[] = [
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose: 'production: exists, available, its settings',
    resources: [{ arn: ARN.protectedDb }],
  },
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose: 'the restored instance: exists, available',
    resources: [{ arn: ARN.restoreDb }],
  },
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose: 'is the aside name free; wait for the first rename',
    resources: [{ arn: ARN.asideDb }],
  },
  {
    command: 'ModifyDBInstanceCommand',
    action: 'rds:ModifyDBInstance',
    purpose: 'rename production aside (<prod>-pre-promote-<time>)',
    resources: [{ arn: ARN.protectedDb }],
  },
  {
    command: 'ModifyDBInstanceCommand',
    action: 'rds:ModifyDBInstance',
    purpose: 'rename the restored instance into the production name',
    resources: [{ arn: ARN.restoreDb }],
  },
  {
    command: 'ModifyDBInstanceCommand',
    action: 'rds:ModifyDBInstance',
    purpose: 'roll back: rename the aside copy back to the production name',
    resources: [{ arn: ARN.asideDb }],
  },
  {
    command: 'ListTagsForResourceCommand',
    action: 'rds:ListTagsForResource',
    purpose: 'provenance: the restored instance was made by kb-dr from this production instance',
    resources: [{ arn: ARN.restoreDb }],
    pending: 'issue 10 (promotion provenance)',
  },
  {
    command: 'ListTagsForResourceCommand',
    action: 'rds:ListTagsForResource',
    purpose: "production's tags, compared with the restored instance's",
    resources: [{ arn: ARN.protectedDb }],
    pending: 'issue 10 (promotion provenance)',
  },
  {
    command: 'AddTagsToResourceCommand',
    action: 'rds:AddTagsToResource',
    purpose:
      "tag the promoted instance kb-dr:protected-instance=<prod>, so restore-pitr's IAM fence accepts it as a source",
    resources: [{ arn: ARN.protectedDb }],
    context: {
      'aws:RequestTag/kb-dr:protected-instance': '{protected}',
      'aws:TagKeys': ['kb-dr:protected-instance'],
    },
    pending: 'follow-up of issue 9 point 3 (a promoted snapshot restore does not carry the tag)',
  },
];

export const NOT_SENT: readonly NotSent[] = [];
