import {
  DescribeDBSnapshotsCommand,
  DescribeExportTasksCommand,
  RDSClient,
  StartExportTaskCommand,
} from '@aws-sdk/client-rds';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { handler as BackupHandler } from '../../../lambda/backup/index';
import type { handler as ReconcileHandler } from '../../../lambda/reconcile/index';
import { ENV } from '../../../lambda/shared/env';

import { awsError, CONFIG, kbSnapshot } from '../../support/backup-fixtures';
import { captureEmf, enableEmf, type EmfCapture } from '../../../harness/emf';

const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);

const ENVIRONMENT = {
  AWS_REGION: 'us-east-1',
  [ENV.dbInstanceId]: CONFIG.dbInstanceId,
  [ENV.backupBucket]: CONFIG.backupBucket,
  [ENV.exportRoleArn]: CONFIG.exportRoleArn,
  [ENV.kmsKeyArn]: CONFIG.kmsKeyArn,
};

/**
 * The handlers as Lambda loads them (config, clients and Powertools at module scope), from the
 * test's own module registry so the client mocks above apply to their clients.
 */
function load(): { backup: typeof BackupHandler; reconcile: typeof ReconcileHandler } {
  Object.assign(process.env, ENVIRONMENT);
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    backup: (require('../../../lambda/backup/index') as { handler: typeof BackupHandler }).handler,
    reconcile: (require('../../../lambda/reconcile/index') as { handler: typeof ReconcileHandler }).handler,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

describe('handlers', () => {
  let emf: EmfCapture;
  beforeAll(() => enableEmf());
  beforeEach(() => {
    rds.reset();
    s3.reset();
    s3.on(GetObjectCommand).rejects(awsError('NoSuchKey', 'no such key', 404));
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    emf = captureEmf();
  });
  afterEach(() => emf.restore());

  it('fails the cold start with the variable name when the configuration is missing', () => {
    Object.assign(process.env, ENVIRONMENT);
    const saved = process.env[ENV.backupBucket];
    delete process.env[ENV.backupBucket];
    try {
      expect(() =>
        jest.isolateModules(() => {
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          require('../../../lambda/backup/index');
        }),
      ).toThrow(ENV.backupBucket);
    } finally {
      if (saved !== undefined) process.env[ENV.backupBucket] = saved;
    }
  });

  it.each([
    ['a time that is not a time', { time: 'yesterday-ish' }],
    ['an impossible date (30 February)', { source: 'kb-dr.schedule', time: '2026-02-30T02:00:00Z' }],
    ['24:00', { source: 'kb-dr.schedule', time: '2026-11-22T24:00:00Z' }],
    ['a time two days off the function clock', { source: 'kb-dr.schedule', time: '2020-01-01T02:00:00Z' }],
  ])(
    'backup: refuses a schedule with %s, calls nothing, and emits BackupFailure=1 (a refused schedule is a missed night)',
    async (_label, event) => {
      const { backup } = load();
      await expect(backup(event)).rejects.toMatchObject({ name: 'ValidationError', field: 'time' });
      expect(rds.calls()).toHaveLength(0);
      expect(s3.calls()).toHaveLength(0);
      expect(emf.values('BackupFailure')).toEqual([1]);
      expect(emf.values('BackupSuccess')).toEqual([0]);
    },
  );

  it.each([
    ['a misspelled field', { reasn: 'before the migration' }, /did you mean "reason"/],
    ['null', null, /got null/],
  ])('backup: refuses %s, calling nothing and emitting nothing', async (_label, event, message) => {
    const { backup } = load();
    await expect(backup(event)).rejects.toMatchObject({ name: 'ValidationError', message });
    expect(rds.calls()).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
    expect(emf.docs()).toEqual([]);
  });

  it('reconcile: an RDS event advances only the snapshot it names', async () => {
    const snap = kbSnapshot(new Date(Date.now() - 10 * 60_000), { Status: 'creating' });
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snap] });
    const { reconcile } = load();
    const res = await reconcile({
      source: 'aws.rds',
      'detail-type': 'RDS DB Snapshot Event',
      detail: { EventID: 'RDS-EVENT-0042', SourceIdentifier: snap.DBSnapshotIdentifier },
    });
    expect(res).toMatchObject({ mode: 'event', outcomes: [`${snap.DBSnapshotIdentifier}: waiting`] });
    expect(rds).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, {
      DBSnapshotIdentifier: snap.DBSnapshotIdentifier,
    });
    expect(rds).not.toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, {
      DBInstanceIdentifier: CONFIG.dbInstanceId,
    });
  });

  it('reconcile: any other input runs the periodic pass and emits TimeSinceLastBackup', async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    const { reconcile } = load();
    const res = await reconcile({ source: 'kb-dr.reconcile', time: new Date().toISOString() });
    expect(res.mode).toBe('pass');
    expect(rds).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' });
    expect(emf.values('TimeSinceLastBackup')).toHaveLength(1);
  });

  it('reconcile: fails the invocation after a retryable failure, emitting no BackupFailure and still the age', async () => {
    const snap = kbSnapshot(new Date(Date.now() - 10 * 60_000));
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snap] });
    rds.on(DescribeExportTasksCommand).resolves({ ExportTasks: [] });
    rds.on(StartExportTaskCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    const { reconcile } = load();
    await expect(reconcile({})).rejects.toMatchObject({ retryable: true });
    expect(emf.values('BackupFailure')).toEqual([]);
    expect(emf.values('TimeSinceLastBackup')).toHaveLength(1);
  });
});
