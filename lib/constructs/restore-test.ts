import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { deployedFunctionName } from '../../core/functions';
import { ALARM_NAMES, KbMetrics } from '../../core/metrics-catalog';
import {
  MANAGED_BY_TAG,
  MANIFESTS_S3_PREFIX,
  RESTORE_TEST_PREFIX,
  RESTORE_TEST_TAG,
  RESTORE_TESTS_S3_PREFIX,
  SNAPSHOT_PREFIX,
} from '../../core/naming';
import { RESTORE_TEST_RTO_TARGET_SECONDS } from '../../core/restore-test';
import { VERIFICATIONS_S3_PREFIX } from '../../core/verification';
import { RESTORE_TEST_ENV } from '../../lambda/restore-test/config';
import type { KbDrConfig } from '../config';
import { acknowledgeWildcard, crossStackArn, nagArnPrefix, nagArnRef } from '../nag';
import { applyGrants, useDbKeyViaRdsRow } from './grant-table';
import { KbFunction } from './kb-function';
import { kbMetric } from './kb-metric';
import { runtimeEnvironment, type StorageResources } from './storage-resources';

/** RDS events that say a restored instance is ready: created (0005), restored from snapshot (0043), PITR (0019). */
export const RESTORE_TEST_EVENT_IDS = ['RDS-EVENT-0005', 'RDS-EVENT-0043', 'RDS-EVENT-0019'] as const;

export interface RestoreTestProps {
  readonly config: KbDrConfig;
  readonly storage: StorageResources;
  /** The on-call topic the alarms notify (ALARM and OK). */
  readonly topic: sns.ITopic;
  /**
   * How often the backstop pass runs. The overdue alarm uses 1-hour periods with missing data
   * breaching, so the pass must run at least twice an hour. @default Duration.minutes(30)
   */
  readonly passInterval?: Duration;
}

/**
 * The weekly restore test: its function (and role, fenced to its own test instances), the weekly
 * schedule (absent when `restoreTestSchedule` is `off`), the backstop pass, the RDS event rule for
 * `kb-restore-test-*` instances, and three alarms to the on-call topic:
 * - KB-RestoreTestFailed: the last recorded test failed (RestoreTestSuccess Minimum < 1; missing
 *   data ignored, so it holds until the next test passes);
 * - KB-RestoreTestOverdue: no successful test in `restoreTestMaxDaysWithoutSuccess` days
 *   (HoursSinceLastRestoreTest from every pass; missing data breaching, so a silent pass alarms
 *   too); not created when the schedule is off;
 * - KB-RestoreTestOrphanInstance: a test instance whose deletion failed still exists (it costs money).
 */
