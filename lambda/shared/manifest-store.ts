/**
 * Reading and writing backup manifests in the backup bucket. Shared by the backup pipeline
 * (writes), restore (`latest` resolution) and validation (consistency checks).
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { awsErrorCode, translateAwsError } from './errors';
import { BackupManifestSchema, parseManifest, type BackupManifest } from './manifest';
import { MANIFESTS_S3_PREFIX, manifestKey } from './naming';

export interface ManifestLocation {
  readonly s3: S3Client;
  readonly bucket: string;
}

/** The manifest of `snapshotId`, or undefined when none has been recorded. */
export async function getManifest(
  loc: ManifestLocation,
  snapshotId: string,
): Promise<BackupManifest | undefined> {
  const key = manifestKey(snapshotId);
  try {
    const res = await loc.s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: key }));
    const text = (await res.Body?.transformToString()) ?? '';
    return parseManifest(text, `s3://${loc.bucket}/${key}`);
  } catch (err) {
    const code = awsErrorCode(err);
    if (code === 'NoSuchKey' || code === 'NotFound') return undefined;
    throw translateAwsError(err, { operation: `read manifest s3://${loc.bucket}/${key}` });
  }
}

type WritableLocation = ManifestLocation & { readonly kmsKeyArn: string };

/**
 * PUT a manifest, SSE-KMS with the bucket's key and a SHA-256 checksum, validated against the
 * schema first so a malformed manifest is never stored. `onlyIfAbsent` adds `If-None-Match: *`.
 */
async function writeManifest(
  loc: WritableLocation,
  manifest: BackupManifest,
  onlyIfAbsent: boolean,
): Promise<void> {
  const body = JSON.stringify(BackupManifestSchema.parse(manifest), null, 2);
  await loc.s3.send(
    new PutObjectCommand({
      Bucket: loc.bucket,
      Key: manifestKey(manifest.snapshotId),
      Body: body,
      ContentType: 'application/json',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: loc.kmsKeyArn,
      ChecksumAlgorithm: 'SHA256',
      ...(onlyIfAbsent ? { IfNoneMatch: '*' } : {}),
    }),
  );
}

function writeFailed(loc: WritableLocation, manifest: BackupManifest, err: unknown): never {
  throw translateAwsError(err, {
    operation: `write manifest s3://${loc.bucket}/${manifestKey(manifest.snapshotId)}`,
  });
}

/** Write (or overwrite) a manifest. */
export async function putManifest(loc: WritableLocation, manifest: BackupManifest): Promise<void> {
  try {
    await writeManifest(loc, manifest, false);
  } catch (err) {
    writeFailed(loc, manifest, err);
  }
}

/**
 * Write a manifest only if none exists for its snapshot (S3 conditional write, `If-None-Match: *`).
 * Returns false, writing nothing, when another writer recorded it first (412 Precondition Failed,
 * or 409 while a concurrent conditional write to the same key is in flight).
 */
export async function putManifestOnce(loc: WritableLocation, manifest: BackupManifest): Promise<boolean> {
  try {
    await writeManifest(loc, manifest, true);
    return true;
  } catch (err) {
    const code = awsErrorCode(err);
    if (code === 'PreconditionFailed' || code === 'ConditionalRequestConflict') return false;
    writeFailed(loc, manifest, err);
  }
}

/** The snapshot ids that have a manifest, oldest first (ids sort by time). */
export async function listManifestSnapshotIds(loc: ManifestLocation): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  try {
    do {
      const res = await loc.s3.send(
        new ListObjectsV2Command({
          Bucket: loc.bucket,
          Prefix: `${MANIFESTS_S3_PREFIX}/`,
          ContinuationToken: token,
        }),
      );
      for (const obj of res.Contents ?? []) {
        const m = /^manifests\/(.+)\.json$/.exec(obj.Key ?? '');
        if (m?.[1]) ids.push(m[1]);
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  } catch (err) {
    throw translateAwsError(err, { operation: `list manifests in s3://${loc.bucket}` });
  }
  return ids.sort();
}

/** Manifests newest first, reading at most `limit` of them (default: all). */
export async function listManifests(loc: ManifestLocation, limit = Infinity): Promise<BackupManifest[]> {
  const ids = (await listManifestSnapshotIds(loc)).reverse().slice(0, limit);
  const manifests = await Promise.all(ids.map((id) => getManifest(loc, id)));
  return manifests.filter((m): m is BackupManifest => m !== undefined);
}

/** The newest manifest with status SUCCEEDED (optionally for one instance), or undefined. */
export async function latestSuccessfulManifest(
  loc: ManifestLocation,
  dbInstanceId?: string,
): Promise<BackupManifest | undefined> {
  const ids = (await listManifestSnapshotIds(loc)).reverse();
  for (const id of ids) {
    const m = await getManifest(loc, id);
    if (m && m.status === 'SUCCEEDED' && (dbInstanceId === undefined || m.dbInstanceId === dbInstanceId))
      return m;
  }
  return undefined;
}
