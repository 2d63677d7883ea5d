/**
 * verify-restore's decisions, with mocked AWS clients: what it refuses (without connecting), when it
 * returns the stored result, when it writes and emits, and that a connection it could not make is
 * never a PASS. The PASS paths against real data are in test/integration/verify-restore.test.ts.
 */
import { createServer } from 'node:net';
import { DescribeDBInstancesCommand, RDSClient, type DBInstance } from '@aws-sdk/client-rds';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  MANAGED_BY_TAG,
  PROTECTED_INSTANCE_TAG_KEY,
  RESTORED_FROM_INSTANCE_TAG_KEY,
  RESTORED_FROM_SNAPSHOT_TAG_KEY,
  RESTORED_TO_TIME_TAG_KEY,
  manifestKey,
} from '../../../core/naming';
import { verificationKey, type VerificationRecord } from '../../../core/verification';
import {
  clockOf,
  summarize,
  verifyPass,
  verifyRestore,
  type LoginSource,
  type VerifyRestoreDeps,
} from '../../../lambda/verify-restore/verify-restore';
import type { VerifySettings } from '../../../lambda/shared/verify-settings';
import {
  CONFIG,
  NOW,
  instanceNotFound,
  manifest,
  restoredInstance,
  s3Body,
} from '../../support/restore-fixtures';
import { recordingSink } from '../support/metrics';

const rdsMock = mockClient(RDSClient);
const s3Mock = mockClient(S3Client);
const rds = new RDSClient({ region: 'us-east-1' });
const s3 = new S3Client({ region: 'us-east-1' });
const SNAP = 'kb-snapshot-20261122-020000';
const IAM: VerifySettings = { mode: 'iam', database: 'knowledge_base', dbUser: 'kb_verify' };

let closedPort: number;
beforeAll(async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  closedPort = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
});

function snapshotRestore(overrides: Partial<DBInstance> = {}): DBInstance {
  return restoredInstance({
    TagList: [
      { Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value },
      { Key: PROTECTED_INSTANCE_TAG_KEY, Value: 'kb-prod' },
      { Key: RESTORED_FROM_INSTANCE_TAG_KEY, Value: 'kb-prod' },
      { Key: RESTORED_FROM_SNAPSHOT_TAG_KEY, Value: SNAP },
    ],
    ...overrides,
  });
}
function pitrRestore(id = 'kb-restore-pitr-1'): DBInstance {
  return restoredInstance(
    {
      TagList: [
        { Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value },
        { Key: PROTECTED_INSTANCE_TAG_KEY, Value: 'kb-prod' },
        { Key: RESTORED_FROM_INSTANCE_TAG_KEY, Value: 'kb-prod' },
        { Key: RESTORED_TO_TIME_TAG_KEY, Value: '2026-11-22T01:30:00.000Z' },
      ],
    },
    id,
  );
}
function notFound() {
  return new S3ServiceException({
    name: 'NoSuchKey',
    $fault: 'client',
    $metadata: { httpStatusCode: 404 },
    message: 'no',
  });
}
function precondition() {
  return new S3ServiceException({
    name: 'PreconditionFailed',
    $fault: 'client',
    $metadata: { httpStatusCode: 412 },
    message: 'exists',
  });
}
const storedRecord = (
  outcome: VerificationRecord['outcome'],
  id = 'kb-restore-drill-1',
): VerificationRecord => ({
  version: 1,
  instanceId: id,
  outcome,
  source: { kind: 'snapshot', snapshotId: SNAP },
  startedAt: NOW.toISOString(),
  verifiedAt: NOW.toISOString(),
  checks: [{ check: 'entry counts', status: outcome === 'PASS' ? 'PASS' : 'SKIP', detail: 'x' }],
  summary:
    outcome === 'PASS'
      ? 'verified: 2,000 entries, as recorded at backup'
      : 'not verified: verification is not configured (see …)',
});

