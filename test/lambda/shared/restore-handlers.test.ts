import 'aws-sdk-client-mock-jest';
import {
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PROMOTE_RESTORE_EVENT } from '../../../lambda/promote-restore/contract';
import { RESTORE_PITR_EVENT } from '../../../lambda/restore-pitr/contract';
import { RESTORE_SNAPSHOT_EVENT } from '../../../lambda/restore-snapshot/contract';
import { RESTORE_STATUS_EVENT } from '../../../lambda/restore-status/contract';
import { ENV } from '../../../lambda/shared/env';
import { exitCodeFor, parseEvent, type EventSpec } from '../../../lambda/shared/handler-response';
import type { ZodMiniType as ZodType } from 'zod/mini';
import { VALIDATE_BACKUP_EVENT } from '../../../lambda/validate-backup/contract';
import { VERIFY_RESTORE_EVENT } from '../../../lambda/verify-restore/contract';
import {
  CONFIG,
  instanceNotFound,
  kbSnapshot,
  prodInstance,
  restoredInstance,
} from '../../support/restore-fixtures';
import { loadHandler } from '../support/handlers';
import { handlerMetrics, type HandlerMetrics } from '../support/metrics';

const rdsMock = mockClient(RDSClient);
const s3Mock = mockClient(S3Client);
const EVENTS_DIR = join(__dirname, '../../../docs/events');
const SPECS: readonly EventSpec<ZodType>[] = [
  RESTORE_SNAPSHOT_EVENT,
  RESTORE_PITR_EVENT,
  RESTORE_STATUS_EVENT,
  VALIDATE_BACKUP_EVENT,
  PROMOTE_RESTORE_EVENT,
  VERIFY_RESTORE_EVENT,
];

type Handler = (event: unknown, context?: unknown) => Promise<unknown>;
let restoreSnapshotHandler: Handler;
let restorePitrHandler: Handler;
let promoteHandler: Handler;
let validateHandler: Handler;

beforeAll(async () => {
  Object.assign(process.env, {
    [ENV.dbInstanceId]: CONFIG.dbInstanceId,
    [ENV.backupBucket]: CONFIG.backupBucket,
    [ENV.kmsKeyArn]: CONFIG.kmsKeyArn,
    [ENV.exportRoleArn]: 'arn:aws:iam::123456789012:role/kb-dr-export',
    [ENV.productionInstanceIds]: CONFIG.productionInstanceIds.join(','),
    AWS_REGION: 'us-east-1',
    // POWERTOOLS_DEV (test/setup.ts) turns metrics off unless this says otherwise.
    POWERTOOLS_METRICS_DISABLED: 'false',
  });
  restoreSnapshotHandler = (await import('../../../lambda/restore-snapshot')).handler as Handler;
  restorePitrHandler = (await import('../../../lambda/restore-pitr')).handler as Handler;
  promoteHandler = (await import('../../../lambda/promote-restore')).handler as Handler;
  validateHandler = (await import('../../../lambda/validate-backup')).handler as Handler;
});

beforeEach(() => {
  rdsMock.reset();
  s3Mock.reset();
  rdsMock.on(DescribeDBInstancesCommand).rejects(instanceNotFound());
});

describe('console example events in docs/events', () => {
  const files = readdirSync(EVENTS_DIR).filter((f) => f.endsWith('.json'));

  it('cover every restore function', () => {
    const covered = new Set(files.map((f) => f.split('.')[0]));
    expect([...covered].sort()).toEqual(SPECS.map((s) => s.functionName).sort());
  });

  it.each(files)('%s is valid for its function', (file) => {
    const spec = SPECS.find((s) => s.functionName === file.split('.')[0]);
    const event: unknown = JSON.parse(readFileSync(join(EVENTS_DIR, file), 'utf8'));
    expect(spec).toBeDefined();
    expect(() => parseEvent(spec as EventSpec<ZodType>, event)).not.toThrow();
  });

  it('each spec example is valid for its own schema', () => {
    for (const spec of SPECS) expect(() => parseEvent(spec, spec.example)).not.toThrow();
  });
});

