/**
 * Logic the restore functions share: resolving a kb-dr backup (`latest` or an id), copying the
 * source instance's settings onto the new instance, and the tags saying where it came from.
 */
import {
  DescribeDBSnapshotsCommand,
  ListTagsForResourceCommand,
  type DBInstance,
  type DBSnapshot,
  type RDSClient,
  type Tag,
} from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  GuardRailError,
  InvalidStateError,
  NotFoundError,
  ValidationError,
  awsErrorCode,
  translateAwsError,
} from './errors';
import type { BackupManifest } from './manifest';
import { latestSuccessfulManifest } from './manifest-store';
import type { KbMetricDefinition } from './metrics-catalog';
import {
  MANAGED_BY_TAG,
  RESTORED_FROM_INSTANCE_TAG_KEY,
  RESTORED_FROM_SNAPSHOT_TAG_KEY,
  RESTORED_TO_TIME_TAG_KEY,
  RESTORE_STARTED_AT_TAG_KEY,
  isKbSnapshotId,
} from './naming';

/** Where logic functions put catalogued metrics (the handler backs it with Powertools Metrics). */
export interface MetricSink {
  add(def: KbMetricDefinition, value: number): void;
}

/** The literal that selects the newest successful backup. */
export const LATEST = 'latest';

/** Hint shown whenever a snapshot id is wrong. */
export const LIST_SNAPSHOTS_HINT =
  'list kb-dr backups with `aws rds describe-db-snapshots --snapshot-type manual --query "DBSnapshots[?starts_with(DBSnapshotIdentifier, \'kb-snapshot-\')].[DBSnapshotIdentifier,Status]"` or use "latest"';

/** The settings a restored instance copies from its source. */
export interface SourceSettings {
  /** Instance the settings were read from; undefined when it no longer exists. */
  readonly sourceInstanceId: string | undefined;
  readonly dbInstanceClass?: string;
  readonly dbSubnetGroupName?: string;
  readonly vpcSecurityGroupIds: readonly string[];
  readonly dbParameterGroupName?: string;
  readonly storageEncrypted: boolean;
  readonly kmsKeyId?: string;
  readonly multiAZ?: boolean;
  readonly publiclyAccessible?: boolean;
  /** Always true: a restored instance cannot be deleted by accident. */
  readonly deletionProtection: true;
}

/** The settings to copy from `source` (undefined: the source is gone; RDS defaults apply). */
export function settingsFromInstance(
  source: DBInstance | undefined,
  encryption: { storageEncrypted: boolean; kmsKeyId?: string | undefined },
): SourceSettings {
  const pg = source?.DBParameterGroups?.[0]?.DBParameterGroupName;
  return {
    sourceInstanceId: source?.DBInstanceIdentifier,
    ...(source?.DBInstanceClass ? { dbInstanceClass: source.DBInstanceClass } : {}),
    ...(source?.DBSubnetGroup?.DBSubnetGroupName
      ? { dbSubnetGroupName: source.DBSubnetGroup.DBSubnetGroupName }
      : {}),
    vpcSecurityGroupIds: (source?.VpcSecurityGroups ?? [])
      .map((g) => g.VpcSecurityGroupId)
      .filter((id): id is string => Boolean(id)),
    ...(pg ? { dbParameterGroupName: pg } : {}),
    storageEncrypted: encryption.storageEncrypted,
    ...(encryption.kmsKeyId ? { kmsKeyId: encryption.kmsKeyId } : {}),
    ...(source?.MultiAZ !== undefined ? { multiAZ: source.MultiAZ } : {}),
    ...(source?.PubliclyAccessible !== undefined ? { publiclyAccessible: source.PubliclyAccessible } : {}),
    deletionProtection: true,
  };
}

/** Warnings for settings that could not be copied. */
export function settingsWarnings(settings: SourceSettings, wantedSource: string): string[] {
  if (settings.sourceInstanceId) {
    return settings.storageEncrypted
      ? []
      : [`source ${settings.sourceInstanceId} is NOT encrypted; the restored instance will not be either`];
  }
  return [
    `source instance ${wantedSource} no longer exists: instance class, subnet group, security groups and parameter group fall back to RDS defaults (default VPC); change them with ModifyDBInstance after the restore`,
  ];
}

