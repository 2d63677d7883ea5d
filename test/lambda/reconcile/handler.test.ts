/**
 * The reconcile handler as Lambda runs it: an RDS event advances one snapshot, the schedule's
 * payload (or `{}`) runs a pass, anything else is refused before any AWS call.
 */
import 'aws-sdk-client-mock-jest';
import {
  DescribeDBSnapshotsCommand,
  DescribeExportTasksCommand,
  RDSClient,
  StartExportTaskCommand,
} from '@aws-sdk/client-rds';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import {
  RECONCILE_EXAMPLE_EVENT,
  RECONCILE_SCHEDULE_EXAMPLE_EVENT,
} from '../../../lambda/reconcile/contract';
import { awsError, CONFIG, kbSnapshot } from '../../support/backup-fixtures';
import { loadHandler } from '../support/handlers';
import { handlerMetrics, type HandlerMetrics } from '../support/metrics';

const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);

describe('reconcile handler', () => {
  let metrics: HandlerMetrics;
  beforeEach(() => {
    rds.reset();
    s3.reset();
    s3.on(GetObjectCommand).rejects(awsError('NoSuchKey', 'no such key', 404));
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    metrics = handlerMetrics();
  });
  afterEach(() => metrics.restore());

  it('an RDS event advances only the snapshot it names', async () => {
    const snap = kbSnapshot(new Date(Date.now() - 10 * 60_000), { Status: 'creating' });
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snap] });
    const reconcile = loadHandler('reconcile');
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
    // Nothing to report for a snapshot still being created: no EMF at all, not an empty one.
    expect(metrics.docs()).toEqual([]);
  });

  it.each([
    ["the schedule's payload", RECONCILE_SCHEDULE_EXAMPLE_EVENT],
    ["on-call's {}", RECONCILE_EXAMPLE_EVENT],
  ])('%s runs the periodic pass and flushes TimeSinceLastBackup once', async (_label, event) => {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    const reconcile = loadHandler('reconcile');
    const res = await reconcile(event);
    expect(res).toMatchObject({ mode: 'pass' });
    expect(rds).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' });
    expect(metrics.values('TimeSinceLastBackup')).toHaveLength(1);
    expect(metrics.docs()).toHaveLength(1);
  });

  it.each([
    ['a misspelled field', { sorce: 'kb-dr.reconcile' }, /unknown field "sorce" \(did you mean "source"\?\)/],
    ['a time that is a number', { time: 1763776800 }, /field "time" must be a string, not number 1763776800/],
    ["another function's source", { source: 'kb-dr.schedule' }, /field "source" must be "kb-dr.reconcile"/],
    ['null', null, /must be a JSON object, got null/],
    ['a string', 'pass', /must be a JSON object, got the string "pass"/],
    [
      'an RDS event without its detail',
      { source: 'aws.rds', 'detail-type': 'RDS DB Snapshot Event' },
      /no detail/,
    ],
  ])('refuses %s, saying why, calling nothing and emitting nothing', async (_label, event, message) => {
    const reconcile = loadHandler('reconcile');
    await expect(reconcile(event)).rejects.toMatchObject({ name: 'ValidationError', message });
    await expect(reconcile(event)).rejects.toThrow(/nothing was changed/);
    expect(rds).not.toHaveReceivedAnyCommand();
    expect(s3).not.toHaveReceivedAnyCommand();
    expect(metrics.recorded()).toEqual([]);
  });

  it('fails the invocation after a retryable failure, emitting no BackupFailure and still the age', async () => {
    const snap = kbSnapshot(new Date(Date.now() - 10 * 60_000));
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snap] });
    rds.on(DescribeExportTasksCommand).resolves({ ExportTasks: [] });
    rds.on(StartExportTaskCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    const reconcile = loadHandler('reconcile');
    await expect(reconcile({})).rejects.toMatchObject({ retryable: true });
    expect(metrics.values('BackupFailure')).toEqual([]);
    expect(metrics.values('TimeSinceLastBackup')).toHaveLength(1);
  });
});