function deps(over: Partial<VerifyRestoreDeps> = {}) {
  const sink = recordingSink();
  const login = jest.fn<ReturnType<LoginSource>, Parameters<LoginSource>>(async () => ({
    user: 'kb_verify',
    password: 'token',
  }));
  const d: VerifyRestoreDeps = {
    rds,
    s3,
    config: CONFIG,
    settings: IAM,
    login,
    ca: [],
    resolveEndpoint: () => ({ host: '127.0.0.1', port: closedPort }),
    metrics: sink,
    now: () => NOW,
    connectTimeoutMs: 2000,
    ...over,
  };
  return { d, sink, login };
}
const putBodies = () =>
  s3Mock
    .commandCalls(PutObjectCommand)
    .map((c) => JSON.parse(String(c.args[0].input.Body)) as VerificationRecord);

beforeEach(() => {
  rdsMock.reset();
  s3Mock.reset();
  s3Mock.on(GetObjectCommand).rejects(notFound());
  s3Mock.on(PutObjectCommand).resolves({});
  s3Mock.on(ListObjectsV2Command).resolves({ Contents: [] });
});

describe('verify-restore refuses anything that is not a kb-dr restore, before connecting', () => {
  it.each([
    [
      'kb-prod',
      /is a production instance: verify-restore checks restored copies only and never connects to production/,
    ],
    ['KB-Prod-Replica', /is a production instance/],
    ['kb-staging', /does not start with the restore prefix "kb-restore-"/],
    ['kb_restore!', /is not a valid RDS instance id/],
  ])('%s: refused with no AWS call', async (id, message) => {
    const { d, login } = deps();
    await expect(verifyRestore(d, { targetInstanceId: id })).rejects.toThrow(message);
    expect(rdsMock).not.toHaveReceivedAnyCommand();
    expect(s3Mock).not.toHaveReceivedAnyCommand();
    expect(login).not.toHaveBeenCalled();
  });

  it('a kb-restore-* instance without kb-dr restore tags: refused, never connected to', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [restoredInstance({ TagList: [{ Key: RESTORED_FROM_SNAPSHOT_TAG_KEY, Value: SNAP }] })],
    });
    const { d, login } = deps();
    await expect(verifyRestore(d, { targetInstanceId: 'kb-restore-drill-1' })).rejects.toThrow(
      /kb-restore-drill-1 is not a kb-dr restore: it lacks the kb-dr:managed-by tag/,
    );
    expect(login).not.toHaveBeenCalled();
    expect(s3Mock).not.toHaveReceivedAnyCommand();
  });

  it('a missing instance: NotFound, nothing stored', async () => {
    rdsMock.on(DescribeDBInstancesCommand).rejects(instanceNotFound());
    const { d } = deps();
    await expect(verifyRestore(d, { targetInstanceId: 'kb-restore-gone' })).rejects.toThrow(
      /"kb-restore-gone" not found/,
    );
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('an instance not available yet: NOT_AVAILABLE, no record, no metric, no connection', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [snapshotRestore({ DBInstanceStatus: 'creating', Endpoint: undefined })] });
    const { d, sink, login } = deps();
    const r = await verifyRestore(d, { targetInstanceId: 'kb-restore-drill-1' });
    expect(r).toMatchObject({
      outcome: 'NOT_AVAILABLE',
      summary: expect.stringMatching(/^not verified yet: the instance is creating/),
    });
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
    expect(sink.recorded()).toEqual([]);
    expect(login).not.toHaveBeenCalled();
  });
});

