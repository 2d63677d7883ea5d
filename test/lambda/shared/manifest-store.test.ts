import 'aws-sdk-client-mock-jest';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { AccessDeniedError, AwsOperationError, CorruptManifestError } from '../../../core/errors';
import {
  getManifest,
  latestSuccessfulManifest,
  listManifests,
  putManifest,
  putManifestOnce,
} from '../../../lambda/shared/manifest-store';
import { manifestKey, snapshotIdFor } from '../../../core/naming';
import {
  awsError,
  CONFIG,
  failedManifest,
  serveManifests,
  successManifest,
} from '../../support/backup-fixtures';

const s3 = mockClient(S3Client);
const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const loc = { s3: client, bucket: CONFIG.backupBucket, kmsKeyArn: CONFIG.kmsKeyArn };
const OLD = snapshotIdFor(new Date('2026-11-20T02:00:00Z'));
const MID = snapshotIdFor(new Date('2026-11-21T02:00:00Z'));
const NEW = snapshotIdFor(new Date('2026-11-22T02:00:00Z'));

function serveText(key: string, text: string): void {
  s3.on(GetObjectCommand, { Key: key }).resolves({ Body: { transformToString: async () => text } as never });
}

beforeEach(() => s3.reset());

describe('reading a manifest', () => {
  it('answers undefined for a missing key (404 NoSuchKey)', async () => {
    serveManifests(s3, []);
    await expect(getManifest(loc, NEW)).resolves.toBeUndefined();
  });

  it('never takes a 403 for "absent": AccessDeniedError naming the object and the permissions to check', async () => {
    s3.on(GetObjectCommand).rejects(awsError('AccessDenied', 'Access Denied', 403));
    const err = await getManifest(loc, NEW).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccessDeniedError);
    const e = err as AccessDeniedError;
    expect(e.message).toContain(`s3://${CONFIG.backupBucket}/${manifestKey(NEW)}`);
    expect(e.hint).toContain(`s3:ListBucket on arn:aws:s3:::${CONFIG.backupBucket}`);
    expect(e.hint).toContain(`s3:GetObject on arn:aws:s3:::${CONFIG.backupBucket}/manifests/*`);
    expect(e.retryable).toBe(false);
  });

  it('throws CorruptManifestError, naming the object, for a manifest that is not the schema', async () => {
    serveText(manifestKey(NEW), JSON.stringify({ version: 1, snapshotId: NEW }));
    const err = await getManifest(loc, NEW).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptManifestError);
    expect((err as CorruptManifestError).source).toBe(`s3://${CONFIG.backupBucket}/${manifestKey(NEW)}`);
  });

  it('skips a corrupt newest manifest, reports it, and still finds the newest intact success', async () => {
    serveManifests(s3, [
      successManifest(OLD, new Date('2026-11-20T03:00:00Z')),
      failedManifest(MID, new Date()),
    ]);
    s3.on(ListObjectsV2Command).resolves({
      Contents: [OLD, MID, NEW].map((id) => ({ Key: manifestKey(id) })),
    });
    serveText(manifestKey(NEW), 'not json at all');
    const corrupt: string[] = [];
    const latest = await latestSuccessfulManifest(loc, CONFIG.dbInstanceId.toUpperCase(), (e) =>
      corrupt.push(e.source),
    );
    const all = await listManifests(loc, Infinity, (e) => corrupt.push(e.source));
    expect(latest?.snapshotId).toBe(OLD);
    expect(all.map((m) => m.snapshotId)).toEqual([MID, OLD]);
    expect(corrupt).toEqual([
      `s3://${CONFIG.backupBucket}/${manifestKey(NEW)}`,
      `s3://${CONFIG.backupBucket}/${manifestKey(NEW)}`,
    ]);
  });
});

describe('putManifestOnce', () => {
  const ours = successManifest(NEW, new Date('2026-11-22T02:40:00Z'));

  it('writes with If-None-Match: * (SSE-KMS, SHA-256) and is true without reading anything back', async () => {
    // Prepare
    s3.on(PutObjectCommand).resolves({});
    // Act
    await expect(putManifestOnce(loc, ours)).resolves.toBe(true);
    // Assess
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: CONFIG.backupBucket,
      Key: manifestKey(NEW),
      IfNoneMatch: '*',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: CONFIG.kmsKeyArn,
      ChecksumAlgorithm: 'SHA256',
    });
    expect(s3).toHaveReceivedCommandTimes(GetObjectCommand, 0);
  });

  it('is false on a 409 ConditionalRequestConflict when the stored manifest is another one', async () => {
    s3.on(PutObjectCommand).rejects(awsError('ConditionalRequestConflict', 'conflict', 409));
    serveText(manifestKey(NEW), JSON.stringify({ ...ours, recordedAt: '2026-11-22T02:41:00.000Z' }));
    await expect(putManifestOnce(loc, ours)).resolves.toBe(false);
  });

  it('is false, and overwrites nothing, when the stored manifest is corrupt', async () => {
    s3.on(PutObjectCommand).rejects(awsError('PreconditionFailed', 'pre-conditions failed', 412));
    serveText(manifestKey(NEW), '{ not json');
    await expect(putManifestOnce(loc, ours)).resolves.toBe(false);
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
  });

  it('throws the translated error for any other write failure, naming the object', async () => {
    s3.on(PutObjectCommand).rejects(awsError('InternalError', 'We encountered an internal error', 500));
    const err = await putManifestOnce(loc, ours).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsOperationError);
    expect((err as Error).message).toBe(
      `write manifest s3://${CONFIG.backupBucket}/${manifestKey(NEW)} failed: InternalError: We encountered an internal error`,
    );
    expect(s3).toHaveReceivedCommandTimes(GetObjectCommand, 0);
  });

  it('never writes a manifest that is not the schema', async () => {
    const bad = { ...ours, status: 'MAYBE' } as unknown as typeof ours;
    await expect(putManifestOnce(loc, bad)).rejects.toThrow();
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 0);
  });

  it('is true when the 412 is on our own earlier write (stored manifest equals ours)', async () => {
    s3.on(PutObjectCommand).rejects(
      awsError('PreconditionFailed', 'At least one of the pre-conditions failed', 412),
    );
    serveText(manifestKey(NEW), JSON.stringify(ours, null, 2));
    await expect(putManifestOnce(loc, ours)).resolves.toBe(true);
  });

  it('is false when another writer stored a different manifest first', async () => {
    s3.on(PutObjectCommand).rejects(
      awsError('PreconditionFailed', 'At least one of the pre-conditions failed', 412),
    );
    serveText(manifestKey(NEW), JSON.stringify({ ...ours, recordedAt: '2026-11-22T02:41:00.000Z' }));
    await expect(putManifestOnce(loc, ours)).resolves.toBe(false);
  });
});

describe('putManifest', () => {
  it('overwrites: no If-None-Match', async () => {
    s3.on(PutObjectCommand).resolves({});
    await putManifest(loc, failedManifest(NEW, new Date('2026-11-22T03:00:00Z')));
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    const input = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(input).not.toHaveProperty('IfNoneMatch');
    expect(input).toMatchObject({ Key: manifestKey(NEW), ServerSideEncryption: 'aws:kms' });
  });
});
