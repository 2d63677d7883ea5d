import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { acknowledgeWildcard, nagArnRef } from '../nag';

export interface WeeklyValidationProps {
  /** The validate-backup function the schedule invokes with `{"snapshotId":"latest"}`. */
  readonly validateBackup: lambda.IFunction;
  /** The protected instance, named in the schedule's description. */
  readonly dbInstanceId: string;
  /** EventBridge Scheduler expression, e.g. `cron(0 6 ? * 2 *)` (KbDrConfig.validationScheduleExpression). */
  readonly scheduleExpression: string;
  /** IANA time zone of the expression, e.g. `UTC` (KbDrConfig.backupTimezone). */
  readonly timeZone: string;
  /**
   * Logical ids to keep for the scheduler role and its policy, for a deployed stack whose role was
   * created elsewhere in the tree (CloudFormation would replace a role whose id changes).
   * @default the ids CDK derives from this construct's path
   */
  readonly pinnedLogicalIds?: { readonly role: string; readonly rolePolicy: string };
}

/**
 * The weekly validation of the latest backup: an EventBridge Scheduler schedule invoking
 * validate-backup with `{"snapshotId":"latest"}`, through a role that may invoke that function only.
 * The schedule's id is `Default`, which CDK leaves out of logical ids: created as
 * RestoreFunctions/WeeklyValidation, it keeps the logical id it had before this construct existed.
 */
export class WeeklyValidation extends Construct {
  readonly schedule: scheduler.Schedule;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: WeeklyValidationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'ValidationSchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'EventBridge Scheduler: invoke the kb-dr validate-backup function',
    });
    acknowledgeWildcard(
      this.role,
      { resource: `${nagArnRef(props.validateBackup)}:*` },
      'lambda:InvokeFunction granted on the validate-backup function and its versions/aliases only (CDK grantInvoke adds the qualifier wildcard)',
    );
    // `Default` is left out of logical ids: the schedule keeps RestoreFunctionsWeeklyValidation<hash>.
    this.schedule = new scheduler.Schedule(this, 'Default', {
      description: `kb-dr weekly validation of the latest backup of ${props.dbInstanceId}`,
      schedule: scheduler.ScheduleExpression.expression(
        props.scheduleExpression,
        TimeZone.of(props.timeZone),
      ),
      target: new targets.LambdaInvoke(props.validateBackup, {
        role: this.role,
        input: scheduler.ScheduleTargetInput.fromObject({ snapshotId: 'latest' }),
        retryAttempts: 2,
        maxEventAge: Duration.hours(6),
      }),
    });
    if (props.pinnedLogicalIds) {
      (this.role.node.defaultChild as iam.CfnRole).overrideLogicalId(props.pinnedLogicalIds.role);
      // The policy exists once the target has granted lambda:InvokeFunction (above).
      const policy = this.role.node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy;
      policy.overrideLogicalId(props.pinnedLogicalIds.rolePolicy);
    }
  }
}
