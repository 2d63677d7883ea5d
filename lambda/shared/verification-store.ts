/**
 * Verification records in the backup bucket (`verificationKey(instanceId)`, schema in
 * core/verification.ts): verify-restore writes them; restore-status, the CLI, the drill and the
 * weekly restore test read them. A missing record is `undefined` (404), a corrupt one is reported
 * as such (never taken for a result).
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { awsErrorCode, isNotFound } from '../../core/errors';
import { verificationRecordSchema, verificationKey, type VerificationRecord } from '../../core/verification';
import { translateAwsError } from './aws-errors';

export interface VerificationLocation {
  readonly s3: S3Client;
  readonly bucket: string;
}

/** What is stored for an instance: a record, nothing, or an object that is not a valid record. */
export type StoredVerification =
  | { readonly kind: 'record'; readonly record: VerificationRecord }
  | { readonly kind: 'absent' }
  | { readonly kind: 'corrupt'; readonly reason: string };

/** Read the verification record of `instanceId`. AWS faults are translated and thrown. */
export async function readVerification(
  loc: VerificationLocation,
  instanceId: string,
): Promise<StoredVerification> {
  const key = verificationKey(instanceId);
  let text: string;
  try {
    const res = await loc.s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: key }));
    text = (await res.Body?.transformToString()) ?? '';
  } catch (err) {
    if (isNotFound(err)) return { kind: 'absent' };
    throw translateAwsError(err, { operation: `read verification record s3://${loc.bucket}/${key}` });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'corrupt', reason: `s3://${loc.bucket}/${key} is not valid JSON` };
  }
  const parsed = verificationRecordSchema().safeParse(json);
  return parsed.success
    ? { kind: 'record', record: parsed.data }
    : { kind: 'corrupt', reason: `s3://${loc.bucket}/${key} is not a valid verification record` };
}

/**
 * Write a record (SSE-KMS with the backup key). `onlyIfAbsent` adds `If-None-Match: *` and returns
 * false, writing nothing, when another run stored a record first.
 */
export async function writeVerification(
  loc: VerificationLocation & { readonly kmsKeyArn: string },
  record: VerificationRecord,
  onlyIfAbsent: boolean,
): Promise<boolean> {
  const key = verificationKey(record.instanceId);
  try {
    await loc.s3.send(
      new PutObjectCommand({
        Bucket: loc.bucket,
        Key: key,
        Body: JSON.stringify(verificationRecordSchema().parse(record), null, 2),
        ContentType: 'application/json',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: loc.kmsKeyArn,
        ChecksumAlgorithm: 'SHA256',
        ...(onlyIfAbsent ? { IfNoneMatch: '*' } : {}),
      }),
    );
    return true;
  } catch (err) {
    const code = awsErrorCode(err);
    if (onlyIfAbsent && (code === 'PreconditionFailed' || code === 'ConditionalRequestConflict'))
      return false;
    throw translateAwsError(err, { operation: `write verification record s3://${loc.bucket}/${key}` });
  }
}
