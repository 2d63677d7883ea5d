/** Every AWS request the promote-restore function sends (checked by test/lib/iam-simulation.test.ts). */
import { ARN, type AwsRequest, type NotSent } from '../shared/aws-requests';

export const AWS_REQUESTS: readonly AwsRequest[] = [
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose:
      'production: exists, available, no pending modifications, its encryption; after a lost rename answer, where it is',
    resources: [{ arn: ARN.protectedDb }],
  },
  {
    command: 'DescribeDBInstancesCommand',
    action: 'rds:DescribeDBInstances',
    purpose:
      'the restored instance: exists, available, no pending modifications, its encryption, its kb-dr tags (TagList: made by kb-dr from this production instance)',
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
    command: 'AddTagsToResourceCommand',
    action: 'rds:AddTagsToResource',
    purpose:
      "tag the promoted instance kb-dr:protected-instance=<prod>, so restore-pitr's IAM fence accepts it as a source",
    resources: [{ arn: ARN.protectedDb }],
    context: {
      'aws:RequestTag/kb-dr:protected-instance': '{protected}',
      'aws:TagKeys': ['kb-dr:protected-instance'],
    },
    pending:
      'not sent: since issue 10 every kb-dr restore (snapshot or PITR) carries kb-dr:protected-instance from restore time, so the promoted instance has it; only an instance restored before that needs it added by hand (runbook)',
  },
];

export const NOT_SENT: readonly NotSent[] = [];
