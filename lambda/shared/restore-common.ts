/**
 * Logic the restore functions share: resolving a kb-dr backup (`latest` or an id), copying the
 * source instance's settings onto the new instance, and the tags saying where it came from.
 */
import {
  ListTagsForResourceCommand,
  type DBInstance,
  type DBSnapshot,
  type RDSClient,
  type Tag,
} from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  AccessDeniedError,
  AwsOperationError,
  GuardRailError,
  InvalidStateError,
  KbDrError,
  NotFoundError,
  ValidationError,
  awsErrorCode,
} from '../../core/errors';
import { translateAwsError } from './aws-errors';
import { classifyFault, isAmbiguousOutcome } from './fault-class';
import { isAsideOf, truncateForEcho } from './guards';
import { describeInstanceIfExists } from './rds-instances';
import { isManagedByKbDr, tagRecord } from './tags';

// Tag helpers live with the guards (no SDK commands there, so promote-restore can use them without
// appearing to send restore-common's); re-exported for the existing importers.
export { promotableInto } from './guards';
import type { BackupManifest } from '../../core/manifest';
import { latestSuccessfulManifest } from './manifest-store';
import {
  MANAGED_BY_TAG,
  PROTECTED_INSTANCE_TAG_KEY,
  RESTORE_REQUEST_TAG_KEY,
  RESTORED_FROM_INSTANCE_TAG_KEY,
  RESTORED_FROM_SNAPSHOT_TAG_KEY,
  RESTORED_TO_TIME_TAG_KEY,
  RESTORE_STARTED_AT_TAG_KEY,
  isKbSnapshotId,
} from '../../core/naming';
import { describeSnapshotIfExists } from './rds-snapshots';

/** Where logic functions put catalogued metrics: the one interface of lambda/shared/powertools.ts. */
export type { MetricSink } from './powertools';

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
  /** gp2, gp3, io1, io2, standard. */
  readonly storageType?: string;
  /** Provisioned IOPS, only where RDS accepts them (io1/io2; gp3 from 400 GiB). */
  readonly iops?: number;
  /** gp3 throughput in MiB/s, only where RDS accepts it (gp3 from 400 GiB). */
  readonly storageThroughput?: number;
  /** Storage autoscaling ceiling, GiB. */
  readonly maxAllocatedStorage?: number;
  /** Always true: verify-restore logs in with IAM database authentication. */
  readonly iamDatabaseAuthentication: true;
  readonly cloudwatchLogsExports: readonly string[];
  readonly optionGroupName?: string;
  readonly caCertificateIdentifier?: string;
  /** `open-source-rds-extended-support` or `...-disabled`. */
  readonly engineLifecycleSupport?: string;
  /** Always true: a restored instance cannot be deleted by accident. */
  readonly deletionProtection: true;
}

/**
 * RDS for PostgreSQL refuses IOPS and throughput on gp3 below 400 GiB (they are the fixed baseline
 * there: "You can't specify IOPS or storage throughput for engine postgres and a storage size less
 * than 400"), so they are copied only where a request may carry them.
 */
export const GP3_PROVISIONED_MIN_GIB = 400;

function storageSettings(
  from:
    | { StorageType?: string; Iops?: number; StorageThroughput?: number; AllocatedStorage?: number }
    | undefined,
): Pick<SourceSettings, 'storageType' | 'iops' | 'storageThroughput'> {
  if (!from?.StorageType) return {};
  const type = from.StorageType;
  const provisioned =
    type === 'io1' ||
    type === 'io2' ||
    (type === 'gp3' && (from.AllocatedStorage ?? 0) >= GP3_PROVISIONED_MIN_GIB);
  return {
    storageType: type,
    ...(provisioned && from.Iops !== undefined ? { iops: from.Iops } : {}),
    ...(type === 'gp3' && provisioned && from.StorageThroughput !== undefined
      ? { storageThroughput: from.StorageThroughput }
      : {}),
  };
}

/**
 * The settings to copy from `source` (undefined: the source is gone; RDS defaults apply). For a
 * snapshot restore, `snapshot` supplies what the snapshot itself records and that must match its
 * data: storage type/IOPS/throughput (sized for its allocated storage) and the option group (for
 * its engine version).
 */
