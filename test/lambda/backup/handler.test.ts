/**
 * The backup handler as Lambda runs it: a refused event calls nothing and emits nothing (unless it
 * is a refused schedule: a missed night), the metrics the logic stored are flushed once.
 */
import 'aws-sdk-client-mock-jest';
import {
  CreateDBSnapshotCommand,
  DBSnapshotNotFoundFault,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { ENV } from '../../../lambda/shared/env';
import { awsError } from '../../support/backup-fixtures';
import { HANDLER_ENV, loadHandler } from '../support/handlers';
import { handlerMetrics, type HandlerMetrics } from '../support/metrics';

const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);
let metrics: HandlerMetrics;

beforeEach(() => {
  rds.reset();
  s3.reset();
  metrics = handlerMetrics();
});
afterEach(() => metrics.restore());

describe('backup handler', () => {
  it('fails the cold start with the variable name when the configuration is missing', () => {
    Object.assign(process.env, HANDLER_ENV);
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
    'refuses a schedule with %s, calls nothing, and emits BackupFailure=1 (a refused schedule is a missed night)',
    async (_label, event) => {
      const backup = loadHandler('backup');
      await expect(backup(event)).rejects.toMatchObject({ name: 'ValidationError', field: 'time' });
      expect(rds).not.toHaveReceivedAnyCommand();
      expect(s3).not.toHaveReceivedAnyCommand();
      expect(metrics.recorded()).toEqual([
        ['BackupSuccess', 0],
        ['BackupFailure', 1],
      ]);
    },
  );

  it.each([
    [
      'a misspelled field',
      { reasn: 'before the migration' },
      /unknown field "reasn" \(did you mean "reason"\?\)/,
    ],
    ['a reason that is a number', { reason: 42 }, /field "reason" must be a string, not number 42/],
    [
      'a source that is not one of ours',
      { source: 'kb-dr.nightly' },
      /field "source" must be "kb-dr.schedule"/,
    ],
    ['null', null, /must be a JSON object, got null/],
    ['an array', [{ reason: 'x' }], /must be a JSON object, got an array/],
  ])('refuses %s, saying why, calling nothing and emitting nothing', async (_label, event, message) => {
    const backup = loadHandler('backup');
    await expect(backup(event)).rejects.toMatchObject({ name: 'ValidationError', message });
    await expect(backup(event)).rejects.toThrow(/nothing was changed/);
    expect(rds).not.toHaveReceivedAnyCommand();
    expect(s3).not.toHaveReceivedAnyCommand();
    expect(metrics.recorded()).toEqual([]);
  });

  it('takes an on-demand snapshot and flushes its metrics once, in one EMF document', async () => {
    s3.on(GetObjectCommand).rejects(awsError('NoSuchKey', 'no such key', 404));
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { DBInstanceIdentifier: 'kb-prod', DBInstanceStatus: 'available', BackupRetentionPeriod: 7 },
      ],
    });
    rds
      .on(DescribeDBSnapshotsCommand)
      .rejects(new DBSnapshotNotFoundFault({ message: 'none', $metadata: {} }));
    rds.on(CreateDBSnapshotCommand).resolves({});
    const backup = loadHandler('backup');
    await expect(backup({ reason: 'before the migration' })).resolves.toMatchObject({ status: 'created' });
    expect(rds).toHaveReceivedCommandTimes(CreateDBSnapshotCommand, 1);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(metrics.recorded()).toEqual([['AutomatedBackupRetentionDays', 7]]);
    expect(metrics.docs()).toHaveLength(1);
  });
});
