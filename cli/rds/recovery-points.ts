/**
 * RDS recovery points for `find-backup --rds`, read with read-only calls only: the kb-dr
 * snapshots of the protected instance (DescribeDBSnapshots; the time a snapshot holds is its
 * SnapshotCreateTime, else the time in its id), their manifests in the backup bucket for the
 * entry counts the export recorded (`tableRowCounts`), and with `pitr` the instance's
 * point-in-time window (DescribeDBInstances, DescribeDBInstanceAutomatedBackups).
 */
import { DescribeDBInstancesCommand, type RDSClient } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import { KbDrError } from '../../core/errors';
import type { BackupManifest } from '../../core/manifest';
import { compactUtcTimestamp, isKbSnapshotId, parseSnapshotTime, sameInstanceId } from '../../core/naming';
import { translateAwsError } from '../../lambda/shared/aws-errors';
import { listManifests } from '../../lambda/shared/manifest-store';
import { listManualSnapshots } from '../../lambda/shared/rds-snapshots';
import { isManagedByKbDr } from '../../lambda/shared/tags';
import { computeRestoreWindow } from '../../lambda/shared/restore-window';
import type { RecoveryPoint } from '../local/find-backup';

export interface RdsPointsOptions {
  readonly rds: RDSClient;
  /** The backup bucket's client and name; without them, counts are not read. */
  readonly s3?: S3Client;
  readonly bucket?: string;
  readonly instanceId: string;
  readonly before: Date;
  readonly now: Date;
  /** Also the point-in-time window. */
  readonly pitr: boolean;
  /** Prefix of restored instance ids. */
  readonly restorePrefix: string;
  /** @default 5 */
  readonly limit?: number;
}

export interface RdsPoints {
  readonly points: RecoveryPoint[];
  /** What could not be read, and why (counts, window). */
  readonly notes: string[];
}

function utc(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/** `kb-restore-recover-YYYYMMDD-HHMMSS`: a new instance id for restoring the point at `time`. */
export function recoveryInstanceId(prefix: string, time: Date): string {
  return `${prefix}recover-${compactUtcTimestamp(time)}`.toLowerCase();
}

function afterRestore(instance: string, time: Date): string[] {
  return [
    `npx kb-dr recover-entries --from-instance=${instance} --source-time=${utc(time)}`,
    `npx kb-dr recover-entries --from-instance=${instance} --source-time=${utc(time)} --confirm`,
  ];
}

/** The RDS recovery points before `before`, newest first; read-only calls only. */
export async function findRdsRecoveryPoints(options: RdsPointsOptions): Promise<RdsPoints> {
  const notes: string[] = [];
  let snapshots;
  try {
    snapshots = await listManualSnapshots(options.rds);
  } catch (err) {
    throw translateAwsError(err, { operation: 'list the kb-dr snapshots (rds:DescribeDBSnapshots)' });
  }
  const manifests = new Map<string, BackupManifest>();
  if (options.s3 && options.bucket) {
    try {
      for (const m of await listManifests({ s3: options.s3, bucket: options.bucket }))
        manifests.set(m.snapshotId, m);
    } catch (err) {
      notes.push(
        `entry counts not read: ${err instanceof KbDrError ? err.message : String(err)} (needs s3:ListBucket and s3:GetObject on the manifests, kms:Decrypt on the backup key)`,
      );
    }
  } else {
    notes.push(
      'entry counts not read: KB_BACKUP_BUCKET is not set (the BackupBucketName output of KbDrStorage)',
    );
  }

  const points: RecoveryPoint[] = snapshots
    .filter(
      (s) =>
        s.DBSnapshotIdentifier !== undefined &&
        isKbSnapshotId(s.DBSnapshotIdentifier) &&
        isManagedByKbDr(s.TagList) &&
        sameInstanceId(s.DBInstanceIdentifier, options.instanceId) &&
        s.Status === 'available',
    )
    .map((s) => {
      const id = s.DBSnapshotIdentifier!;
      const time = s.SnapshotCreateTime ? new Date(s.SnapshotCreateTime) : parseSnapshotTime(id)!;
      return { s, id, time, from: s.SnapshotCreateTime ? 'SnapshotCreateTime' : 'snapshot id' };
    })
    .filter((p) => p.time.getTime() < options.before.getTime())
    .sort((a, b) => b.time.getTime() - a.time.getTime())
    .slice(0, options.limit ?? 5)
    .map(({ id, time, from }) => {
      const m = manifests.get(id);
      const counts = m?.tableRowCounts;
      const instance = recoveryInstanceId(options.restorePrefix, time);
      return {
        kind: 'rds-snapshot' as const,
        id,
        time: time.toISOString(),
        timeFrom: from,
        ...(counts ? { entries: counts.knowledge_entries, embeddingCache: counts.embedding_cache } : {}),
        counts: counts
          ? 'recorded in the manifest (Parquet export footers)'
          : m
            ? 'not recorded in its manifest (backup recorded before counts were kept)'
            : 'no manifest read',
        status: m ? `manifest ${m.status}` : 'available (no manifest read)',
        commands: [
          `scripts/restore-kb.sh --rds --snapshot-id=${id} --target-instance=${instance}`,
          ...afterRestore(instance, time),
        ],
      };
    });

  if (options.pitr) {
    try {
      const res = await options.rds.send(
        new DescribeDBInstancesCommand({ DBInstanceIdentifier: options.instanceId }),
      );
      const instance = res.DBInstances?.[0];
      if (!instance) throw new Error(`instance ${options.instanceId} not found`);
      const window = await computeRestoreWindow(options.rds, instance, options.now);
      // A second before the given time: PostgreSQL's recovery stops just after the target.
      const wanted = new Date(Math.floor(options.before.getTime() / 1000) * 1000 - 1000);
      const target =
        wanted > window.latest ? new Date(Math.floor(window.latest.getTime() / 1000) * 1000) : wanted;
      const span = `window ${utc(window.earliest)} to ${utc(window.latest)}`;
      if (target < window.earliest) {
        notes.push(`point-in-time: ${utc(options.before)} is before the ${span}; use a snapshot`);
      } else {
        const restored = recoveryInstanceId(options.restorePrefix, target);
        points.push({
          kind: 'pitr',
          id: 'point-in-time',
          time: target.toISOString(),
          timeFrom: `one second before --before, inside the ${span}${target < wanted ? ' (capped at LatestRestorableTime)' : ''}`,
          counts: 'not recorded (any second in the window)',
          status: 'restorable',
          commands: [
            `scripts/restore-kb.sh --pitr --target-time=${utc(target)} --target-instance=${restored}`,
            ...afterRestore(restored, target),
          ],
        });
      }
    } catch (err) {
      notes.push(
        `point-in-time window not read: ${err instanceof KbDrError ? err.userMessage : (err as Error).message}`,
      );
    }
  }
  points.sort((a, b) => b.time.localeCompare(a.time));
  return { points, notes };
}