export function settingsFromInstance(
  source: DBInstance | undefined,
  encryption: { storageEncrypted: boolean; kmsKeyId?: string | undefined },
  snapshot?: DBSnapshot,
): SourceSettings {
  const pg = source?.DBParameterGroups?.[0]?.DBParameterGroupName;
  // A `default:<engine>-<version>` option group is what RDS assigns anyway, matched to the restored
  // engine version (passing the source's could name another major version's): copy only custom ones.
  const optionGroup = [snapshot?.OptionGroupName, source?.OptionGroupMemberships?.[0]?.OptionGroupName].find(
    (g): g is string => Boolean(g) && !g?.startsWith('default:'),
  );
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
    ...storageSettings(snapshot ?? source),
    ...(source?.MaxAllocatedStorage !== undefined ? { maxAllocatedStorage: source.MaxAllocatedStorage } : {}),
    // Always on (RDS defaults it to off on a restore): verify-restore logs in as the read-only
    // kb_verify role with an IAM token. Password logins keep working; nothing else changes.
    iamDatabaseAuthentication: true,
    cloudwatchLogsExports: [...(source?.EnabledCloudwatchLogsExports ?? [])],
    ...(optionGroup ? { optionGroupName: optionGroup } : {}),
    ...(source?.CACertificateIdentifier ? { caCertificateIdentifier: source.CACertificateIdentifier } : {}),
    ...(source?.EngineLifecycleSupport ? { engineLifecycleSupport: source.EngineLifecycleSupport } : {}),
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
    `source instance ${wantedSource} no longer exists: instance class, subnet group, security groups, parameter group, log exports, CA certificate and tags fall back to RDS defaults (default VPC); change them with ModifyDBInstance after the restore`,
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
  StorageType?: string;
  Iops?: number;
  StorageThroughput?: number;
  MaxAllocatedStorage?: number;
  EnableIAMDatabaseAuthentication: boolean;
  EnableCloudwatchLogsExports?: string[];
  OptionGroupName?: string;
  CACertificateIdentifier?: string;
  EngineLifecycleSupport?: string;
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
    ...(s.storageType ? { StorageType: s.storageType } : {}),
    ...(s.iops !== undefined ? { Iops: s.iops } : {}),
    ...(s.storageThroughput !== undefined ? { StorageThroughput: s.storageThroughput } : {}),
    ...(s.maxAllocatedStorage !== undefined ? { MaxAllocatedStorage: s.maxAllocatedStorage } : {}),
    EnableIAMDatabaseAuthentication: s.iamDatabaseAuthentication,
    ...(s.cloudwatchLogsExports.length > 0
      ? { EnableCloudwatchLogsExports: [...s.cloudwatchLogsExports] }
      : {}),
    ...(s.optionGroupName ? { OptionGroupName: s.optionGroupName } : {}),
    ...(s.caCertificateIdentifier ? { CACertificateIdentifier: s.caCertificateIdentifier } : {}),
    ...(s.engineLifecycleSupport ? { EngineLifecycleSupport: s.engineLifecycleSupport } : {}),
    DeletionProtection: true,
    CopyTagsToSnapshot: true,
  };
}

/** Tags a restored instance carries: managed by kb-dr, where it came from, when the restore started. */
export function restoreTags(opts: {
  readonly startedAt: Date;
  readonly sourceInstanceId: string;
  /** The protected instance the restore is a copy of (what promote-restore checks). */
  readonly protectedInstanceId: string;
  /** Unique per request: lets a lost answer be resolved by reading the instance's tags. */
  readonly requestId: string;
  readonly snapshotId?: string;
  readonly restoredToTime?: string;
}): Tag[] {
  return [
    { Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value },
    { Key: RESTORE_STARTED_AT_TAG_KEY, Value: opts.startedAt.toISOString() },
    { Key: RESTORED_FROM_INSTANCE_TAG_KEY, Value: opts.sourceInstanceId },
    { Key: PROTECTED_INSTANCE_TAG_KEY, Value: opts.protectedInstanceId.toLowerCase() },
    { Key: RESTORE_REQUEST_TAG_KEY, Value: opts.requestId },
    ...(opts.snapshotId ? [{ Key: RESTORED_FROM_SNAPSHOT_TAG_KEY, Value: opts.snapshotId }] : []),
    ...(opts.restoredToTime ? [{ Key: RESTORED_TO_TIME_TAG_KEY, Value: opts.restoredToTime }] : []),
  ];
}

/** RDS allows at most 50 tags per resource. */
export const MAX_RDS_TAGS = 50;

/**
 * The source's tags merged with ours (RDS copies none when a restore passes `Tags`). The source's
 * `kb-dr:` tags are dropped: they describe the source (a promoted restore carries its own
 * restore-available-at, which would stop the new restore's RTO clock at once); `aws:` tags cannot
 * be set. Ours win on a clash; when the total would pass RDS's 50, the source's extra tags are
 * dropped and named in `dropped`.
 */