describe('handlers', () => {
  it('restore-snapshot returns a misspelled field as ok:false and restores nothing', async () => {
    const res = await restoreSnapshotHandler({
      snapshotId: 'latest',
      targetInstance: 'kb-restore-drill-1',
      confirm: true,
    });
    expect(res).toMatchObject({
      ok: false,
      errorType: 'ValidationError',
      field: 'targetInstanceId',
      error:
        'unknown field "targetInstance" (did you mean "targetInstanceId"?), e.g. "targetInstanceId": "kb-restore-drill-1"',
      nothingChanged: true,
    });
    expect(exitCodeFor(res)).toBe(2);
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('restore-snapshot starts a restore from a valid event', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [kbSnapshot()] });
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' })
      .resolves({ DBInstances: [prodInstance()] });
    rdsMock
      .on(RestoreDBInstanceFromDBSnapshotCommand)
      .resolves({ DBInstance: { DBInstanceStatus: 'creating' } });
    const res = await restoreSnapshotHandler({
      snapshotId: 'kb-snapshot-20261122-020000',
      targetInstanceId: 'kb-restore-handler-1',
      confirm: true,
    });
    expect(res).toMatchObject({ ok: true, action: 'started', targetInstanceId: 'kb-restore-handler-1' });
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 1);
  });

  it('restore-pitr refuses "confirm": "true" (a string) and restores nothing', async () => {
    const res = await restorePitrHandler({
      targetTime: '2026-11-22T01:30:00Z',
      targetInstanceId: 'kb-restore-pitr-1',
      confirm: 'true',
    });
    expect(res).toMatchObject({ ok: false, field: 'confirm' });
    expect(rdsMock).toHaveReceivedCommandTimes(RestoreDBInstanceToPointInTimeCommand, 0);
  });

  it('promote-restore without a Lambda context has no time to wait and renames nothing beyond the first step', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-restore-drill-1' })
      .resolves({ DBInstances: [restoredInstance()] });
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-prod' })
      .resolves({ DBInstances: [prodInstance()] });
    rdsMock.on(ModifyDBInstanceCommand).resolves({});
    const res = await promoteHandler(
      {
        restoredInstanceId: 'kb-restore-drill-1',
        productionInstanceId: 'kb-prod',
        confirm: true,
        forceProduction: true,
      },
      { getRemainingTimeInMillis: () => 60_000 },
    );
    expect(res).toMatchObject({ ok: false, errorType: 'PromotionFailedError', retryable: true });
    expect(rdsMock).toHaveReceivedCommandTimes(ModifyDBInstanceCommand, 1);
  });
});

describe('handler metrics', () => {
  let metrics: HandlerMetrics;
  beforeEach(() => {
    metrics = handlerMetrics();
  });
  afterEach(() => metrics.restore());

  it('emits RestoreStarted with only the DBInstanceIdentifier dimension', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [kbSnapshot()] });
    rdsMock.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({});
    await restoreSnapshotHandler({
      snapshotId: 'kb-snapshot-20261122-020000',
      targetInstanceId: 'kb-restore-metric-1',
      confirm: true,
    });
    expect(metrics.recorded()).toEqual([['RestoreStarted', 1]]);
    const [emf] = metrics.docs();
    expect(emf?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['DBInstanceIdentifier']]);
    expect(emf).toMatchObject({ DBInstanceIdentifier: 'kb-prod' });
    expect(emf?.service).toBeUndefined();
  });

  it('counts a validation that could not run as BackupValidation 0, but not a malformed event', async () => {
    s3Mock.on(ListObjectsV2Command).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const failed = await validateHandler({ snapshotId: 'latest' });
    expect(failed).toMatchObject({ ok: false, errorType: 'AccessDeniedError' });
    expect(metrics.recorded()).toEqual([['BackupValidation', 0]]);

    metrics.clear();
    const malformed = await validateHandler({ snapshot: 'latest' });
    expect(malformed).toMatchObject({ ok: false, errorType: 'ValidationError' });
    expect(metrics.recorded()).toEqual([]);
  });
});

describe('every restore function refuses a bad event before any AWS call', () => {
  let metrics: HandlerMetrics;
  beforeEach(() => {
    metrics = handlerMetrics();
  });
  afterEach(() => metrics.restore());

  it.each([
    [
      'restore-snapshot',
      { snapshotID: 'latest', targetInstanceId: 'kb-restore-x', confirm: true },
      'snapshotId',
    ],
    [
      'restore-snapshot',
      { snapshotId: 'latest', targetInstanceId: 'kb-restore-x', confirm: 'yes' },
      'confirm',
    ],
    [
      'restore-pitr',
      { targetTime: '2026-11-22T01:30:00Z', targetInstanceID: 'kb-restore-x' },
      'targetInstanceId',
    ],
    ['restore-pitr', { targetTime: 1763775000, targetInstanceId: 'kb-restore-x' }, 'targetTime'],
    ['restore-status', { targetInstanceID: 'kb-restore-x' }, 'targetInstanceId'],
    ['restore-status', { targetInstanceId: 5 }, 'targetInstanceId'],
    ['validate-backup', { snapshot: 'latest' }, 'snapshotId'],
    ['validate-backup', { snapshotId: '' }, 'snapshotId'],
    [
      'promote-restore',
      { restoredInstanceID: 'kb-restore-x', productionInstanceId: 'kb-prod' },
      'restoredInstanceId',
    ],
    [
      'promote-restore',
      { restoredInstanceId: 'kb-restore-x', productionInstanceId: 'kb-prod', confirm: 1 },
      'confirm',
    ],
  ] as const)(
    '%s: %j is answered as a refusal of field %s, with nothing sent and nothing emitted',
    async (fn, event, field) => {
      const res = await loadHandler(fn)(event);
      expect(res).toMatchObject({ ok: false, errorType: 'ValidationError', field, nothingChanged: true });
      expect((res as { error: string }).error).toMatch(new RegExp(`"${field}"`));
      expect(rdsMock).not.toHaveReceivedAnyCommand();
      expect(s3Mock).not.toHaveReceivedAnyCommand();
      expect(metrics.recorded()).toEqual([]);
    },
  );
});
