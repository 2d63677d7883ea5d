/**
 * The restore-test handler as Lambda runs it: its three kinds of event are read by the contract,
 * a refused event is thrown before any AWS call and emits nothing, a pass flushes its two metrics.
 */
import 'aws-sdk-client-mock-jest';
import {
  DescribeDBInstancesCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { NO_SUCCESSFUL_TEST_HOURS } from '../../../lambda/restore-test/restore-test';
import { RESTORE_TEST_PASS_EXAMPLE_EVENT } from '../../../lambda/restore-test/contract';
import { loadHandler } from '../support/handlers';
import { handlerMetrics, type HandlerMetrics } from '../support/metrics';

const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);
let metrics: HandlerMetrics;
/** The wrapper logs each refusal as an error line; not in this file's output. */
const QUIET = { POWERTOOLS_LOG_LEVEL: 'SILENT' };

beforeEach(() => {
  rds.reset();
  s3.reset();
  metrics = handlerMetrics();
});
afterEach(() => metrics.restore());

describe('restore-test handler', () => {
  it.each([
    ["the pass schedule's payload", RESTORE_TEST_PASS_EXAMPLE_EVENT],
    ["on-call's {}", {}],
  ])('%s runs the pass and flushes its two metrics in one EMF document', async (_label, event) => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    const handler = loadHandler('restore-test', QUIET);
    await expect(handler(event)).resolves.toMatchObject({ mode: 'pass', results: [], orphans: [] });
    expect(rds).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
    expect(metrics.recorded()).toEqual([
      ['RestoreTestOrphans', 0],
      ['HoursSinceLastRestoreTest', NO_SUCCESSFUL_TEST_HOURS],
    ]);
    expect(metrics.docs()).toHaveLength(1);
  });

  it("an RDS event for an instance that is not a restore test's touches nothing and emits nothing", async () => {
    const handler = loadHandler('restore-test', QUIET);
    const res = await handler({
      source: 'aws.rds',
      'detail-type': 'RDS DB Instance Event',
      detail: { EventID: 'RDS-EVENT-0008', SourceIdentifier: 'kb-restore-drill-1' },
    });
    expect(res).toEqual({ mode: 'event', results: [], orphans: [] });
    expect(rds).not.toHaveReceivedAnyCommand();
    expect(metrics.docs()).toEqual([]);
  });

  it.each([
    ['a misspelled field', { actoin: 'pass' }, /unknown field "actoin" \(did you mean "action"\?\)/],
    [
      'a misspelled action',
      { action: 'strat' },
      /field "action" must be "start" or "pass", not the string "strat"/,
    ],
    ['a time that is a number', { action: 'start', time: 1 }, /field "time" must be a string, not number 1/],
    ['null', null, /must be a JSON object, got null/],
    ['an array', [], /must be a JSON object, got an array/],
    [
      'an RDS event that names no instance',
      { source: 'aws.rds', 'detail-type': 'RDS DB Instance Event', detail: { EventID: 'RDS-EVENT-0008' } },
      /RDS event names no instance/,
    ],
  ])('refuses %s, saying why, calling nothing and emitting nothing', async (_label, event, message) => {
    const handler = loadHandler('restore-test', QUIET);
    await expect(handler(event)).rejects.toMatchObject({ name: 'ValidationError', message });
    await expect(handler(event)).rejects.toThrow(/nothing was changed/);
    expect(rds).not.toHaveReceivedAnyCommand();
    expect(s3).not.toHaveReceivedAnyCommand();
    expect(metrics.recorded()).toEqual([]);
  });
});