describe('verify-restore never reports PASS when it could not connect', () => {
  it('connection refused: FAIL with the reason, RestoreVerification 0, record written once (conditional)', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [snapshotRestore()] });
    s3Mock.on(GetObjectCommand, { Key: manifestKey(SNAP) }).resolves({
      Body: s3Body(
        JSON.stringify(
          manifest(SNAP, {
            tableRowCounts: { knowledge_entries: 2000, embedding_cache: 500, source: 'parquet-footers' },
          }),
        ),
      ),
    });
    const { d, sink, login } = deps();
    const r = await verifyRestore(d, { targetInstanceId: 'kb-restore-drill-1' });
    expect(r.outcome).toBe('FAIL');
    expect(r.summary).toMatch(
      /^verification FAILED: database accessible: connection to 127\.0\.0\.1:\d+\/knowledge_base as kb_verify over TLS refused/,
    );
    expect(r.report.filter((l) => l.startsWith('PASS'))).toEqual([]);
    expect(sink.recorded()).toEqual([['RestoreVerification', 0]]);
    expect(login).toHaveBeenCalledWith({
      address: 'kb-restore-drill-1.abc.us-east-1.rds.amazonaws.com',
      port: 5432,
    });
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Key: verificationKey('kb-restore-drill-1'),
      IfNoneMatch: '*',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: CONFIG.kmsKeyArn,
    });
    const [rec] = putBodies();
    expect(rec).toMatchObject({
      outcome: 'FAIL',
      recorded: { snapshotId: SNAP, knowledge_entries: 2000, embedding_cache: 500 },
    });
  });

  it('a login that cannot be obtained (secret unreadable): FAIL, not PASS, metric 0', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [snapshotRestore()] });
    const { d, sink } = deps({
      settings: {
        mode: 'secret',
        database: 'knowledge_base',
        secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x',
      },
      login: () => Promise.reject(new Error('AccessDeniedException')),
    });
    const r = await verifyRestore(d, { targetInstanceId: 'kb-restore-drill-1' });
    expect(r.outcome).toBe('FAIL');
    expect(r.report[0]).toMatch(
      /^FAIL database accessible: could not get a login .*AccessDeniedException.*check that the secret exists/,
    );
    expect(sink.recorded()).toEqual([['RestoreVerification', 0]]);
  });

  it('a snapshot whose backup recorded no counts: the report says SKIP "no counts recorded"', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [snapshotRestore()] });
    s3Mock
      .on(GetObjectCommand, { Key: manifestKey(SNAP) })
      .resolves({ Body: s3Body(JSON.stringify(manifest(SNAP))) });
    const { d } = deps();
    const r = await verifyRestore(d, { targetInstanceId: 'kb-restore-drill-1' });
    expect(r.report).toContain(
      `SKIP counts match the backup record: no counts recorded: the manifest of ${SNAP} has no tableRowCounts (a backup recorded before counts were kept, or its export did not complete)`,
    );
  });

  it('a point-in-time restore reports the nearest earlier backup beside it, never as a comparison', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [pitrRestore()] });
    const later = 'kb-snapshot-20261122-020000'; // after the 01:30 target
    const earlier = 'kb-snapshot-20261121-020000';
    s3Mock
      .on(ListObjectsV2Command)
      .resolves({ Contents: [{ Key: manifestKey(earlier) }, { Key: manifestKey(later) }] });
    s3Mock.on(GetObjectCommand, { Key: manifestKey(earlier) }).resolves({
      Body: s3Body(
        JSON.stringify(
          manifest(earlier, {
            tableRowCounts: { knowledge_entries: 1900, embedding_cache: 480, source: 'parquet-footers' },
          }),
        ),
      ),
    });
    const { d } = deps();
    const r = await verifyRestore(d, { targetInstanceId: 'kb-restore-pitr-1', expectedEntries: 2100 });
    expect(r.record?.source).toEqual({
      kind: 'pitr',
      sourceInstanceId: 'kb-prod',
      targetTime: '2026-11-22T01:30:00.000Z',
    });
    expect(r.record?.recorded).toEqual({
      snapshotId: earlier,
      knowledge_entries: 1900,
      embedding_cache: 480,
    });
    expect(r.report).toContain('SKIP no entry newer than the target time: not run: could not connect');
    expect(r.report).toContain('SKIP entry count matches the expected count: not run: could not connect');
    expect(r.report.at(-1)).toMatch(
      /^SKIP nearest earlier backup: for reference, not compared .*kb-snapshot-20261121-020000 recorded knowledge_entries 1,900/,
    );
    expect(s3Mock).not.toHaveReceivedCommandWith(GetObjectCommand, { Key: manifestKey(later) });
  });
});

