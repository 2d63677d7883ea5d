/**
 * restore-snapshot: restore a kb-dr backup to a NEW instance and return at once with what was
 * started and the exact event for restore-status. Every guard runs before the single mutating call.
 */
import { RestoreDBInstanceFromDBSnapshotCommand, type RDSClient } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { translateAwsError } from '../shared/errors';
import {
  checkRestoreTarget,
  describeInstanceIfExists,
  requireConfirmation,
  type RestoreGuardConfig,
} from '../shared/guards';
import type { EventSpec } from '../shared/handler-response';
import { KbMetrics } from '../shared/metrics-catalog';
import {
  resolveBackupSnapshot,
  restoreRequestSettings,
  restoreTags,
  settingsFromInstance,
  settingsWarnings,
  type MetricSink,
  type SourceSettings,
} from '../shared/restore-common';

export const RestoreSnapshotEventSchema = z.strictObject({
  snapshotId: z.string(),
  targetInstanceId: z.string(),
  confirm: z.boolean().optional(),
  dryRun: z.boolean().optional(),
});
export type RestoreSnapshotEvent = z.infer<typeof RestoreSnapshotEventSchema>;

export const RESTORE_SNAPSHOT_EVENT: EventSpec<typeof RestoreSnapshotEventSchema> = {
  functionName: 'restore-snapshot',
  schema: RestoreSnapshotEventSchema,
  example: { snapshotId: 'latest', targetInstanceId: 'kb-restore-drill-1', confirm: true, dryRun: false },
  fieldExamples: {
    snapshotId: '"latest" or "kb-snapshot-20261122-020000"',
    targetInstanceId: '"kb-restore-drill-1"',
    confirm: 'true',
    dryRun: 'false',
  },
};

export interface RestoreSnapshotConfig extends RestoreGuardConfig {
  readonly backupBucket: string;
}

export interface RestoreSnapshotDeps {
  readonly rds: RDSClient;
  readonly s3: S3Client;
  readonly config: RestoreSnapshotConfig;
  readonly metrics: MetricSink;
  readonly now?: () => Date;
}

export interface RestoreSnapshotResult {
  readonly ok: true;
  readonly dryRun: boolean;
  /** `started`: the restore is running; `plan`: dry run, nothing changed. */
  readonly action: 'started' | 'plan';
  readonly snapshot: {
    readonly id: string;
    readonly resolvedFrom: 'latest' | 'id';
    readonly createdAt?: string;
    readonly sourceInstanceId?: string;
    readonly encrypted: boolean;
  };
  readonly targetInstanceId: string;
  readonly settings: SourceSettings;
  readonly warnings: readonly string[];
  readonly startedAt?: string;
  readonly status?: string;
  /** What to run next, with the exact event. */
  readonly next: {
    readonly function: string;
    readonly event: Readonly<Record<string, unknown>>;
    readonly say: string;
  };
}

/** Restore `input.snapshotId` (or `latest`) to the new instance `input.targetInstanceId`. */
export async function restoreSnapshot(
  deps: RestoreSnapshotDeps,
  input: RestoreSnapshotEvent,
): Promise<RestoreSnapshotResult> {
  const now = deps.now ?? (() => new Date());
  const dryRun = input.dryRun === true;
  requireConfirmation(input, 'start a restore');
  const { config, rds } = deps;
  const backup = await resolveBackupSnapshot(
    { rds, s3: deps.s3, bucket: config.backupBucket, dbInstanceId: config.dbInstanceId },
    input.snapshotId,
  );
  const targetInstanceId = await checkRestoreTarget(rds, config, input.targetInstanceId, now());
  const snap = backup.snapshot;
  const sourceId = snap.DBInstanceIdentifier ?? config.dbInstanceId;
  const source = await describeInstanceIfExists(rds, sourceId);
  const settings = settingsFromInstance(source, {
    storageEncrypted: snap.Encrypted === true,
    kmsKeyId: snap.KmsKeyId,
  });
  const snapshotInfo = {
    id: snap.DBSnapshotIdentifier,
    resolvedFrom: backup.resolvedFrom,
    ...(snap.SnapshotCreateTime ? { createdAt: new Date(snap.SnapshotCreateTime).toISOString() } : {}),
    ...(snap.DBInstanceIdentifier ? { sourceInstanceId: snap.DBInstanceIdentifier } : {}),
    encrypted: snap.Encrypted === true,
  };
  const warnings = settingsWarnings(settings, sourceId);
  const statusEvent = { targetInstanceId };

  if (dryRun) {
    return {
      ok: true,
      dryRun: true,
      action: 'plan',
      snapshot: snapshotInfo,
      targetInstanceId,
      settings,
      warnings,
      next: {
        function: 'restore-snapshot',
        event: { snapshotId: snap.DBSnapshotIdentifier, targetInstanceId, confirm: true, dryRun: false },
        say: 'dry run: nothing was changed; run restore-snapshot with this event to start the restore',
      },
    };
  }

  const startedAt = now();
  let status: string | undefined;
  try {
    const res = await rds.send(
      new RestoreDBInstanceFromDBSnapshotCommand({
        DBInstanceIdentifier: targetInstanceId,
        DBSnapshotIdentifier: snap.DBSnapshotIdentifier,
        ...restoreRequestSettings(settings),
        Tags: restoreTags({ startedAt, sourceInstanceId: sourceId, snapshotId: snap.DBSnapshotIdentifier }),
      }),
    );
    status = res.DBInstance?.DBInstanceStatus;
  } catch (err) {
    throw translateAwsError(err, {
      operation: `restore snapshot ${snap.DBSnapshotIdentifier} to ${targetInstanceId}`,
    });
  }
  deps.metrics.add(KbMetrics.RestoreStarted, 1);
  return {
    ok: true,
    dryRun: false,
    action: 'started',
    snapshot: snapshotInfo,
    targetInstanceId,
    settings,
    warnings,
    startedAt: startedAt.toISOString(),
    ...(status ? { status } : {}),
    next: {
      function: 'restore-status',
      event: statusEvent,
      say: `restore started; follow it with restore-status ${JSON.stringify(statusEvent)} (typically 10-40 minutes until available)`,
    },
  };
}
