/**
 * The verify-restore handler routes its three inputs: an RDS instance event (verify that instance),
 * the periodic pass (`{"pass": true}`), and a console event; a bad event is answered as
 * `{ok: false}` before any call, and emits nothing.
 */
import 'aws-sdk-client-mock-jest';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { serviceNameOf } from '../../../core/functions';
import { exitCodeFor } from '../../../lambda/shared/handler-response';
import { restoredInstance } from '../../support/restore-fixtures';
import { loadHandler, type TestHandler } from '../support/handlers';
import { handlerMetrics, type HandlerMetrics } from '../support/metrics';

const rdsMock = mockClient(RDSClient);
const s3Mock = mockClient(S3Client);
let handler: TestHandler;
let metrics: HandlerMetrics;
let warn: jest.SpyInstance;

beforeAll(() => {
  handler = loadHandler('verify-restore', { KB_VERIFY_MODE: 'not-configured' });
});
beforeEach(() => {
  rdsMock.reset();
  s3Mock.reset();
  warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  jest.spyOn(console, 'info').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  metrics = handlerMetrics();
});
afterEach(() => {
  metrics.restore();
  jest.restoreAllMocks();
});

describe('verify-restore handler', () => {
  it('an RDS event verifies the instance it names (here: still creating, so nothing is stored)', async () => {
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-restore-evt' }).resolves({
      DBInstances: [
        restoredInstance(
          {
            DBInstanceStatus: 'creating',
            TagList: [
              { Key: 'kb-dr:managed-by', Value: 'kb-dr' },
              { Key: 'kb-dr:restored-from-snapshot', Value: 'kb-snapshot-20261122-020000' },
            ],
          },
          'kb-restore-evt',
        ),
      ],
    });
    const res = await handler({
      source: 'aws.rds',
      'detail-type': 'RDS DB Instance Event',
      detail: { EventID: 'RDS-EVENT-0008', SourceIdentifier: 'kb-restore-evt' },
    });
    expect(res).toMatchObject({ ok: true, targetInstanceId: 'kb-restore-evt', outcome: 'NOT_AVAILABLE' });
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
    expect(metrics.docs()).toEqual([]);
  });

  it('{"pass": true} runs the periodic pass', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
    expect(await handler({ pass: true })).toEqual({ ok: true, mode: 'pass', verified: [], left: [] });
    expect(metrics.docs()).toEqual([]);
  });

  it.each([
    [
      'a misspelled field',
      { targetInstanceID: 'kb-restore-1' },
      'targetInstanceId',
      /unknown field "targetInstanceID" \(did you mean "targetInstanceId"\?\)/,
    ],
    ['an id that is a number', { targetInstanceId: 5 }, 'targetInstanceId', /must be a string, not number 5/],
    [
      'an entry count given as text',
      { targetInstanceId: 'kb-restore-1', expectedEntries: '100000' },
      'expectedEntries',
      /must be a number, not the string "100000"/,
    ],
    ['a pass that is not true', { pass: false }, 'pass', /field "pass" must be true, not boolean false/],
    [
      'a pass with another field',
      { pass: true, reverify: true },
      undefined,
      /unknown field "reverify" \(valid fields: pass\)/,
    ],
    ['null', null, undefined, /must be a JSON object, got null/],
    [
      'an RDS event that names no instance',
      { source: 'aws.rds', 'detail-type': 'RDS DB Instance Event', detail: { EventID: 'RDS-EVENT-0008' } },
      'detail',
      /RDS event names no instance/,
    ],
  ])('answers %s as a refusal naming the field, before any AWS call', async (_label, event, field, error) => {
    const res = await handler(event);
    expect(res).toMatchObject({ ok: false, errorType: 'ValidationError', error, nothingChanged: true });
    expect((res as { field?: string }).field).toBe(field);
    expect(exitCodeFor(res)).toBe(2);
    expect(rdsMock).not.toHaveReceivedAnyCommand();
    expect(s3Mock).not.toHaveReceivedAnyCommand();
    expect(metrics.recorded()).toEqual([]);
  });

  it("logs under the construct's service name, kb-verify-restore", async () => {
    await handler({ targetInstanceID: 'kb-restore-1' });
    const lines = warn.mock.calls.map((c) => JSON.parse(String(c[0])) as { service?: string });
    expect(lines).toEqual([expect.objectContaining({ service: serviceNameOf('verify-restore') })]);
    expect(serviceNameOf('verify-restore')).toBe('kb-verify-restore');
  });
});
