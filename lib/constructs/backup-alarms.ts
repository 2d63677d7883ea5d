import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ALARM_NAMES, ALARM_THRESHOLDS, KbMetrics } from '../../core/metrics-catalog';
import { kbMetric } from './kb-metric';

export interface BackupAlarmsProps {
  /** The protected instance: the DBInstanceIdentifier dimension the functions emit. */
  readonly dbInstanceId: string;
  /** Topic notified on ALARM and on OK. */
  readonly topic: sns.ITopic;
  /** Hours without a successful backup before KB-BackupFailure fires. @default 25 */
  readonly maxHoursSinceLastBackup?: number;
  /** Backup duration (request to snapshot available) that trips KB-BackupDurationHigh. @default Duration.minutes(30) */
  readonly maxBackupDuration?: Duration;
  /**
   * KB-EntryCountDrop fires for a backup whose knowledge_entries count is more than this fraction
   * below the previous successful backup's (exclusive: a drop of exactly the fraction does not
   * fire). Between 0 and 1, exclusive. @default 0.2
   */
  readonly maxEntryCountDropFraction?: number;
}

/**
 * The backup alarms.
 *
 * `KB-BackupFailure` is a composite of two alarms because it answers two questions with different
 * missing-data semantics:
 * - no recovery point within 25 h (TimeSinceLastBackup, emitted every 15 min by the periodic
 *   pass; missing data is *breaching*, so total silence alarms too). It is measured from the
 *   newest kb-dr snapshot that became available and is not recorded FAILED, from the time it was
 *   requested: the RPO is about the data's point in time, so a night whose export merely runs
 *   longer than the night before does not page, and a missed snapshot does (25 h = the nightly
 *   24 h plus an hour for the snapshot to become available);
 * - the last backup failed (BackupFailure is emitted as 1 only when a FAILED manifest is recorded
 *   and 0 on success; transient faults a retry heals emit nothing). Missing data is *ignore*, so
 *   the alarm holds ALARM between runs; its 5-minute period makes it clear at the first
 *   evaluation after the next success (an hourly Maximum would keep a failure and a success in
 *   the same hour at 1, latching the alarm until the following night).
 */
export class BackupAlarms extends Construct {
  readonly backupFailure: cloudwatch.CompositeAlarm;
  readonly noRecentSuccess: cloudwatch.Alarm;
  readonly lastRunFailed: cloudwatch.Alarm;
  readonly backupDurationHigh: cloudwatch.Alarm;
  readonly entryCountDrop: cloudwatch.Alarm;
  /** The KB-EntryCountDrop threshold, for the dashboard. */
  readonly maxEntryCountDropFraction: number;

