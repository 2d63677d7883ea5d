import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { ALARM_THRESHOLDS, KbMetrics } from '../../core/metrics-catalog';
import type { BackupAlarms } from './backup-alarms';
import { kbMetric } from './kb-metric';

export interface BackupDashboardProps {
  readonly dbInstanceId: string;
  readonly alarms: BackupAlarms;
  /** @default 'KB-Backup' */
  readonly dashboardName?: string;
}

/** The on-call dashboard: is the Knowledge Base protected right now, and how have backups gone? */
export class BackupDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  /** Console URL of the dashboard. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: BackupDashboardProps) {
    super(scope, id);
    const db = props.dbInstanceId;
    const name = props.dashboardName ?? 'KB-Backup';
    const { alarms } = props;

    const outcomeOver = (label: string, start: string): cloudwatch.SingleValueWidget =>
      new cloudwatch.SingleValueWidget({
        title: `Backups, last ${label}`,
        width: 6,
        height: 4,
        start,
        setPeriodToTimeRange: true,
        metrics: [
          kbMetric(KbMetrics.BackupSuccess, db, { label: 'succeeded' }),
          kbMetric(KbMetrics.BackupFailure, db, { label: 'failed' }),
        ],
      });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: name,
      defaultInterval: Duration.days(7),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        width: 24,
        height: 2,
        markdown: `# Knowledge Base backups: \`${db}\`\nRunbook: docs/DISASTER-RECOVERY-RUNBOOK.md. Red alarm: follow the runbook section with the alarm's name. TimeSinceLastBackup above ${ALARM_THRESHOLDS.maxHoursSinceLastBackup} h means the nightly RPO is at risk.`,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        width: 12,
        height: 4,
        alarms: [
          alarms.backupFailure,
          alarms.backupDurationHigh,
          alarms.entryCountDrop,
          alarms.noRecentSuccess,
          alarms.lastRunFailed,
        ],
      }),
      new cloudwatch.SingleValueWidget({
        title: 'Hours since last successful backup',
        width: 6,
        height: 4,
        metrics: [
          kbMetric(KbMetrics.TimeSinceLastBackup, db, { statistic: 'Maximum', period: Duration.minutes(15) }),
        ],
      }),
      new cloudwatch.SingleValueWidget({
        title: 'Automated backup retention (PITR days)',
        width: 6,
        height: 4,
        metrics: [
          kbMetric(KbMetrics.AutomatedBackupRetentionDays, db, {
            statistic: 'Minimum',
            period: Duration.hours(1),
          }),
        ],
      }),
    );
    this.dashboard.addWidgets(
      outcomeOver('24 hours', '-PT24H'),
      outcomeOver('7 days', '-P7D'),
      outcomeOver('30 days', '-P30D'),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Time since last successful backup (hours)',
        width: 12,
        left: [kbMetric(KbMetrics.TimeSinceLastBackup, db, { statistic: 'Maximum' })],
        leftAnnotations: [
          {
            value: ALARM_THRESHOLDS.maxHoursSinceLastBackup,
            label: 'KB-BackupFailure threshold',
            color: '#d62728',
          },
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Backup and export duration (seconds)',
        width: 12,
        left: [
          kbMetric(KbMetrics.BackupDuration, db, { statistic: 'Maximum', label: 'snapshot' }),
          kbMetric(KbMetrics.ExportDuration, db, { statistic: 'Maximum', label: 'export' }),
        ],
        leftAnnotations: [
          {
            value: ALARM_THRESHOLDS.maxBackupDurationSeconds,
            label: 'KB-BackupDurationHigh threshold',
            color: '#ff7f0e',
          },
        ],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Backup size (bytes)',
        width: 12,
        period: Duration.days(1),
        left: [kbMetric(KbMetrics.BackupSizeBytes, db, { statistic: 'Maximum', period: Duration.days(1) })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Restore tests: validation result (1 pass, 0 fail) and restore duration',
        width: 12,
        period: Duration.days(1),
        left: [
          kbMetric(KbMetrics.BackupValidation, db, {
            statistic: 'Minimum',
            period: Duration.days(1),
            label: 'validation',
          }),
          kbMetric(KbMetrics.RestoreVerification, db, {
            statistic: 'Minimum',
            period: Duration.days(1),
            label: 'restored data verified',
          }),
        ],
        right: [
          kbMetric(KbMetrics.RestoreDuration, db, {
            statistic: 'Maximum',
            period: Duration.days(1),
            label: 'restore seconds',
          }),
        ],
        leftYAxis: { min: 0, max: 1 },
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Knowledge entries per backup (from the export) and the drop since the previous backup',
        width: 24,
        period: Duration.days(1),
        left: [
          kbMetric(KbMetrics.KnowledgeEntries, db, {
            statistic: 'Maximum',
            period: Duration.days(1),
            label: 'knowledge_entries',
          }),
        ],
        right: [
          kbMetric(KbMetrics.EntryCountDropFraction, db, {
            statistic: 'Maximum',
            period: Duration.days(1),
            label: 'drop fraction',
          }),
        ],
        rightAnnotations: [
          {
            value: alarms.maxEntryCountDropFraction,
            label: 'KB-EntryCountDrop threshold',
            color: '#d62728',
          },
        ],
        rightYAxis: { min: 0, max: 1 },
      }),
    );
    const region = Stack.of(this).region;
    this.url = `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${name}`;
  }
}