/** The RDS request fields that carry the copied settings (common to both restore APIs). */
export function restoreRequestSettings(s: SourceSettings): {
  DBInstanceClass?: string;
  DBSubnetGroupName?: string;
  VpcSecurityGroupIds?: string[];
  DBParameterGroupName?: string;
  MultiAZ?: boolean;
  PubliclyAccessible?: boolean;
  DeletionProtection: boolean;
  CopyTagsToSnapshot: boolean;
} {
  return {
    ...(s.dbInstanceClass ? { DBInstanceClass: s.dbInstanceClass } : {}),
    ...(s.dbSubnetGroupName ? { DBSubnetGroupName: s.dbSubnetGroupName } : {}),
    ...(s.vpcSecurityGroupIds.length > 0 ? { VpcSecurityGroupIds: [...s.vpcSecurityGroupIds] } : {}),
    ...(s.dbParameterGroupName ? { DBParameterGroupName: s.dbParameterGroupName } : {}),
    ...(s.multiAZ !== undefined ? { MultiAZ: s.multiAZ } : {}),
    ...(s.publiclyAccessible !== undefined ? { PubliclyAccessible: s.publiclyAccessible } : {}),
    DeletionProtection: true,
    CopyTagsToSnapshot: true,
  };
}

/** Tags a restored instance carries: managed by kb-dr, where it came from, when the restore started. */
export function restoreTags(opts: {
  readonly startedAt: Date;
  readonly sourceInstanceId: string;
  readonly snapshotId?: string;
  readonly restoredToTime?: string;
}): Tag[] {
  return [
    { Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value },
    { Key: RESTORE_STARTED_AT_TAG_KEY, Value: opts.startedAt.toISOString() },
    { Key: RESTORED_FROM_INSTANCE_TAG_KEY, Value: opts.sourceInstanceId },
    ...(opts.snapshotId ? [{ Key: RESTORED_FROM_SNAPSHOT_TAG_KEY, Value: opts.snapshotId }] : []),
    ...(opts.restoredToTime ? [{ Key: RESTORED_TO_TIME_TAG_KEY, Value: opts.restoredToTime }] : []),
  ];
}

/** Tags as a plain record. */
export function tagRecord(tags: readonly Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key) out[t.Key] = t.Value ?? '';
  return out;
}

/** The snapshot's tags (from the describe answer, else ListTagsForResource). */
export async function snapshotTags(rds: RDSClient, snapshot: DBSnapshot): Promise<Record<string, string>> {
  if (snapshot.TagList) return tagRecord(snapshot.TagList);
  if (!snapshot.DBSnapshotArn) return {};
  try {
    const res = await rds.send(new ListTagsForResourceCommand({ ResourceName: snapshot.DBSnapshotArn }));
    return tagRecord(res.TagList);
  } catch (err) {
    throw translateAwsError(err, { operation: `list tags of snapshot ${snapshot.DBSnapshotIdentifier}` });
  }
}

/** True when the tags mark a kb-dr backup. */
export function isManagedByKbDr(tags: Record<string, string>): boolean {
  return tags[MANAGED_BY_TAG.key] === MANAGED_BY_TAG.value;
}

/** The snapshot, or undefined when RDS says it does not exist. */
export async function describeSnapshotIfExists(
  rds: RDSClient,
  snapshotId: string,
): Promise<DBSnapshot | undefined> {
  try {
    const res = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }));
    return res.DBSnapshots?.[0];
  } catch (err) {
    if (awsErrorCode(err) === 'DBSnapshotNotFoundFault' || awsErrorCode(err) === 'DBSnapshotNotFound')
      return undefined;
    throw translateAwsError(err, { operation: `describe snapshot ${snapshotId}` });
  }
}

