/**
 * The restore-test records and the verification records in the backup bucket: written once
 * (S3 conditional write, SSE-KMS, SHA-256 checksum, as the manifests), parsed strictly on read.
 * Absent (404) is told apart from corrupt (reported, never taken for a pass) and from any other fault.
 */
import { isDeepStrictEqual } from 'node:util';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod/mini';
import '../../core/zod-english';
import { awsErrorCode, isNotFound } from '../../core/errors';
import { RESTORE_TESTS_S3_PREFIX, restoreTestRecordKey } from '../../core/naming';
import {
  CorruptRestoreTestRecordError,
  parseRestoreTestRecord,
  restoreTestRecordSchema,
  type RestoreTestRecord,
} from '../../core/restore-test';
import { verificationKey, verificationRecordSchema, type VerificationRecord } from '../../core/verification';
import { translateAwsError } from './aws-errors';
import { listObjects } from './s3-objects';

export interface RecordLocation {
  readonly s3: S3Client;
  readonly bucket: string;
}

export interface WritableRecordLocation extends RecordLocation {
  readonly kmsKeyArn: string;
}

async function readText(loc: RecordLocation, key: string, what: string): Promise<string | undefined> {
  try {
    const res = await loc.s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: key }));
    return (await res.Body?.transformToString()) ?? '';
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw translateAwsError(err, { operation: `read ${what} s3://${loc.bucket}/${key}` });
  }
}

/** The record of test `instanceId`, or undefined (404); CorruptRestoreTestRecordError when malformed. */
export async function getRestoreTestRecord(
  loc: RecordLocation,
  instanceId: string,
): Promise<RestoreTestRecord | undefined> {
  const key = restoreTestRecordKey(instanceId);
  const text = await readText(loc, key, 'restore-test record');
  return text === undefined ? undefined : parseRestoreTestRecord(text, `s3://${loc.bucket}/${key}`);
}

/**
 * Write a record only if none exists (`If-None-Match: *`). True when the stored record is ours
 * (written now, or by a retry of this call whose answer was lost); false when another writer
 * recorded a different one first (nothing written).
 */
export async function putRestoreTestRecordOnce(
  loc: WritableRecordLocation,
  record: RestoreTestRecord,
): Promise<boolean> {
  const key = restoreTestRecordKey(record.instanceId);
  try {
    await loc.s3.send(
      new PutObjectCommand({
        Bucket: loc.bucket,
        Key: key,
        Body: `${JSON.stringify(restoreTestRecordSchema().parse(record), null, 2)}\n`,
        ContentType: 'application/json',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: loc.kmsKeyArn,
        ChecksumAlgorithm: 'SHA256',
        IfNoneMatch: '*',
      }),
    );
    return true;
  } catch (err) {
    const code = awsErrorCode(err);
    if (code !== 'PreconditionFailed' && code !== 'ConditionalRequestConflict')
      throw translateAwsError(err, { operation: `write restore-test record s3://${loc.bucket}/${key}` });
    try {
      const stored = await getRestoreTestRecord(loc, record.instanceId);
      return stored !== undefined && isDeepStrictEqual(stored, restoreTestRecordSchema().parse(record));
    } catch (readErr) {
      if (readErr instanceof CorruptRestoreTestRecordError) return false;
      throw readErr;
    }
  }
}

/** Called for each corrupt record a list skips. */
export type OnCorruptRecord = (err: CorruptRestoreTestRecordError) => void;

/** Intact records, newest first (at most `limit` read); corrupt ones are reported and skipped. */
export async function listRestoreTestRecords(
  loc: RecordLocation,
  options: { readonly limit?: number; readonly onCorrupt?: OnCorruptRecord } = {},
): Promise<RestoreTestRecord[]> {
  let ids: string[];
  try {
    ids = (await listObjects(loc.s3, loc.bucket, `${RESTORE_TESTS_S3_PREFIX}/`))
      .map((o) => /^restore-tests\/(kb-restore-test-\d{8}-\d{4})\.json$/.exec(o.Key ?? '')?.[1])
      .filter((id): id is string => id !== undefined)
      .sort()
      .reverse()
      .slice(0, options.limit ?? Infinity);
  } catch (err) {
    throw translateAwsError(err, { operation: `list restore-test records in s3://${loc.bucket}` });
  }
  const out: RestoreTestRecord[] = [];
  for (const id of ids) {
    try {
      const r = await getRestoreTestRecord(loc, id);
      if (r) out.push(r);
    } catch (err) {
      if (!(err instanceof CorruptRestoreTestRecordError)) throw err;
      options.onCorrupt?.(err);
    }
  }
  return out;
}

/** What reading a verification record found. */
export type VerificationRead =
  | { readonly state: 'absent' }
  | { readonly state: 'corrupt'; readonly detail: string }
  | { readonly state: 'present'; readonly record: VerificationRecord };

/** The verification record verify-restore wrote for `instanceId`, parsed strictly. */
export async function readVerification(loc: RecordLocation, instanceId: string): Promise<VerificationRead> {
  const key = verificationKey(instanceId);
  const text = await readText(loc, key, 'verification record');
  if (text === undefined) return { state: 'absent' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { state: 'corrupt', detail: `s3://${loc.bucket}/${key} is not valid JSON` };
  }
  const parsed = verificationRecordSchema().safeParse(json);
  if (!parsed.success)
    return {
      state: 'corrupt',
      detail: `s3://${loc.bucket}/${key} is malformed: ${z.prettifyError(parsed.error).replace(/\s+/g, ' ')}`,
    };
  if (parsed.data.instanceId.toLowerCase() !== instanceId.toLowerCase())
    return {
      state: 'corrupt',
      detail: `s3://${loc.bucket}/${key} is about ${parsed.data.instanceId}, not ${instanceId}`,
    };
  return { state: 'present', record: parsed.data };
}
