import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import type { MotoServer } from '../../harness/moto';
import { sharedMoto } from '../support/shared-services';

describe('moto_server test support', () => {
  let moto: MotoServer;
  beforeAll(async () => {
    // The worker's moto_server (harness/moto.ts startMoto, started once per worker): a server of
    // its own would cost a second start (about 1.3 CPU-s) for the same check.
    moto = await sharedMoto();
  });
  afterAll(async () => {
    await moto.stop();
  });

  it('serves S3 on loopback and forgets everything on reset', async () => {
    // Prepare
    const s3 = new S3Client({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    // Act
    await s3.send(new CreateBucketCommand({ Bucket: 'kb-moto-smoke' }));
    const before = await s3.send(new ListBucketsCommand({}));
    await moto.reset();
    const after = await s3.send(new ListBucketsCommand({}));
    // Assess
    expect(moto.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(before.Buckets?.map((b) => b.Name)).toContain('kb-moto-smoke');
    expect(after.Buckets ?? []).toHaveLength(0);
  });
});