  constructor(scope: Construct, id: string, props: BackupAlarmsProps) {
    super(scope, id);
    const maxHours = props.maxHoursSinceLastBackup ?? ALARM_THRESHOLDS.maxHoursSinceLastBackup;
    const maxDuration =
      props.maxBackupDuration ?? Duration.seconds(ALARM_THRESHOLDS.maxBackupDurationSeconds);
    if (!(maxHours > 0 && maxHours <= 24 * 7)) {
      throw new Error(
        `BackupAlarms: maxHoursSinceLastBackup must be between 0 and 168 hours, got ${maxHours}`,
      );
    }
    if (maxDuration.toSeconds() < 60) {
      throw new Error(
        `BackupAlarms: maxBackupDuration must be at least 1 minute, got ${maxDuration.toSeconds()} s`,
      );
    }
    const maxDrop = props.maxEntryCountDropFraction ?? ALARM_THRESHOLDS.maxEntryCountDropFraction;
    if (!(maxDrop > 0 && maxDrop < 1)) {
      throw new Error(
        `BackupAlarms: maxEntryCountDropFraction must be between 0 and 1 (exclusive), e.g. 0.2 for 20%, got ${maxDrop}`,
      );
    }
    this.maxEntryCountDropFraction = maxDrop;
    const hourly = Duration.hours(1);
    /** Short enough that a success right after a failure lands in a period of its own. */
    const outcomePeriod = Duration.minutes(5);
    const id_ = props.dbInstanceId;

    this.noRecentSuccess = new cloudwatch.Alarm(this, 'NoRecentSuccess', {
      alarmName: ALARM_NAMES.backupStale,
      alarmDescription: `No new recovery point (an available kb-dr snapshot of ${id_} not recorded FAILED) in the last ${maxHours} hours, or nothing reports at all. See docs/DISASTER-RECOVERY-RUNBOOK.md#kb-backupfailure`,
      metric: kbMetric(KbMetrics.TimeSinceLastBackup, id_, { statistic: 'Maximum', period: hourly }),
      threshold: maxHours,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });

    this.lastRunFailed = new cloudwatch.Alarm(this, 'LastRunFailed', {
      alarmName: ALARM_NAMES.backupRunFailed,
      alarmDescription: `The last Knowledge Base backup run of ${id_} failed; clears on the next successful backup. See docs/DISASTER-RECOVERY-RUNBOOK.md#kb-backupfailure`,
      metric: kbMetric(KbMetrics.BackupFailure, id_, { statistic: 'Maximum', period: outcomePeriod }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });

    this.backupFailure = new cloudwatch.CompositeAlarm(this, 'BackupFailure', {
      compositeAlarmName: ALARM_NAMES.backupFailure,
      alarmDescription: `Knowledge Base backups of ${id_} are failing or have stopped: no success within ${maxHours} h, or the last run failed. Runbook: docs/DISASTER-RECOVERY-RUNBOOK.md#kb-backupfailure`,
      alarmRule: cloudwatch.AlarmRule.anyOf(
        cloudwatch.AlarmRule.fromAlarm(this.noRecentSuccess, cloudwatch.AlarmState.ALARM),
        cloudwatch.AlarmRule.fromAlarm(this.lastRunFailed, cloudwatch.AlarmState.ALARM),
      ),
    });

    this.backupDurationHigh = new cloudwatch.Alarm(this, 'BackupDurationHigh', {
      alarmName: ALARM_NAMES.backupDurationHigh,
      alarmDescription: `A Knowledge Base backup of ${id_} took longer than ${maxDuration.toMinutes()} minutes from request to snapshot available. Runbook: docs/DISASTER-RECOVERY-RUNBOOK.md#kb-backupdurationhigh`,
      metric: kbMetric(KbMetrics.BackupDuration, id_, { statistic: 'Maximum', period: hourly }),
      threshold: maxDuration.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // EntryCountDropFraction is emitted once per successful backup whose export could be counted,
    // computed by the reconcile function against the previous successful backup with counts (0
    // for growth, a first backup or an empty KB). Missing data is *ignore*: between backups, and
    // after a backup whose export could not be read, the alarm keeps the last backup's verdict.
    this.entryCountDrop = new cloudwatch.Alarm(this, 'EntryCountDrop', {
      alarmName: ALARM_NAMES.entryCountDrop,
      alarmDescription: `The latest Knowledge Base backup of ${id_} holds more than ${Math.round(maxDrop * 100)}% fewer knowledge entries than the previous successful backup: data may have been deleted. PITR can still reach a time before the drop. Runbook: docs/DISASTER-RECOVERY-RUNBOOK.md#kb-entrycountdrop`,
      metric: kbMetric(KbMetrics.EntryCountDropFraction, id_, {
        statistic: 'Maximum',
        period: outcomePeriod,
      }),
      threshold: maxDrop,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });

    // Only the alarms on-call acts on notify; the two children are parts of KB-BackupFailure.
    const notify = new actions.SnsAction(props.topic);
    for (const alarm of [this.backupFailure, this.backupDurationHigh, this.entryCountDrop]) {
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
    }
  }
}
