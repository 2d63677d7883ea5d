import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import type { KbDrConfig } from '../config';
import { acknowledgeWildcard, nagArnRef } from '../nag';
import { KbFunction } from './kb-function';
import { runtimeEnvironment, type StorageResources } from './storage-resources';

export interface BackupPipelineProps {
  readonly config: KbDrConfig;
  readonly storage: StorageResources;
}

/**
 * The nightly backup: the backup function and the EventBridge Scheduler schedule that invokes it
 * in the configured time zone. The scheduled time travels in the event (`time`), so a retried
 * delivery names the same snapshot.
 */
export class BackupPipeline extends Construct {
  readonly backupFunction: KbFunction;
  readonly nightlySchedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: BackupPipelineProps) {
    super(scope, id);
    const { config, storage } = props;

    this.backupFunction = new KbFunction(this, 'Backup', {
      functionDir: 'backup',
      description: 'kb-dr nightly backup: snapshot the Knowledge Base instance and export it to S3',
      logGroup: storage.backupLogGroup,
      environment: runtimeEnvironment(config, storage),
      timeout: Duration.minutes(2),
    });

    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'EventBridge Scheduler: invoke the kb-dr backup function',
    });
    acknowledgeWildcard(
      schedulerRole,
      { resource: `${nagArnRef(this.backupFunction.function)}:*` },
      'lambda:InvokeFunction granted on the backup function and its versions/aliases only (CDK grantInvoke adds the qualifier wildcard)',
    );

    this.nightlySchedule = new scheduler.Schedule(this, 'NightlySchedule', {
      description: `kb-dr nightly backup of ${config.dbInstanceId} (${config.backupSchedule} ${config.backupTimezone})`,
      schedule: scheduler.ScheduleExpression.expression(
        config.scheduleExpression,
        TimeZone.of(config.backupTimezone),
      ),
      target: new targets.LambdaInvoke(this.backupFunction.function, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject({
          source: 'kb-dr.schedule',
          time: scheduler.ContextAttribute.scheduledTime,
        }),
        retryAttempts: 3,
        maxEventAge: Duration.hours(2),
      }),
    });
  }
}
