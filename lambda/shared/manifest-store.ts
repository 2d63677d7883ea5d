/**
 * Reading and writing backup manifests in the backup bucket. Shared by the backup pipeline
 * (writes), restore (`latest` resolution) and validation (consistency checks).
 *
 * Reads tell three answers apart: absent (404: the functions hold an unconditioned
 * `s3:ListBucket` on the bucket, without which S3 answers 403 for a missing key), denied (403:
 * an AccessDeniedError naming the permissions to check, never taken for "absent") and corrupt
 * (a CorruptManifestError: reported and skipped by the list readers, never fatal to them).
 */
import { isDeepStrictEqual } from 'node:util';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AccessDeniedError, awsErrorCode, CorruptManifestError, isNotFound } from '../../core/errors';
import { translateAwsError } from './aws-errors';
import { classifyFault } from './fault-class';
import { backupManifestSchema, parseManifest, type BackupManifest } from '../../core/manifest';
import { MANIFESTS_S3_PREFIX, manifestKey, sameInstanceId } from '../../core/naming';
import { listObjects } from './s3-objects';

export interface ManifestLocation {
  readonly s3: S3Client;
  readonly bucket: string;
}

/** Called for each corrupt manifest a list reader skips (log it, count it). */
export type OnCorruptManifest = (err: CorruptManifestError) => void;

function deniedRead(loc: ManifestLocation, key: string, err: unknown): AccessDeniedError {
  return new AccessDeniedError(
    `reading manifest s3://${loc.bucket}/${key} was denied (${awsErrorCode(err)}); kb-dr cannot tell whether the backup is recorded`,
    {
      cause: err,
      hint: `check that the function's role has s3:ListBucket on arn:aws:s3:::${loc.bucket} without an s3:prefix condition (without it S3 answers 403 for a missing key), s3:GetObject on arn:aws:s3:::${loc.bucket}/${MANIFESTS_S3_PREFIX}/* and kms:Decrypt on the backup key; redeploy with \`cdk deploy --all\``,
    },
  );
}

/**
 * The manifest of `snapshotId`, or undefined when none is recorded (404). Throws AccessDeniedError
 * when S3 refuses the read (403), CorruptManifestError when the object is not a valid manifest,
 * and the translated error (retryable when transient) otherwise.
 */
export async function getManifest(
  loc: ManifestLocation,
  snapshotId: string,
): Promise<BackupManifest | undefined> {
  const key = manifestKey(snapshotId);
  let text: string;
  try {
    const res = await loc.s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: key }));
    text = (await res.Body?.transformToString()) ?? '';
  } catch (err) {
    if (isNotFound(err)) return undefined;
    if (classifyFault(err) === 'denied' && !/KMS/.test(awsErrorCode(err))) throw deniedRead(loc, key, err);
    throw translateAwsError(err, { operation: `read manifest s3://${loc.bucket}/${key}` });
  }
  return parseManifest(text, `s3://${loc.bucket}/${key}`);
}

/**
 * Whether a manifest object exists for `snapshotId`: a corrupt one exists (it is reported to
 * `onCorrupt`), so the backup is not taken or recorded a second time on top of it.
 */
export async function manifestExists(
  loc: ManifestLocation,
  snapshotId: string,
  onCorrupt?: OnCorruptManifest,
): Promise<boolean> {
  try {
    return (await getManifest(loc, snapshotId)) !== undefined;
  } catch (err) {
    if (err instanceof CorruptManifestError) {
      onCorrupt?.(err);
      return true;
    }
    throw err;
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
  const body = JSON.stringify(backupManifestSchema().parse(manifest), null, 2);
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
 * Returns true when the stored manifest is ours: written now, or written by an earlier attempt of
 * this same call whose answer was lost (the SDK's retry then gets 412 on our own write, so the
 * stored object is read back and compared). Returns false, writing nothing, when another writer
 * recorded a different manifest first (412, or 409 while a concurrent conditional write is in flight).
 */
export async function putManifestOnce(loc: WritableLocation, manifest: BackupManifest): Promise<boolean> {
  try {
    await writeManifest(loc, manifest, true);
    return true;
  } catch (err) {
    const code = awsErrorCode(err);
    if (code === 'PreconditionFailed' || code === 'ConditionalRequestConflict') {
      return storedIs(loc, manifest);
    }
    writeFailed(loc, manifest, err);
  }
}

async function storedIs(loc: ManifestLocation, manifest: BackupManifest): Promise<boolean> {
  let stored: BackupManifest | undefined;
  try {
    stored = await getManifest(loc, manifest.snapshotId);
  } catch (err) {
    if (err instanceof CorruptManifestError) return false;
    throw err;
  }
  return stored !== undefined && isDeepStrictEqual(stored, backupManifestSchema().parse(manifest));
}

/** The snapshot ids that have a manifest, oldest first (ids sort by time). */
export async function listManifestSnapshotIds(loc: ManifestLocation): Promise<string[]> {
  const ids: string[] = [];
  try {
    for (const obj of await listObjects(loc.s3, loc.bucket, `${MANIFESTS_S3_PREFIX}/`)) {
      const m = /^manifests\/(.+)\.json$/.exec(obj.Key ?? '');
      if (m?.[1]) ids.push(m[1]);
    }
  } catch (err) {
    throw translateAwsError(err, { operation: `list manifests in s3://${loc.bucket}` });
  }
  return ids.sort();
}

/** The manifest of `id`, or undefined when absent or corrupt (reported to `onCorrupt`). */
async function readIntact(
  loc: ManifestLocation,
  id: string,
  onCorrupt: OnCorruptManifest | undefined,
): Promise<BackupManifest | undefined> {
  try {
    return await getManifest(loc, id);
  } catch (err) {
    if (!(err instanceof CorruptManifestError)) throw err;
    onCorrupt?.(err);
    return undefined;
  }
}

/** Intact manifests newest first, reading at most `limit` of them (default: all); corrupt ones are skipped. */
export async function listManifests(
  loc: ManifestLocation,
  limit = Infinity,
  onCorrupt?: OnCorruptManifest,
): Promise<BackupManifest[]> {
  const ids = (await listManifestSnapshotIds(loc)).reverse().slice(0, limit);
  const manifests = await Promise.all(ids.map((id) => readIntact(loc, id, onCorrupt)));
  return manifests.filter((m): m is BackupManifest => m !== undefined);
}

/**
 * The newest intact manifest with status SUCCEEDED (optionally for one instance, compared as RDS
 * compares ids), or undefined. A corrupt manifest is skipped and reported to `onCorrupt`.
 */
export async function latestSuccessfulManifest(
  loc: ManifestLocation,
  dbInstanceId?: string,
  onCorrupt?: OnCorruptManifest,
): Promise<BackupManifest | undefined> {
  const ids = (await listManifestSnapshotIds(loc)).reverse();
  for (const id of ids) {
    const m = await readIntact(loc, id, onCorrupt);
    if (
      m &&
      m.status === 'SUCCEEDED' &&
      (dbInstanceId === undefined || sameInstanceId(m.dbInstanceId, dbInstanceId))
    )
      return m;
  }
  return undefined;
}