describe('verify-restore is idempotent', () => {
  beforeEach(() => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [snapshotRestore()] });
  });

  it('a stored result is returned as it is: no connection, no write, no metric', async () => {
    s3Mock
      .on(GetObjectCommand, { Key: verificationKey('kb-restore-drill-1') })
      .resolves({ Body: s3Body(JSON.stringify(storedRecord('PASS'))) });
    const { d, sink, login } = deps();
    const r = await verifyRestore(d, { targetInstanceId: 'kb-restore-drill-1' });
    expect(r).toMatchObject({
      outcome: 'PASS',
      fromStore: true,
      summary: 'verified: 2,000 entries, as recorded at backup',
    });
    expect(login).not.toHaveBeenCalled();
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
    expect(sink.recorded()).toEqual([]);
  });

  it.each([
    ['reverify', { reverify: true }],
    ['expectedEntries', { expectedEntries: 2000 }],
  ])(
    '%s verifies again: the record is rewritten (unconditionally) and the metric emitted again',
    async (_, extra) => {
      s3Mock
        .on(GetObjectCommand, { Key: verificationKey('kb-restore-drill-1') })
        .resolves({ Body: s3Body(JSON.stringify(storedRecord('PASS'))) });
      const { d, sink, login } = deps();
      const r = await verifyRestore(d, { targetInstanceId: 'kb-restore-drill-1', ...extra });
      expect(r.fromStore).toBe(false);
      expect(login).toHaveBeenCalledTimes(1);
      expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1);
      expect(s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input.IfNoneMatch).toBeUndefined();
      expect(sink.recorded()).toEqual([['RestoreVerification', 0]]);
    },
  );

  it('a concurrent first run that stored first wins: its result is returned and no second metric is emitted', async () => {
    let reads = 0;
    s3Mock.on(GetObjectCommand, { Key: verificationKey('kb-restore-drill-1') }).callsFake(() => {
      reads += 1;
      if (reads === 1) throw notFound();
      return { Body: s3Body(JSON.stringify(storedRecord('PASS'))) };
    });
    s3Mock.on(PutObjectCommand).rejects(precondition());
    const { d, sink } = deps();
    const r = await verifyRestore(d, { targetInstanceId: 'kb-restore-drill-1' });
    expect(r).toMatchObject({ outcome: 'PASS', fromStore: true });
    expect(r.warnings).toEqual(['another run stored its result first; this is that result']);
    expect(sink.recorded()).toEqual([]);
  });

  it('a NOT_CONFIGURED record is verified again once verification is configured', async () => {
    s3Mock
      .on(GetObjectCommand, { Key: verificationKey('kb-restore-drill-1') })
      .resolves({ Body: s3Body(JSON.stringify(storedRecord('NOT_CONFIGURED'))) });
    const { d, login } = deps();
    const r = await verifyRestore(d, { targetInstanceId: 'kb-restore-drill-1' });
    expect(login).toHaveBeenCalledTimes(1);
    expect(r.outcome).toBe('FAIL');
  });
});

describe('verify-restore not configured', () => {
  it('records NOT_CONFIGURED (never PASS), emits nothing, never connects', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [snapshotRestore()] });
    const { d, sink, login } = deps({ settings: { mode: 'not-configured' } });
    const r = await verifyRestore(d, { targetInstanceId: 'kb-restore-drill-1' });
    expect(r).toMatchObject({
      outcome: 'NOT_CONFIGURED',
      summary:
        'not verified: verification is not configured (see docs/DISASTER-RECOVERY-RUNBOOK.md#verifying-a-restored-instance)',
    });
    expect(r.report).toEqual([
      'SKIP database accessible: not run: verification is not configured in this deployment (no VPC settings); see docs/DISASTER-RECOVERY-RUNBOOK.md#verifying-a-restored-instance',
    ]);
    expect(putBodies()[0]?.outcome).toBe('NOT_CONFIGURED');
    expect(sink.recorded()).toEqual([]);
    expect(login).not.toHaveBeenCalled();
  });
});

