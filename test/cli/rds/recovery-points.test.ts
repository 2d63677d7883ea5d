/**
 * find-backup --rds: kb-dr snapshots of the protected instance before a time, newest first, with
 * the manifest's recorded counts and the commands; read-only calls only.
 */
import {
  CreateDBSnapshotCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { fakeContext } from '../shared/fake-context';
import { planFindBackup, runFindBackup } from '../../../cli/commands/find-backup';
import { findRdsRecoveryPoints } from '../../../cli/rds/recovery-points';
import { INSTANCE, kbSnapshot, serveManifests, successManifest } from '../../support/backup-fixtures';

const rdsMock = mockClient(RDSClient);
const s3Mock = mockClient(S3Client);
const rds = new RDSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

const NOW = new Date('2026-11-22T15:00:00Z');
const BEFORE = new Date('2026-11-22T14:05:00Z');
const nights = [
  '2026-11-20T02:00:00Z',
  '2026-11-21T02:00:00Z',
  '2026-11-22T02:00:00Z',
  '2026-11-22T14:30:00Z',
].map((t) => new Date(t));

beforeEach(() => {
  rdsMock.reset();
  s3Mock.reset();
  rdsMock.on(DescribeDBSnapshotsCommand).resolves({
    DBSnapshots: [
      ...nights.map((t) => kbSnapshot(t)),
      kbSnapshot(new Date('2026-11-22T03:00:00Z'), { DBInstanceIdentifier: 'other-db' }),
      kbSnapshot(new Date('2026-11-22T04:00:00Z'), { TagList: [] }),
      kbSnapshot(new Date('2026-11-22T05:00:00Z'), { Status: 'creating' }),
    ],
  });
  const withCounts = {
    ...successManifest('kb-snapshot-20261122-020000', new Date('2026-11-22T03:00:00Z')),
    tableRowCounts: { knowledge_entries: 1200, embedding_cache: 300, source: 'parquet-footers' as const },
  };
  serveManifests(s3Mock, [
    successManifest('kb-snapshot-20261121-020000', new Date('2026-11-21T03:00:00Z')),
    withCounts,
  ]);
});

function base() {
  return {
    rds,
    s3,
    bucket: 'kb-dr-backups-test',
    instanceId: INSTANCE,
    before: BEFORE,
    now: NOW,
    pitr: false,
    restorePrefix: 'kb-restore-',
  };
}

describe('findRdsRecoveryPoints', () => {
  it('lists kb-dr snapshots of the instance taken before the time, newest first, with recorded counts', async () => {
    const { points, notes } = await findRdsRecoveryPoints(base());
    expect(points.map((p) => p.id)).toEqual([
      'kb-snapshot-20261122-020000',
      'kb-snapshot-20261121-020000',
      'kb-snapshot-20261120-020000',
    ]);
    expect(points[0]).toMatchObject({ entries: 1200, embeddingCache: 300, status: 'manifest SUCCEEDED' });
    expect(points[1]?.entries).toBeUndefined();
    expect(points[1]?.counts).toMatch(/not recorded in its manifest/);
    expect(points[2]?.counts).toBe('no manifest read');
    expect(points[0]?.commands).toEqual([
      'scripts/restore-kb.sh --rds --snapshot-id=kb-snapshot-20261122-020000 --target-instance=kb-restore-recover-20261122-020000',
      'npx kb-dr recover-entries --from-instance=kb-restore-recover-20261122-020000 --source-time=2026-11-22T02:00:00Z',
      'npx kb-dr recover-entries --from-instance=kb-restore-recover-20261122-020000 --source-time=2026-11-22T02:00:00Z --confirm',
    ]);
    expect(notes).toEqual([]);
    // Read-only: nothing is created or restored.
    expect(rdsMock).not.toHaveReceivedCommand(CreateDBSnapshotCommand);
    expect(rdsMock).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
    expect(rdsMock).not.toHaveReceivedCommand(RestoreDBInstanceToPointInTimeCommand);
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('without the bucket, lists the snapshots and says why there are no counts', async () => {
    const { points, notes } = await findRdsRecoveryPoints({ ...base(), s3: undefined, bucket: undefined });
    expect(points).toHaveLength(3);
    expect(notes[0]).toMatch(/KB_BACKUP_BUCKET is not set/);
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('with pitr, adds the point one second before the time when it is inside the window', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: INSTANCE,
          BackupRetentionPeriod: 7,
          LatestRestorableTime: new Date('2026-11-22T14:55:00Z'),
          InstanceCreateTime: new Date('2026-01-01T00:00:00Z'),
        },
      ],
    });
    rdsMock.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({
      DBInstanceAutomatedBackups: [{ RestoreWindow: { EarliestTime: new Date('2026-11-15T15:00:00Z') } }],
    });
    const { points } = await findRdsRecoveryPoints({ ...base(), pitr: true });
    expect(points[0]).toMatchObject({ kind: 'pitr', time: '2026-11-22T14:04:59.000Z' });
    expect(points[0]?.commands[0]).toBe(
      'scripts/restore-kb.sh --pitr --target-time=2026-11-22T14:04:59Z --target-instance=kb-restore-recover-20261122-140459',
    );
    const outside = await findRdsRecoveryPoints({
      ...base(),
      pitr: true,
      before: new Date('2026-11-10T00:00:00Z'),
    });
    expect(outside.points.some((p) => p.kind === 'pitr')).toBe(false);
    expect(outside.notes.join(' ')).toMatch(/before the window 2026-11-15T15:00:00Z/);
  });
});

describe('kb-dr find-backup --rds --json', () => {
  it('prints the points as JSON and exits 0', async () => {
    const ctx = fakeContext({ KB_DB_INSTANCE_ID: INSTANCE, KB_BACKUP_BUCKET: 'kb-dr-backups-test' });
    const code = await runFindBackup(
      ctx,
      planFindBackup({ before: '2026-11-22T15:05:00+01:00', rds: true, json: true }, ctx.env),
      { rds, s3, now: () => NOW },
    );
    expect(code).toBe(0);
    const json = JSON.parse(ctx.out()) as { before: string; points: { id: string }[] };
    expect(json.before).toBe('2026-11-22T14:05:00.000Z');
    expect(json.points.map((p) => p.id)[0]).toBe('kb-snapshot-20261122-020000');
  });
});