export interface BackupLocation {
  readonly rds: RDSClient;
  readonly s3: S3Client;
  readonly bucket: string;
  /** The protected instance; `latest` means its newest successful backup. */
  readonly dbInstanceId: string;
}

export interface ResolvedBackup {
  readonly snapshot: DBSnapshot & { DBSnapshotIdentifier: string };
  readonly resolvedFrom: 'latest' | 'id';
  readonly manifest?: BackupManifest;
}

/** The snapshot id `latest` stands for: the newest SUCCEEDED manifest's snapshot. */
export async function resolveLatestSnapshotId(
  loc: BackupLocation,
): Promise<{ snapshotId: string; manifest: BackupManifest }> {
  const manifest = await latestSuccessfulManifest({ s3: loc.s3, bucket: loc.bucket }, loc.dbInstanceId);
  if (!manifest) {
    throw new NotFoundError(
      `"snapshotId": "latest" found no successful kb-dr backup of ${loc.dbInstanceId} (no SUCCEEDED manifest in s3://${loc.bucket}/manifests/)`,
      { hint: `pass an explicit snapshot id instead; ${LIST_SNAPSHOTS_HINT}` },
    );
  }
  return { snapshotId: manifest.snapshotId, manifest };
}

/**
 * Resolve `latest` or a snapshot id to an available kb-dr backup: named kb-snapshot-* AND tagged
 * as managed by kb-dr. Anything else is refused with the reason and the next step.
 */
export async function resolveBackupSnapshot(
  loc: BackupLocation,
  snapshotIdInput: string,
): Promise<ResolvedBackup> {
  let snapshotId = snapshotIdInput;
  let manifest: BackupManifest | undefined;
  const isLatest = snapshotIdInput.toLowerCase() === LATEST;
  if (isLatest) {
    ({ snapshotId, manifest } = await resolveLatestSnapshotId(loc));
  } else if (!isKbSnapshotId(snapshotIdInput)) {
    throw new ValidationError(
      `snapshotId "${snapshotIdInput}" is not a kb-dr backup name, e.g. "snapshotId": "kb-snapshot-20261122-020000" or "snapshotId": "latest"`,
      'snapshotId',
      { hint: `${LIST_SNAPSHOTS_HINT}; nothing was changed` },
    );
  }
  const snapshot = await describeSnapshotIfExists(loc.rds, snapshotId);
  if (!snapshot?.DBSnapshotIdentifier) {
    throw new NotFoundError(
      isLatest
        ? `the latest successful backup ${snapshotId} (from its manifest) no longer exists in RDS, e.g. pass an older "snapshotId": "kb-snapshot-20261122-020000"`
        : `snapshotId "${snapshotId}" not found in this account and region, e.g. "snapshotId": "latest"`,
      { hint: `${LIST_SNAPSHOTS_HINT}; nothing was changed` },
    );
  }
  const tags = await snapshotTags(loc.rds, snapshot);
  if (!isManagedByKbDr(tags)) {
    throw new GuardRailError(
      `snapshot ${snapshotId} is not a kb-dr backup (it lacks the tag ${MANAGED_BY_TAG.key}=${MANAGED_BY_TAG.value}); only kb-dr backups are restored here, e.g. "snapshotId": "latest"`,
      { hint: `pick a kb-dr backup; ${LIST_SNAPSHOTS_HINT}; nothing was changed` },
    );
  }
  if (snapshot.Status !== 'available') {
    throw new InvalidStateError(
      `snapshot ${snapshotId} is ${snapshot.Status ?? 'in an unknown state'}, not available`,
      {
        hint: 'wait until it is available (check the RDS console) or pick another backup; nothing was changed',
        retryable: true,
      },
    );
  }
  return {
    snapshot: { ...snapshot, DBSnapshotIdentifier: snapshot.DBSnapshotIdentifier },
    resolvedFrom: isLatest ? 'latest' : 'id',
    ...(manifest ? { manifest } : {}),
  };
}

/** The recovery time objective the restore clock is measured against: 4 hours. */
export const RTO_TARGET_SECONDS = 4 * 3600;
