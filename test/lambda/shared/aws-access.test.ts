/** The AWS access layer's lookups: every page through the SDK's paginators, not-found as undefined. */
import {
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  DescribeExportTasksCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { KbDrError } from '../../../core/errors';
import { listExportTasksOf } from '../../../lambda/shared/rds-export-tasks';
import {
  describeSnapshotIfExists,
  findSnapshot,
  listManualSnapshots,
} from '../../../lambda/shared/rds-snapshots';
import { listObjects } from '../../../lambda/shared/s3-objects';
import {
  describeInstanceIfExists,
  findInstance,
  requireInstance,
} from '../../../lambda/shared/rds-instances';
import { exportStatusOf, normaliseExportStatus } from '../../../lambda/shared/moto-quirks';

const rdsMock = mockClient(RDSClient);
const s3Mock = mockClient(S3Client);
const rds = new RDSClient({ region: 'us-east-1' });
const s3 = new S3Client({ region: 'us-east-1' });

beforeEach(() => {
  rdsMock.reset();
  s3Mock.reset();
});

function fault(name: string, status: number): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
}

describe('listManualSnapshots', () => {
  it('follows Marker through every page, asking for manual snapshots only', async () => {
    rdsMock
      .on(DescribeDBSnapshotsCommand, { Marker: undefined })
      .resolves({ DBSnapshots: [{ DBSnapshotIdentifier: 'a' }], Marker: 'm1' })
      .on(DescribeDBSnapshotsCommand, { Marker: 'm1' })
      .resolves({ DBSnapshots: [{ DBSnapshotIdentifier: 'b' }] });
    const ids = (await listManualSnapshots(rds)).map((s) => s.DBSnapshotIdentifier);
    expect(ids).toEqual(['a', 'b']);
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBSnapshotsCommand, 2);
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' });
  });
});

describe('findSnapshot / describeSnapshotIfExists', () => {
  it('answers undefined when RDS says the snapshot does not exist', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).rejects(fault('DBSnapshotNotFoundFault', 404));
    await expect(findSnapshot(rds, 'kb-snapshot-20261122-020000')).resolves.toBeUndefined();
    await expect(describeSnapshotIfExists(rds, 'kb-snapshot-20261122-020000')).resolves.toBeUndefined();
  });

  it('throws other faults raw from findSnapshot and translated from describeSnapshotIfExists', async () => {
    const throttled = fault('ThrottlingException', 400);
    rdsMock.on(DescribeDBSnapshotsCommand).rejects(throttled);
    await expect(findSnapshot(rds, 'kb-snapshot-20261122-020000')).rejects.toBe(throttled);
    const err = await describeSnapshotIfExists(rds, 'kb-snapshot-20261122-020000').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KbDrError);
    expect((err as KbDrError).message).toContain('describe snapshot kb-snapshot-20261122-020000 failed');
  });
});

describe('listExportTasksOf', () => {
  it('follows Marker through every page for the snapshot ARN', async () => {
    const arn = 'arn:aws:rds:us-east-1:123456789012:snapshot:kb-snapshot-20261122-020000';
    rdsMock
      .on(DescribeExportTasksCommand, { Marker: undefined })
      .resolves({ ExportTasks: [{ ExportTaskIdentifier: 'kb-export-20261122-020000' }], Marker: 'm1' })
      .on(DescribeExportTasksCommand, { Marker: 'm1' })
      .resolves({ ExportTasks: [{ ExportTaskIdentifier: 'kb-export-20261122-020000-r2' }] });
    const ids = (await listExportTasksOf(rds, arn)).map((t) => t.ExportTaskIdentifier);
    expect(ids).toEqual(['kb-export-20261122-020000', 'kb-export-20261122-020000-r2']);
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeExportTasksCommand, 2);
    expect(rdsMock).toHaveReceivedCommandWith(DescribeExportTasksCommand, { SourceArn: arn });
  });
});

describe('listObjects', () => {
  it('follows NextContinuationToken through every page under the prefix', async () => {
    s3Mock
      .on(ListObjectsV2Command, { ContinuationToken: undefined })
      .resolves({ Contents: [{ Key: 'manifests/a.json' }], IsTruncated: true, NextContinuationToken: 't1' })
      .on(ListObjectsV2Command, { ContinuationToken: 't1' })
      .resolves({ Contents: [{ Key: 'manifests/b.json' }], IsTruncated: false });
    const keys = (await listObjects(s3, 'bucket', 'manifests/')).map((o) => o.Key);
    expect(keys).toEqual(['manifests/a.json', 'manifests/b.json']);
    expect(s3Mock).toHaveReceivedCommandTimes(ListObjectsV2Command, 2);
    expect(s3Mock).toHaveReceivedCommandWith(ListObjectsV2Command, {
      Bucket: 'bucket',
      Prefix: 'manifests/',
    });
  });
});

describe('findInstance / requireInstance / describeInstanceIfExists', () => {
  it('answers undefined when RDS says the instance does not exist', async () => {
    rdsMock.on(DescribeDBInstancesCommand).rejects(fault('DBInstanceNotFoundFault', 404));
    await expect(findInstance(rds, 'kb-restore-1')).resolves.toBeUndefined();
    await expect(describeInstanceIfExists(rds, 'kb-restore-1')).resolves.toBeUndefined();
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBInstancesCommand, {
      DBInstanceIdentifier: 'kb-restore-1',
    });
  });

  it("requireInstance throws the caller's error with the SDK fault as its cause", async () => {
    const sdkFault = fault('DBInstanceNotFoundFault', 404);
    rdsMock.on(DescribeDBInstancesCommand).rejects(sdkFault);
    const err = await requireInstance(rds, 'kb-prod', (cause) => new Error('gone', { cause })).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ message: 'gone', cause: sdkFault });
  });

  it('requireInstance treats an empty answer as not found, without a cause', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
    const err = await requireInstance(rds, 'kb-prod', (cause) => new Error('gone', { cause })).catch(
      (e: unknown) => e as Error,
    );
    expect(err).toMatchObject({ message: 'gone' });
    expect((err as Error).cause).toBeUndefined();
  });

  it('throws other faults raw from findInstance and translated from describeInstanceIfExists', async () => {
    rdsMock.on(DescribeDBInstancesCommand).rejects(fault('ThrottlingException', 400));
    await expect(findInstance(rds, 'kb-prod')).rejects.toMatchObject({ name: 'ThrottlingException' });
    const translated = await describeInstanceIfExists(rds, 'kb-prod').catch((e: unknown) => e);
    expect(translated).toBeInstanceOf(KbDrError);
    expect((translated as KbDrError).message).toContain('describe DB instance kb-prod');
  });
});

describe('moto quirks', () => {
  it('reads export statuses the same way from moto (lower case) and AWS', () => {
    expect(exportStatusOf({ Status: 'complete' })).toBe('COMPLETE');
    expect(exportStatusOf({ Status: 'COMPLETE' })).toBe('COMPLETE');
    expect(normaliseExportStatus(undefined)).toBe('UNKNOWN');
  });
});
