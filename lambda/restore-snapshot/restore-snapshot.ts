/**
 * restore-snapshot: restore a kb-dr backup to a NEW instance and return at once with what was
 * started and the exact event for restore-status. Every guard runs before the single mutating call.
 */
import { randomUUID } from 'node:crypto';
import { RestoreDBInstanceFromDBSnapshotCommand, type RDSClient } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import { GuardRailError } from '../../core/errors';
import {
  checkRestoreTarget,
  checkRestoreTargetName,
  isProductionInstanceId,
  productionIds,
  requireConfirmation,
  truncateForEcho,
  type RestoreGuardConfig,
} from '../shared/guards';
import { describeInstanceIfExists } from '../shared/rds-instances';
import { KbMetrics } from '../../core/metrics-catalog';
import {
  MAX_RDS_TAGS,
  mergeRestoreTags,
  resolveBackupSnapshot,
  restoreRequestSettings,
  sendRestore,
  restoreTags,
  settingsFromInstance,
  settingsWarnings,
  type MetricSink,
} from '../shared/restore-common';
import { type RestoreSnapshotEvent, type RestoreSnapshotResult } from './contract';

/** The event schema, example and answer type live in contract.ts (imported by the CLI and the drill). */
export * from './contract';

export interface RestoreSnapshotConfig extends RestoreGuardConfig {
  readonly backupBucket: string;
}

export interface RestoreSnapshotDeps {
  readonly rds: RDSClient;
  readonly s3: S3Client;
  readonly config: RestoreSnapshotConfig;
  readonly metrics: MetricSink;
  readonly now?: () => Date;
  /** A unique id per request (tagged on the new instance). @default crypto.randomUUID */
  readonly requestId?: () => string;
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
  // Every id is checked before the first AWS call.
  checkRestoreTargetName(config, input.targetInstanceId, now());
  const protectedId = (input.sourceInstanceId ?? config.dbInstanceId).toLowerCase();
  if (!isProductionInstanceId(config, protectedId)) {
    throw new GuardRailError(
      `sourceInstanceId "${truncateForEcho(input.sourceInstanceId ?? '')}" is not a protected instance (${productionIds(config).join(', ')}), e.g. "sourceInstanceId": "${config.dbInstanceId}"`,
      {
        hint: 'leave sourceInstanceId out to restore a backup of the protected instance; nothing was changed',
      },
    );
  }
  const backup = await resolveBackupSnapshot(
    { rds, s3: deps.s3, bucket: config.backupBucket, dbInstanceId: protectedId },
    input.snapshotId,
  );
  const targetInstanceId = await checkRestoreTarget(rds, config, input.targetInstanceId, now());
  const snap = backup.snapshot;
  const sourceId = snap.DBInstanceIdentifier ?? protectedId;
  // The instance the snapshot was taken of, else (renamed aside and deleted since) the protected one.
  const source =
    (await describeInstanceIfExists(rds, sourceId)) ??
    (sourceId.toLowerCase() === protectedId ? undefined : await describeInstanceIfExists(rds, protectedId));
  const settings = settingsFromInstance(
    source,
    { storageEncrypted: snap.Encrypted === true, kmsKeyId: snap.KmsKeyId },
    snap,
  );
  const snapshotInfo = {
    id: snap.DBSnapshotIdentifier,
    resolvedFrom: backup.resolvedFrom,
    ...(snap.SnapshotCreateTime ? { createdAt: new Date(snap.SnapshotCreateTime).toISOString() } : {}),
    ...(snap.DBInstanceIdentifier ? { sourceInstanceId: snap.DBInstanceIdentifier } : {}),
    encrypted: snap.Encrypted === true,
  };
  const startedAt = now();
  const requestId = (deps.requestId ?? randomUUID)();
  const merged = mergeRestoreTags(
    // The live instance's tags when it exists, else the ones the snapshot carries.
    source?.TagList ?? snap.TagList,
    restoreTags({
      startedAt,
      sourceInstanceId: sourceId,
      protectedInstanceId: protectedId,
      requestId,
      snapshotId: snap.DBSnapshotIdentifier,
    }),
  );
  const warnings = [
    ...(backup.skippedCorrupt.length > 0
      ? [
          `"latest" skipped ${backup.skippedCorrupt.length} corrupt manifest(s) (${backup.skippedCorrupt.join(', ')}) and used the newest intact successful backup; inspect them (aws s3 cp <uri> -) and restore a previous version from the versioned bucket`,
        ]
      : []),
    ...settingsWarnings(settings, sourceId),
    ...(merged.dropped.length > 0
      ? [`RDS allows ${MAX_RDS_TAGS} tags: the source's tags ${merged.dropped.join(', ')} were not copied`]
      : []),
  ];
  const statusEvent = { targetInstanceId };
  const common = {
    snapshot: snapshotInfo,
    protectedInstanceId: protectedId,
    targetInstanceId,
    settings,
    tags: { copied: merged.copied, dropped: merged.dropped },
    warnings,
  };

  if (dryRun) {
    return {
      ok: true,
      dryRun: true,
      action: 'plan',
      ...common,
      next: {
        function: 'restore-snapshot',
        event: {
          snapshotId: snap.DBSnapshotIdentifier,
          targetInstanceId,
          ...(input.sourceInstanceId ? { sourceInstanceId: protectedId } : {}),
          confirm: true,
          dryRun: false,
        },
        say: 'dry run: nothing was changed; run restore-snapshot with this event to start the restore',
      },
    };
  }

  const call = await sendRestore(
    rds,
    {
      targetInstanceId,
      requestId,
      operation: `restore snapshot ${snap.DBSnapshotIdentifier} to ${targetInstanceId}`,
    },
    async () => {
      const res = await rds.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          DBInstanceIdentifier: targetInstanceId,
          DBSnapshotIdentifier: snap.DBSnapshotIdentifier,
          ...restoreRequestSettings(settings),
          Tags: merged.tags,
        }),
      );
      return res.DBInstance?.DBInstanceStatus;
    },
  );
  deps.metrics.add(KbMetrics.RestoreStarted, 1);
  return {
    ok: true,
    dryRun: false,
    action: 'started',
    ...common,
    startedAt: startedAt.toISOString(),
    ...(call.status ? { status: call.status } : {}),
    ...(call.resolvedFromState ? { resolvedFromState: call.resolvedFromState } : {}),
    next: {
      function: 'restore-status',
      event: statusEvent,
      say: `restore started; follow it with restore-status ${JSON.stringify(statusEvent)} (typically 10-40 minutes until available)`,
    },
  };
}
