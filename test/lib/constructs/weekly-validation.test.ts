/** WeeklyValidation in a bare stack: the schedule, its payload, and a role that may invoke one function. */
import { Duration, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { WeeklyValidation } from '../../../lib/constructs/weekly-validation';
import { bareStack, statementsOfRole, testConfig } from './bare-stack';

function build(pinned?: { role: string; rolePolicy: string }, context: Record<string, string> = {}) {
  const { app, stack } = bareStack();
  const validateBackup = new lambda.Function(stack, 'ValidateBackup', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    timeout: Duration.seconds(5),
  });
  // The fixture function's own findings; WeeklyValidation's must be acknowledged by the construct.
  Validations.of(validateBackup).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'test fixture standing in for validate-backup',
    },
    { id: 'AwsSolutions-L1', reason: 'test fixture standing in for validate-backup' },
  );
  const config = testConfig(context);
  const weekly = new WeeklyValidation(stack, 'WeeklyValidation', {
    validateBackup,
    dbInstanceId: config.dbInstanceId,
    scheduleExpression: config.validationScheduleExpression,
    timeZone: config.backupTimezone,
    ...(pinned ? { pinnedLogicalIds: pinned } : {}),
  });
  return { app, stack, validateBackup, weekly, template: Template.fromStack(stack) };
}

describe('WeeklyValidation', () => {
  const { stack, validateBackup, weekly, template } = build();
  const fnId = stack.getLogicalId(validateBackup.node.defaultChild as lambda.CfnFunction);

  it('validates the latest backup Mondays 06:00 UTC by default (cron "0 6 * * 1"), retrying twice within 6 hours', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 6 ? * 2 *)',
      ScheduleExpressionTimezone: 'UTC',
      Description: 'kb-dr weekly validation of the latest backup of kb-prod',
      Target: {
        Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
        Input: Match.serializedJson({ snapshotId: 'latest' }),
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 6 * 3600 },
        RoleArn: Match.anyValue(),
      },
    });
  });

  it('follows the configured validation schedule and time zone', () => {
    const t = build(undefined, {
      'kb:validationSchedule': '30 7 * * 3',
      'kb:backupTimezone': 'Europe/London',
    }).template;
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 7 ? * 4 *)',
      ScheduleExpressionTimezone: 'Europe/London',
    });
  });

  it('lets the scheduler of this account only assume its role, which may invoke validate-backup and nothing else', () => {
    const roleId = stack.getLogicalId(weekly.role.node.defaultChild as iam.CfnRole);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          },
        ],
      },
    });
    const statements = statementsOfRole(template, roleId);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({
      Action: 'lambda:InvokeFunction',
      Resource: [
        { 'Fn::GetAtt': [fnId, 'Arn'] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [fnId, 'Arn'] }, ':*']] },
      ],
    });
  });

  it('keeps CDK-derived logical ids unless told to pin them, and pins both the role and its policy when told', () => {
    expect(
      Object.keys(template.findResources('AWS::IAM::Role')).some((id) =>
        id.startsWith('WeeklyValidationValidationSchedulerRole'),
      ),
    ).toBe(true);
    const pinned = build({ role: 'PinnedRole', rolePolicy: 'PinnedRolePolicy' }).template;
    expect(Object.keys(pinned.findResources('AWS::IAM::Role'))).toContain('PinnedRole');
    expect(Object.keys(pinned.findResources('AWS::IAM::Policy'))).toEqual(['PinnedRolePolicy']);
    pinned.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ RoleArn: { 'Fn::GetAtt': ['PinnedRole', 'Arn'] } }),
    });
  });

  it('synthesizes with its cdk-nag finding (the invoke qualifier wildcard) acknowledged', () => {
    expect(() => build().app.synth()).not.toThrow();
  });

  it('names the schedule after the construct (its id is Default, left out of logical ids)', () => {
    expect(Object.keys(template.findResources('AWS::Scheduler::Schedule'))).toEqual([
      expect.stringMatching(/^WeeklyValidation[0-9A-F]{8}$/),
    ]);
  });
});
