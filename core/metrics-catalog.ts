/**
 * The one definition of every CloudWatch metric kb-dr emits.
 *
 * Imported by the Lambda functions (which emit through Powertools EMF) and by the CDK stacks
 * (alarms, dashboard), so an alarm can never watch a name, unit or dimension nobody emits.
 * This module must stay free of AWS SDK and CDK imports: both sides load it.
 */

/** CloudWatch namespace of every kb-dr metric. */
export const METRIC_NAMESPACE = 'KB';

/** The single dimension every kb-dr metric carries: the protected RDS instance. */
export const INSTANCE_DIMENSION = 'DBInstanceIdentifier';

/** CloudWatch units used by kb-dr (a subset of both Powertools' MetricUnit and CDK's Unit). */
export type KbMetricUnit = 'Count' | 'Seconds' | 'Bytes' | 'None';

export interface KbMetricDefinition {
  readonly name: string;
  readonly unit: KbMetricUnit;
  /** What the value means, for dashboards and docs. */
  readonly description: string;
}

function define<T extends Record<string, Omit<KbMetricDefinition, 'name'>>>(
  defs: T,
): { readonly [K in keyof T]: KbMetricDefinition & { readonly name: K } } {
  const out = {} as { [K in keyof T]: KbMetricDefinition & { name: K } };
  for (const key of Object.keys(defs) as (keyof T & string)[]) {
    out[key] = { name: key, ...defs[key] } as KbMetricDefinition & { name: typeof key };
  }
  return out;
}

export const KbMetrics = define({
  BackupSuccess: {
    unit: 'Count',
    description: '1 when a backup (snapshot available and export completed) succeeded, 0 when it failed',
  },
  BackupFailure: {
    unit: 'Count',
    description:
      '1 when a backup definitively failed (a FAILED manifest was recorded), 0 when one succeeded; transient faults that a retry heals emit nothing',
  },
  BackupDuration: { unit: 'Seconds', description: 'snapshot requested to snapshot available' },
  ExportDuration: { unit: 'Seconds', description: 'export task started to export completed' },
  TimeSinceLastBackup: {
    unit: 'None',
    description:
      'hours since the newest recovery point: the request time of the newest kb-dr snapshot that is available and not recorded FAILED (emitted on every periodic pass)',
  },
  BackupSizeBytes: { unit: 'Bytes', description: 'size of the exported backup' },
  AutomatedBackupRetentionDays: {
    unit: 'None',
    description: 'automated backup retention of the protected instance (PITR window), in days',
  },
  CorruptManifests: {
    unit: 'Count',
    description: 'manifests the reconcile pass could not parse and skipped (emitted when above 0)',
  },
  KnowledgeEntries: {
    unit: 'Count',
    description:
      "rows of public.knowledge_entries in a successful backup, read from its export's Parquet footers (one datapoint per backup)",
  },
  EntryCountDropFraction: {
    unit: 'None',
    description:
      'how much of the Knowledge Base a backup lost since the previous successful backup with counts: (previous - current) / previous, 0 for growth, for an empty previous KB, or when there is no previous count',
  },
  BackupValidation: { unit: 'Count', description: '1 when a backup validation passed, 0 when it failed' },
  RestoreStarted: { unit: 'Count', description: 'a restore to a new instance was started' },
  RestoreDuration: {
    unit: 'Seconds',
    description: 'restore started to restored instance available (the measured RTO of the restore)',
  },
  RestoreTestSuccess: {
    unit: 'Count',
    description:
      '1 when a weekly restore test passed (restored, verified), 0 when it failed (emitted once per recorded test)',
  },
  RestoreTestDuration: {
    unit: 'Seconds',
    description:
      'restore test requested to verification done: the measured RTO of the database at its current size (emitted when the test was verified)',
  },
  RestoreTestOrphans: {
    unit: 'Count',
    description:
      'restore-test instances whose test is recorded but that still exist because their deletion failed (emitted on every pass; 1 at once when a deletion fails)',
  },
  HoursSinceLastRestoreTest: {
    unit: 'None',
    description:
      'hours since the newest successful restore test was verified (emitted on every restore-test pass)',
  },
});

export type KbMetricName = keyof typeof KbMetrics;

/** Alarm names, shared by the stacks, the docs tests and the operator CLI. */
export const ALARM_NAMES = {
  backupFailure: 'KB-BackupFailure',
  backupStale: 'KB-BackupFailure-NoRecentSuccess',
  backupRunFailed: 'KB-BackupFailure-LastRunFailed',
  backupDurationHigh: 'KB-BackupDurationHigh',
  entryCountDrop: 'KB-EntryCountDrop',
  restoreTestFailed: 'KB-RestoreTestFailed',
  restoreTestOverdue: 'KB-RestoreTestOverdue',
  restoreTestOrphan: 'KB-RestoreTestOrphanInstance',
} as const;

/** Thresholds the alarms use; named here so tests and docs quote the same numbers. */
export const ALARM_THRESHOLDS = {
  /** No successful backup within this many hours trips KB-BackupFailure. */
  maxHoursSinceLastBackup: 25,
  /** A backup (request to snapshot available) longer than this trips KB-BackupDurationHigh. */
  maxBackupDurationSeconds: 30 * 60,
  /**
   * A backup whose knowledge_entries count is more than this fraction below the previous
   * successful backup's trips KB-EntryCountDrop (default of the `entryCountDropFraction` setting).
   */
  maxEntryCountDropFraction: 0.2,
} as const;
