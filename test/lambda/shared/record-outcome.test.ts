/** Recording outcomes: the one FAILED-manifest builder, and first-writer-wins recording. */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { MANIFEST_VERSION } from '../../../core/manifest';
import { failedManifest, recordOutcome, type ManifestBase } from '../../../lambda/shared/record-outcome';
import { CONFIG, makeDeps, putBody, serveManifests, successManifest } from '../../support/backup-fixtures';

const s3Mock = mockClient(S3Client);
const NOW = new Date('2026-11-22T03:00:00.000Z');

const base: ManifestBase = {
  version: MANIFEST_VERSION,
  snapshotId: 'kb-snapshot-20261122-020000',
  dbInstanceId: 'kb-prod',
  trigger: 'scheduled',
  requestedAt: '2026-11-22T02:00:00.000Z',
  recordedAt: NOW.toISOString(),
};

beforeEach(() => s3Mock.reset());

describe('failedManifest', () => {
  it('adds status FAILED and the failure, leaving out a hint the failure does not have', () => {
    const m = failedManifest(base, { stage: 'snapshot', code: 'X', message: 'boom', retryable: false });
    expect(m).toEqual({
      ...base,
      status: 'FAILED',
      failure: { stage: 'snapshot', code: 'X', message: 'boom' },
    });
  });
});

describe('recordOutcome', () => {
  it('writes the manifest once, with If-None-Match, and answers recorded', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const manifest = failedManifest(base, {
      stage: 'export',
      code: 'E',
      message: 'm',
      hint: 'h',
      retryable: false,
    });
    const r = await recordOutcome(makeDeps(NOW), CONFIG, manifest);
    expect(r).toEqual({ kind: 'recorded', snapshotId: base.snapshotId, manifest });
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    const input = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input?.IfNoneMatch).toBe('*');
    expect(putBody(input ?? {})).toEqual(manifest);
  });

  it('answers already-recorded, overwriting nothing, when a concurrent writer recorded another outcome', async () => {
    serveManifests(s3Mock, [successManifest(base.snapshotId, NOW)]);
    s3Mock.on(PutObjectCommand).rejects(
      Object.assign(new Error('exists'), {
        name: 'PreconditionFailed',
        $metadata: { httpStatusCode: 412 },
      }),
    );
    const r = await recordOutcome(
      makeDeps(NOW),
      CONFIG,
      failedManifest(base, { stage: 'export', code: 'E', message: 'm', retryable: false }),
    );
    expect(r).toEqual({ kind: 'already-recorded', snapshotId: base.snapshotId });
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1);
  });
});