export function mergeRestoreTags(
  sourceTags: readonly Tag[] | undefined,
  ours: readonly Tag[],
): { tags: Tag[]; copied: string[]; dropped: string[] } {
  const ourKeys = new Set(ours.map((t) => t.Key));
  const candidates = (sourceTags ?? []).filter(
    (t): t is Tag & { Key: string } =>
      Boolean(t.Key) && !t.Key?.startsWith('kb-dr:') && !t.Key?.startsWith('aws:') && !ourKeys.has(t.Key),
  );
  const room = Math.max(0, MAX_RDS_TAGS - ours.length);
  const kept = candidates.slice(0, room);
  return {
    tags: [...kept.map((t) => ({ Key: t.Key, Value: t.Value ?? '' })), ...ours],
    copied: kept.map((t) => t.Key),
    dropped: candidates.slice(room).map((t) => t.Key),
  };
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
  /** The snapshot's tags. */
  readonly tags: Record<string, string>;
  /** Corrupt manifests `latest` skipped on its way to the newest intact one (S3 URIs). */
  readonly skippedCorrupt: readonly string[];
}

/** The snapshot id `latest` stands for: the newest SUCCEEDED manifest's snapshot. */
export async function resolveLatestSnapshotId(
  loc: BackupLocation,
): Promise<{ snapshotId: string; manifest: BackupManifest; skippedCorrupt: readonly string[] }> {
  let manifest: BackupManifest | undefined;
  // A corrupt manifest never breaks `latest`: it is skipped, and the caller reports it.
  const skippedCorrupt: string[] = [];
  try {
    manifest = await latestSuccessfulManifest({ s3: loc.s3, bucket: loc.bucket }, loc.dbInstanceId, (err) =>
      skippedCorrupt.push(err.source),
    );
  } catch (err) {
    throw manifestReadError(err, loc.bucket, undefined, 'resolve "latest"');
  }
  if (!manifest) {
    throw new NotFoundError(
      `"snapshotId": "latest" found no successful kb-dr backup of ${loc.dbInstanceId} (no SUCCEEDED manifest in s3://${loc.bucket}/manifests/)`,
      { hint: `pass an explicit snapshot id instead; ${LIST_SNAPSHOTS_HINT}` },
    );
  }
  return { snapshotId: manifest.snapshotId, manifest, skippedCorrupt };
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
  let skippedCorrupt: readonly string[] = [];
  const isLatest = snapshotIdInput.toLowerCase() === LATEST;
  if (isLatest) {
    ({ snapshotId, manifest, skippedCorrupt } = await resolveLatestSnapshotId(loc));
  } else if (!isKbSnapshotId(snapshotIdInput)) {
    throw new ValidationError(
      `snapshotId "${truncateForEcho(snapshotIdInput)}" is not a kb-dr backup name, e.g. "snapshotId": "kb-snapshot-20261122-020000" or "snapshotId": "latest"`,
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
  const provenance = snapshotProvenance(snapshot, tags, loc.dbInstanceId);
  if (!provenance.ok) {
    throw new GuardRailError(
      `snapshot ${snapshotId} is not a backup of the protected instance ${loc.dbInstanceId.toLowerCase()}: ${provenance.reason}; a restore here only copies ${loc.dbInstanceId.toLowerCase()}'s own backups, e.g. "snapshotId": "latest"`,
      {
        hint: `pick a backup of ${loc.dbInstanceId.toLowerCase()} (or name the instance it protects with "sourceInstanceId"); ${LIST_SNAPSHOTS_HINT}; nothing was changed`,
      },
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
    skippedCorrupt,
    ...(manifest ? { manifest } : {}),
    tags,
  };
}

/**
 * An error reading manifests, with denied told apart from missing. S3 answers 403 (not 404) for a
 * missing key to a caller without s3:ListBucket on the bucket, so a denial names both permissions.
 */
export function manifestReadError(
  err: unknown,
  bucket: string,
  key: string | undefined,
  what: string,
): KbDrError {
  const cause = err instanceof KbDrError && err.cause !== undefined ? err.cause : err;
  const denied = err instanceof AccessDeniedError || classifyFault(cause) === 'denied';
  if (!denied) {
    return err instanceof KbDrError
      ? err
      : translateAwsError(err, { operation: `${what}: read s3://${bucket}/${key ?? 'manifests/'}` });
  }
  const where = key ? `s3://${bucket}/${key}` : `the manifests in s3://${bucket}/manifests/`;
  return new AccessDeniedError(
    `${what}: access to ${where} was DENIED (403), so it is unknown whether the manifest exists: S3 answers 403 instead of 404 for a missing key when the caller lacks s3:ListBucket`,
    {
      cause,
      hint: `check that this function's role has s3:ListBucket on arn:aws:s3:::${bucket} (without an s3:prefix condition) and s3:GetObject on arn:aws:s3:::${bucket}/manifests/*, and that the bucket's KMS key allows kms:Decrypt; redeploy with \`cdk deploy --all\`; nothing was changed`,
    },
  );
}

/** True when `tags`/`snapshot` show the snapshot is a backup of `protectedId` (see checkSnapshotProvenance). */
export function snapshotProvenance(
  snapshot: DBSnapshot,
  tags: Record<string, string>,
  protectedId: string,
): { ok: true } | { ok: false; reason: string } {
  const from = (snapshot.DBInstanceIdentifier ?? '').toLowerCase();
  const tagged = tags[PROTECTED_INSTANCE_TAG_KEY]?.toLowerCase();
  const prot = protectedId.toLowerCase();
  if (tagged !== undefined && tagged !== prot)
    return { ok: false, reason: `its tag ${PROTECTED_INSTANCE_TAG_KEY}=${tagged} names another instance` };
  if (from === prot) return { ok: true };
  // After a promotion the old production is `<prod>-pre-promote-<time>`: its snapshots are still
  // backups of the protected instance, which the pipeline's tag says.
  if (tagged === prot && isAsideOf(from, prot)) return { ok: true };
  return {
    ok: false,
    reason:
      tagged === prot
        ? `it was taken of ${from || 'an unknown instance'}, which is neither ${prot} nor its promotion aside ${prot}-pre-promote-*`
        : `it was taken of ${from || 'an unknown instance'}, not ${prot}${isAsideOf(from, prot) ? ` (an aside of ${prot} needs the tag ${PROTECTED_INSTANCE_TAG_KEY}=${prot})` : ''}`,
  };
}

/** The recovery time objective the restore clock is measured against: 4 hours. */
export const RTO_TARGET_SECONDS = 4 * 3600;

/** How a restore call ended when its answer was lost but reading state showed it had been applied. */
export interface RestoreCallResult {
  readonly status?: string;
  /** Set when the answer was lost and the state read showed the restore had started. */
  readonly resolvedFromState?: string;
}

/**
 * Send the single mutating restore call. When its answer is lost (timeout, 5xx, dropped
 * connection), or the SDK's own retry of a request that had been applied meets
 * DBInstanceAlreadyExists, the outcome is read from state: the target exists and carries this
 * request's `kb-dr:restore-request` tag means the restore started; anything else is reported as
 * it is, never guessed.
 */
export async function sendRestore(
  rds: RDSClient,
  opts: { readonly targetInstanceId: string; readonly requestId: string; readonly operation: string },
  send: () => Promise<string | undefined>,
): Promise<RestoreCallResult> {
  try {
    const status = await send();
    return status ? { status } : {};
  } catch (err) {
    const fault = classifyFault(err);
    if (!isAmbiguousOutcome(err) && fault !== 'alreadyExists') throw translateAwsError(err, opts);
    const code = awsErrorCode(err);
    let instance: DBInstance | undefined;
    try {
      instance = await describeInstanceIfExists(rds, opts.targetInstanceId);
    } catch (readErr) {
      throw new AwsOperationError(
        `${opts.operation}: the answer was lost (${code}) and reading the target's state failed too (${(readErr as Error).message}): the restore may or may not have started`,
        {
          cause: err,
          hint: `run restore-status {"targetInstanceId": "${opts.targetInstanceId}"} in a minute: if it finds the instance, the restore started; if not, run the same event again`,
          retryable: true,
        },
      );
    }
    if (instance && tagRecord(instance.TagList)[RESTORE_REQUEST_TAG_KEY] === opts.requestId) {
      return {
        ...(instance.DBInstanceStatus ? { status: instance.DBInstanceStatus } : {}),
        resolvedFromState: `the answer to the restore request was lost (${code}); reading the state showed ${opts.targetInstanceId} exists and was created by this request`,
      };
    }
    if (fault === 'alreadyExists') throw translateAwsError(err, opts);
    throw new AwsOperationError(
      `${opts.operation}: the answer was lost (${code}) and no instance ${opts.targetInstanceId} ${instance ? 'made by this request ' : ''}exists now, so the restore was not applied (RDS lists a new instance as soon as it accepts the request)`,
      {
        cause: err,
        hint: `run the same event again (it refuses, changing nothing, if ${opts.targetInstanceId} appeared meanwhile; then follow it with restore-status)`,
        retryable: true,
      },
    );
  }
}