describe('the CA bundle is loaded when a check connects', () => {
  it('a connecting check calls the loader once', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [snapshotRestore()] });
    const ca = jest.fn(async () => ['-----BEGIN CERTIFICATE-----']);
    const { d } = deps({ ca });
    const r = await verifyRestore(d, { targetInstanceId: 'kb-restore-drill-1' });
    expect(r.outcome).toBe('FAIL');
    expect(ca).toHaveBeenCalledTimes(1);
  });

  it('not configured, or refused before connecting: the loader is never called', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [snapshotRestore()] });
    const ca = jest.fn(async () => ['-----BEGIN CERTIFICATE-----']);
    const notConfigured = deps({ settings: { mode: 'not-configured' }, ca }).d;
    await verifyRestore(notConfigured, { targetInstanceId: 'kb-restore-drill-1' });
    await expect(verifyRestore(deps({ ca }).d, { targetInstanceId: 'kb-prod' })).rejects.toThrow(
      /is a production instance/,
    );
    expect(ca).not.toHaveBeenCalled();
  });
});

describe('the periodic backstop pass', () => {
  it('verifies available kb-dr restores without a record, and only those', async () => {
    rdsMock.on(DescribeDBInstancesCommand, {}).resolves({
      DBInstances: [
        restoredInstance({ DBInstanceIdentifier: 'kb-prod', TagList: snapshotRestore().TagList }),
        snapshotRestore({ DBInstanceIdentifier: 'kb-restore-a' }),
        snapshotRestore({ DBInstanceIdentifier: 'kb-restore-b' }),
        snapshotRestore({ DBInstanceIdentifier: 'kb-restore-c', DBInstanceStatus: 'creating' }),
        restoredInstance({ DBInstanceIdentifier: 'kb-restore-d', TagList: [] }),
      ],
    });
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-restore-b' }).resolves({
      DBInstances: [snapshotRestore({ DBInstanceIdentifier: 'kb-restore-b' })],
    });
    s3Mock
      .on(GetObjectCommand, { Key: verificationKey('kb-restore-a') })
      .resolves({ Body: s3Body(JSON.stringify(storedRecord('PASS', 'kb-restore-a'))) });
    const { d, login } = deps({ settings: { mode: 'not-configured' } });
    const r = await verifyPass(d);
    expect(r.verified.map((v) => [v.instanceId, v.outcome])).toEqual([['kb-restore-b', 'NOT_CONFIGURED']]);
    expect(r.left).toEqual([]);
    expect(putBodies().map((b) => b.instanceId)).toEqual(['kb-restore-b']);
    expect(login).not.toHaveBeenCalled();
  });
});

describe('summaries', () => {
  it('says the figures of a pass, and the first failure of a FAIL', () => {
    const snap = { kind: 'snapshot', snapshotId: SNAP } as const;
    expect(summarize('PASS', snap, [], 100_000, '2026-11-22T01:59:58.123456Z', true)).toBe(
      'verified: 100,000 entries, as recorded at backup; newest entry 01:59:58Z',
    );
    expect(summarize('PASS', snap, [], 100_000, undefined, false)).toBe(
      'verified: 100,000 entries, no counts recorded at backup',
    );
    expect(
      summarize(
        'FAIL',
        snap,
        [{ check: 'entry counts', status: 'FAIL', detail: 'knowledge_entries 0' }],
        0,
        undefined,
        true,
      ),
    ).toBe('verification FAILED: entry counts: knowledge_entries 0');
    expect(clockOf('2026-11-22T01:59:58.123456Z')).toBe('01:59:58Z');
  });
});