export class RestoreTest extends Construct {
  readonly fn: KbFunction;
  readonly weeklySchedule: scheduler.Schedule | undefined;
  readonly passSchedule: scheduler.Schedule;
  readonly instanceEventRule: events.Rule;
  readonly failed: cloudwatch.Alarm;
  readonly overdue: cloudwatch.Alarm | undefined;
  readonly orphan: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RestoreTestProps) {
    super(scope, id);
    const { config, storage } = props;
    const interval = props.passInterval ?? Duration.minutes(30);
    if (interval.toMinutes() < 1 || interval.toMinutes() > 30) {
      throw new Error(
        `RestoreTest: passInterval must be from 1 to 30 minutes (the overdue alarm has 1-hour periods, missing data breaching), got ${interval.toHumanString()}`,
      );
    }
    const stack = Stack.of(this);
    this.fn = new KbFunction(this, 'Function', {
      functionDir: 'restore-test',
      description:
        'kb-dr weekly restore test: restore the latest backup, read its verification, record, delete',
      logGroup: storage.restoreLogGroup,
      environment: {
        ...runtimeEnvironment(config, storage),
        [RESTORE_TEST_ENV.instanceClass]: config.restoreTestInstanceClass,
        [RESTORE_TEST_ENV.stuckHours]: String(config.restoreTestStuckHours),
        [RESTORE_TEST_ENV.allowConcurrent]: String(config.restoreTestAllowConcurrent),
      },
      timeout: Duration.minutes(2),
    });
    (this.fn.function.node.defaultChild as lambda.CfnFunction).functionName = deployedFunctionName(
      config.functionNamePrefix,
      'restore-test',
    );
    this.grant(storage);

    // ---- schedules and the event rule ----------------------------------------------------------
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'EventBridge Scheduler: invoke the kb-dr restore-test function',
    });
    acknowledgeWildcard(
      schedulerRole,
      { resource: `${nagArnRef(this.fn.function)}:*` },
      'lambda:InvokeFunction granted on the restore-test function and its versions/aliases only (CDK grantInvoke adds the qualifier wildcard)',
    );
    this.weeklySchedule = config.restoreTestScheduleExpression
      ? new scheduler.Schedule(this, 'WeeklySchedule', {
          description: `kb-dr restore test of the latest backup of ${config.dbInstanceId} (${config.restoreTestSchedule} ${config.backupTimezone})`,
          schedule: scheduler.ScheduleExpression.expression(
            config.restoreTestScheduleExpression,
            TimeZone.of(config.backupTimezone),
          ),
          target: new targets.LambdaInvoke(this.fn.function, {
            role: schedulerRole,
            // The scheduled time names the test instance, so a retried invocation requests nothing new.
            input: scheduler.ScheduleTargetInput.fromObject({
              source: 'kb-dr.restore-test',
              action: 'start',
              time: scheduler.ContextAttribute.scheduledTime,
            }),
            retryAttempts: 3,
            maxEventAge: Duration.hours(2),
          }),
        })
      : undefined;
    this.passSchedule = new scheduler.Schedule(this, 'PassSchedule', {
      description: `kb-dr restore-test pass for ${config.dbInstanceId}: finish tests events missed, delete their instances, report`,
      schedule: scheduler.ScheduleExpression.rate(interval),
      target: new targets.LambdaInvoke(this.fn.function, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject({ source: 'kb-dr.restore-test', action: 'pass' }),
        retryAttempts: 1,
        maxEventAge: Duration.minutes(Math.max(1, interval.toMinutes())),
      }),
    });
    this.instanceEventRule = new events.Rule(this, 'InstanceEventRule', {
      description: 'kb-dr: a kb-restore-test-* instance is ready; advance its restore test',
      eventPattern: {
        source: ['aws.rds'],
        detailType: ['RDS DB Instance Event'],
        detail: {
          EventID: [...RESTORE_TEST_EVENT_IDS],
          SourceIdentifier: [{ prefix: RESTORE_TEST_PREFIX }],
        },
      },
      targets: [
        new eventTargets.LambdaFunction(this.fn.function, {
          retryAttempts: 4,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });

    // ---- alarms -------------------------------------------------------------------------------
    const db = config.dbInstanceId;
    const runbook = 'docs/DISASTER-RECOVERY-RUNBOOK.md#restore-test-alarms';
    this.failed = new cloudwatch.Alarm(this, 'Failed', {
      alarmName: ALARM_NAMES.restoreTestFailed,
      alarmDescription: `The last restore test of ${db}'s backups failed (not restored, not verified, or verified FAIL); clears when the next test passes. Read the record: kb-dr restore-tests. Runbook: ${runbook}`,
      metric: kbMetric(KbMetrics.RestoreTestSuccess, db, {
        statistic: 'Minimum',
        period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
    const maxHours = config.restoreTestMaxDaysWithoutSuccess * 24;
    this.overdue = config.restoreTestScheduleExpression
      ? new cloudwatch.Alarm(this, 'Overdue', {
          alarmName: ALARM_NAMES.restoreTestOverdue,
          alarmDescription: `No successful restore test of ${db}'s backups in ${config.restoreTestMaxDaysWithoutSuccess} days, or the restore-test pass stopped reporting. Runbook: ${runbook}`,
          metric: kbMetric(KbMetrics.HoursSinceLastRestoreTest, db, {
            statistic: 'Maximum',
            period: Duration.hours(1),
          }),
          threshold: maxHours,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          datapointsToAlarm: 1,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        })
      : undefined;
    this.orphan = new cloudwatch.Alarm(this, 'Orphan', {
      alarmName: ALARM_NAMES.restoreTestOrphan,
      alarmDescription: `A kb-restore-test-* instance of ${db} could not be deleted after its test and still runs (it costs money every hour). Runbook: ${runbook}`,
      metric: kbMetric(KbMetrics.RestoreTestOrphans, db, { statistic: 'Maximum', period: Duration.hours(1) }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const notify = new actions.SnsAction(props.topic);
    for (const alarm of [this.failed, this.overdue, this.orphan]) {
      alarm?.addAlarmAction(notify);
      alarm?.addOkAction(notify);
    }
  }

  /** The restore-test widgets: outcomes, measured RTO against the 4 h target, the last success's age. */
  addDashboardWidgets(dashboard: cloudwatch.Dashboard, dbInstanceId: string): void {
    const week = Duration.days(7);
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Restore tests: outcome (1 passed, 0 failed)',
        width: 8,
        left: [
          kbMetric(KbMetrics.RestoreTestSuccess, dbInstanceId, {
            statistic: 'Minimum',
            period: week,
            label: 'outcome',
          }),
        ],
        leftYAxis: { min: 0, max: 1 },
      }),
      new cloudwatch.GraphWidget({
        title: 'Restore tests: measured RTO, request to verified (seconds)',
        width: 8,
        left: [
          kbMetric(KbMetrics.RestoreTestDuration, dbInstanceId, {
            statistic: 'Maximum',
            period: week,
            label: 'RTO',
          }),
        ],
        leftAnnotations: [
          { value: RESTORE_TEST_RTO_TARGET_SECONDS, label: 'RTO target 4 h', color: '#d62728' },
        ],
      }),
      new cloudwatch.SingleValueWidget({
        title: 'Hours since the last successful restore test',
        width: 8,
        height: 6,
        metrics: [
          kbMetric(KbMetrics.HoursSinceLastRestoreTest, dbInstanceId, {
            statistic: 'Maximum',
            period: Duration.hours(1),
          }),
          kbMetric(KbMetrics.RestoreTestOrphans, dbInstanceId, {
            statistic: 'Maximum',
            period: Duration.hours(1),
            label: 'orphaned test instances',
          }),
        ],
      }),
    );
  }

  /** The restore-test function's statements, fenced to its own test instances (one table). */
  private grant(storage: StorageResources): void {
    const stack = Stack.of(this);
    const arn = (resource: string) =>
      `arn:${stack.partition}:rds:${stack.region}:${stack.account}:${resource}`;
    const nagRds = (resource: string) => `${nagArnPrefix(this, 'rds')}${resource}`;
    const testDb = `db:${RESTORE_TEST_PREFIX}*`;
    const kbSnapshots = `snapshot:${SNAPSHOT_PREFIX}*`;
    const groups = ['pg:*', 'og:*', 'subgrp:*'];
    const bucket = crossStackArn(this, storage.backupBucket, storage.backupBucket.bucketArn);
    const readPrefixes = [MANIFESTS_S3_PREFIX, VERIFICATIONS_S3_PREFIX, RESTORE_TESTS_S3_PREFIX];
    const IAM5 = 'AwsSolutions-IAM5';

    applyGrants(this.fn.role, [
      {
        sid: 'DescribeInstances',
        actions: ['rds:DescribeDBInstances'],
        resources: [arn('db:*')],
        nag: [
          {
            rule: IAM5,
            resource: nagRds('db:*'),
            reason:
              'read-only DescribeDBInstances: lists kb-restore-* instances (tests in progress, on-call restores of the same backup) and reads the source, whose ids are known only at run time',
          },
        ],
      },
      {
        sid: 'ReadKbSnapshots',
        actions: ['rds:DescribeDBSnapshots', 'rds:ListTagsForResource'],
        resources: [arn(kbSnapshots)],
        nag: [
          {
            rule: IAM5,
            resource: nagRds(kbSnapshots),
            reason: 'kb-dr backups only: snapshots are named kb-snapshot-<UTC time>',
          },
        ],
      },
      // The restore may name only a kb-restore-test-* target, carry kb-dr's tags and the test tag,
      // and restore only a snapshot kb-dr made (a statement of its own: the snapshot-tag condition
      // would fail the target and group checks).
      {
        sid: 'RestoreToTestInstance',
        actions: ['rds:RestoreDBInstanceFromDBSnapshot'],
        resources: [testDb, ...groups].map(arn),
        conditions: {
          StringEquals: {
            [`aws:RequestTag/${MANAGED_BY_TAG.key}`]: MANAGED_BY_TAG.value,
            [`aws:RequestTag/${RESTORE_TEST_TAG.key}`]: RESTORE_TEST_TAG.value,
          },
        },
        nag: [
          {
            rule: IAM5,
            resource: nagRds(testDb),
            reason: `test instances are named ${RESTORE_TEST_PREFIX}<UTC minute>; restoring needs kb-dr's request tags, and tagging or deleting needs the ${RESTORE_TEST_TAG.key} tag on the instance`,
          },
          ...groups.map((g) => ({
            rule: IAM5,
            resource: nagRds(g),
            reason:
              "the restore names the source's parameter, option and subnet groups, known only at run time; no change to the groups is granted",
          })),
        ],
      },
      {
        sid: 'RestoreFromKbDrSnapshotOnly',
        actions: ['rds:RestoreDBInstanceFromDBSnapshot'],
        resources: [arn(kbSnapshots)],
        conditions: { StringEquals: { [`rds:snapshot-tag/${MANAGED_BY_TAG.key}`]: MANAGED_BY_TAG.value } },
      },
      // Tags on create (the request carries the test tag) ...
      {
        sid: 'TagNewTestInstance',
        actions: ['rds:AddTagsToResource'],
        resources: [arn(testDb)],
        conditions: { StringEquals: { [`aws:RequestTag/${RESTORE_TEST_TAG.key}`]: RESTORE_TEST_TAG.value } },
      },
      // ... and later, tagging and deleting only test instances that carry the test tag.
      {
        sid: 'TagAndDeleteOwnTestInstances',
        actions: ['rds:AddTagsToResource', 'rds:DeleteDBInstance'],
        resources: [arn(testDb)],
        conditions: { StringEquals: { [`rds:db-tag/${RESTORE_TEST_TAG.key}`]: RESTORE_TEST_TAG.value } },
      },
      useDbKeyViaRdsRow(
        this,
        "the protected instance's KMS key is not known at synth; use is limited to RDS (kms:ViaService)",
      ),
      { sid: 'ListBackupBucket', actions: ['s3:ListBucket'], resources: [bucket.value] },
      {
        sid: 'ReadBackupRecords',
        actions: ['s3:GetObject'],
        resources: readPrefixes.map((p) => `${bucket.value}/${p}/*`),
        nag: readPrefixes.map((p) => ({
          rule: IAM5,
          resource: `${bucket.nag}/${p}/*`,
          reason: `records under ${p}/ are named per backup, instance or test`,
        })),
      },
      {
        sid: 'WriteRestoreTestRecords',
        actions: ['s3:PutObject'],
        resources: [`${bucket.value}/${RESTORE_TESTS_S3_PREFIX}/*`],
      },
      {
        sid: 'RecordEncryption',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [storage.backupKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
      },
    ]);
  }
}
