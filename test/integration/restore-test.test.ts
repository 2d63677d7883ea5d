/**
 * The weekly restore test against moto_server: the whole cycle (request, available, verified,
 * recorded, deleted), a stuck test, a failed deletion (orphan), refused deletions, two schedules
 * firing at once, an on-call restore of the same backup in progress, an answer lost after a
 * successful request, corrupt records. Most tests write verify-restore's verification record
 * themselves (schema of core/verification.ts), to stay off the data plane; one test reads the
 * record the real verify-restore writes when not configured, and the drill's "Weekly restore test"
 * step runs the real verify-restore against the emulated data plane.
 */
import {
  CreateDBInstanceCommand,
  DescribeDBInstancesCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GuardRailError } from '../../core/errors';
import type { KbMetricDefinition } from '../../core/metrics-catalog';
import {
  MANAGED_BY_TAG,
  RESTORED_FROM_SNAPSHOT_TAG_KEY,
  RESTORE_TEST_KIND_TAG_KEY,
  RESTORE_TEST_TAG,
  restoreTestRecordKey,
} from '../../core/naming';
import { parseRestoreTestRecord, type RestoreTestRecord } from '../../core/restore-test';
import { verificationKey, type VerificationRecord } from '../../core/verification';
import { loadRestoreTestConfig, type RestoreTestConfig } from '../../lambda/restore-test/config';
import { listRestoreTestRecords } from '../../lambda/shared/restore-test-records';
import {
  advanceFromEvent,
  deleteTestInstance,
  restoreTestPass,
  startRestoreTest,
  type RestoreTestDeps,
} from '../../lambda/restore-test/restore-test';
import { tagRecord } from '../../lambda/shared/tags';
import { verifyRestore } from '../../lambda/verify-restore/verify-restore';
import type { MotoServer } from '../../harness/moto';
import {
  KMS_KEY_ARN,
  applyEnv,
  clients,
  seedBackup,
  seedProtectedInstance,
  type Seeder,
} from '../support/moto-seed';
import { sharedMoto } from '../support/shared-services';

const PROD = 'kb-prod-rtest';
const BUCKET = 'kb-restore-test-backups';
const SNAPSHOT = 'kb-snapshot-20261124-020000';
const T0 = new Date('2026-11-25T04:00:00.000Z');
const MIN = 60_000;

let moto: MotoServer;
let seeder: Seeder;
let config: RestoreTestConfig;

/** What an RDS client hook may do to one command: fail it before or after it reaches moto, or edit the answer. */
interface Hooks {
  before?: (command: string, input: Record<string, unknown>) => void;
  after?: (command: string, output: Record<string, unknown>) => void;
}

/** An RDS client on moto that records every command it sends and runs `hooks`. */
function rdsClient(hooks: Hooks = {}, maxAttempts = 1): { rds: RDSClient; sent: string[] } {
  const sent: string[] = [];
  const rds = new RDSClient({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts,
  });
  rds.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName);
      sent.push(command);
      hooks.before?.(command, args.input as Record<string, unknown>);
      const out = await next(args);
      hooks.after?.(command, out.output as unknown as Record<string, unknown>);
      return out;
    },
    { step: 'initialize', name: 'testHooks' },
  );
  return { rds, sent };
}

function deps(
  rds: RDSClient,
  now: Date,
  overrides: Partial<RestoreTestConfig> = {},
): RestoreTestDeps & { emitted: [string, number][]; logs: string[] } {
  const emitted: [string, number][] = [];
  const logs: string[] = [];
  const log = (m: string) => void logs.push(m);
  return {
    rds,
    s3: seeder.s3,
    config: { ...config, ...overrides },
    metrics: { add: (def: KbMetricDefinition, v: number) => void emitted.push([def.name, v]) },
    logger: { info: log, warn: log, error: log } as unknown as RestoreTestDeps['logger'],
    now: () => now,
    emitted,
    logs,
  };
}

async function instance(id: string): Promise<DBInstance | undefined> {
  try {
    return (await seeder.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })))
      .DBInstances?.[0];
  } catch {
    return undefined;
  }
}

/** The verification record verify-restore would write (schema of core/verification.ts). */
async function writeVerification(instanceId: string, over: Partial<VerificationRecord> = {}): Promise<void> {
  const record: VerificationRecord = {
    version: 1,
    instanceId,
    outcome: 'PASS',
    source: { kind: 'snapshot', snapshotId: SNAPSHOT },
    startedAt: new Date(T0.getTime() + 30 * MIN).toISOString(),
    verifiedAt: new Date(T0.getTime() + 50 * MIN).toISOString(),
    checks: [{ check: 'entry counts', status: 'PASS', detail: '1,000 entries, as recorded' }],
    entries: { knowledge_entries: 1000, embedding_cache: 400 },
    recorded: { snapshotId: SNAPSHOT, knowledge_entries: 1000, embedding_cache: 400 },
    summary: 'verified: 1,000 entries, as recorded at backup',
    ...over,
  };
  await putRaw(verificationKey(instanceId), JSON.stringify(record));
}

async function putRaw(key: string, body: string): Promise<void> {
  await seeder.s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: key,
      Body: body,
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: KMS_KEY_ARN,
    }),
  );
}

async function record(instanceId: string): Promise<RestoreTestRecord> {
  const res = await seeder.s3.send(
    new (await import('@aws-sdk/client-s3')).GetObjectCommand({
      Bucket: BUCKET,
      Key: restoreTestRecordKey(instanceId),
    }),
  );
  return parseRestoreTestRecord(await res.Body!.transformToString(), restoreTestRecordKey(instanceId));
}

/** Finish every test left over, so each test starts with no test instance. */
async function cleanUp(): Promise<void> {
  const { rds } = rdsClient();
  await restoreTestPass(deps(rds, new Date('2030-01-01T00:00:00Z')));
}

beforeAll(async () => {
  moto = await sharedMoto();
  applyEnv(moto, BUCKET, PROD);
  seeder = { ...clients(moto), bucket: BUCKET, prodId: PROD };
  await seedProtectedInstance(seeder);
  await seedBackup(seeder, SNAPSHOT);
  config = loadRestoreTestConfig(process.env);
});

afterAll(async () => {
  await moto?.stop();
});

afterEach(cleanUp);

describe('restore test against moto: the whole cycle', () => {
  it('restores the latest backup with test settings, waits for the verification, records PASS with the measured times, deletes the instance', async () => {
    // Prepare
    const requests: Record<string, unknown>[] = [];
    const { rds, sent } = rdsClient({
      before: (command, input) => {
        if (command === 'RestoreDBInstanceFromDBSnapshotCommand') requests.push(input);
      },
    });
    const id = 'kb-restore-test-20261125-0400';
    // Act 1: the weekly schedule fires.
    const started = await startRestoreTest(deps(rds, T0), { time: T0.toISOString() });
    // Assess 1: requested and returned, with test settings and tags.
    expect(started).toMatchObject({ action: 'started', instanceId: id, snapshotId: SNAPSHOT });
    expect(requests).toEqual([
      expect.objectContaining({
        DBInstanceIdentifier: id,
        DBSnapshotIdentifier: SNAPSHOT,
        DBInstanceClass: 'db.t4g.medium',
        MultiAZ: false,
        PubliclyAccessible: false,
        DeletionProtection: false,
        CopyTagsToSnapshot: false,
      }),
    ]);
    const inst = await instance(id);
    expect(inst).toMatchObject({
      DBInstanceClass: 'db.t4g.medium',
      MultiAZ: false,
      DeletionProtection: false,
    });
    const tags = tagRecord(inst?.TagList);
    expect(tags).toMatchObject({
      [RESTORE_TEST_TAG.key]: RESTORE_TEST_TAG.value,
      [MANAGED_BY_TAG.key]: MANAGED_BY_TAG.value,
      [RESTORED_FROM_SNAPSHOT_TAG_KEY]: SNAPSHOT,
      [RESTORE_TEST_KIND_TAG_KEY]: 'snapshot',
      'kb-dr:protected-instance': PROD,
    });
    expect(sent).not.toContain('DeleteDBInstanceCommand');

    // Act 2: the "available" event arrives before verify-restore has written its record.
    const available = new Date(T0.getTime() + 20 * MIN);
    const early = deps(rds, available);
    const waiting = await advanceFromEvent(early, id, available);
    // Assess 2: waiting; nothing recorded, nothing deleted, no outcome metric.
    expect(waiting.results).toEqual([expect.objectContaining({ instanceId: id, action: 'waiting' })]);
    expect(await instance(id)).toBeDefined();
    expect(early.emitted).toEqual([]);
    expect(sent).not.toContain('DeleteDBInstanceCommand');

    // Act 3: verify-restore writes PASS; the next pass advances the test.
    await writeVerification(id);
    const later = deps(rds, new Date(T0.getTime() + 55 * MIN));
    const done = await restoreTestPass(later);
    // Assess 3
    expect(done.results).toEqual([
      expect.objectContaining({ instanceId: id, action: 'recorded-and-deleted', outcome: 'PASS' }),
    ]);
    const rec = await record(id);
    expect(rec).toMatchObject({
      instanceId: id,
      protectedInstanceId: PROD,
      kind: 'snapshot',
      backup: { snapshotId: SNAPSHOT },
      outcome: 'PASS',
      requestedAt: T0.toISOString(),
      availableAt: available.toISOString(),
      secondsToAvailable: 20 * 60,
      secondsToVerified: 50 * 60,
      entries: {
        restored: { knowledge_entries: 1000, embedding_cache: 400 },
        backup: { knowledge_entries: 1000, embedding_cache: 400 },
      },
      instanceClass: 'db.t4g.medium',
    });
    expect(later.emitted).toEqual(
      expect.arrayContaining([
        ['RestoreTestSuccess', 1],
        ['RestoreTestDuration', 3000],
        ['RestoreTestOrphans', 0],
        ['HoursSinceLastRestoreTest', 0.08],
      ]),
    );
    expect(await instance(id)).toBeUndefined();
    expect(sent.filter((c) => c === 'DeleteDBInstanceCommand')).toHaveLength(1);

    // Act 4: the event redelivered after the test is over changes nothing and emits nothing.
    const again = deps(rds, new Date(T0.getTime() + 60 * MIN));
    expect((await advanceFromEvent(again, id)).results).toEqual([]);
    expect(again.emitted).toEqual([]);
  });

  it('runs end to end through the real handler: start, then the RDS event', async () => {
    // Prepare
    const { handler } = await import('../../lambda/restore-test');
    // Act
    const started = (await handler({
      source: 'kb-dr.restore-test',
      action: 'start',
      time: '2026-12-02T04:00:00Z',
    })) as {
      action: string;
      instanceId: string;
    };
    await writeVerification(started.instanceId, { verifiedAt: new Date().toISOString() });
    const advanced = (await handler({
      source: 'aws.rds',
      'detail-type': 'RDS DB Instance Event',
      detail: { EventID: 'RDS-EVENT-0043', SourceIdentifier: started.instanceId },
    })) as { results: readonly { action: string; outcome?: string }[] };
    // Assess
    expect(started).toMatchObject({ action: 'started', instanceId: 'kb-restore-test-20261202-0400' });
    expect(advanced.results).toEqual([
      expect.objectContaining({ action: 'recorded-and-deleted', outcome: 'PASS' }),
    ]);
    expect(await instance(started.instanceId)).toBeUndefined();
    expect((await record(started.instanceId)).outcome).toBe('PASS');
  });

  it('refuses an unknown event field, changing nothing', async () => {
    const { handler } = await import('../../lambda/restore-test');
    await expect(handler({ action: 'strat' })).rejects.toThrow(/not a restore-test event/);
  });
});

describe('restore test against moto: failures', () => {
  it('records a test not verified within the stuck limit as FAIL (stuck) and still deletes its instance', async () => {
    // Prepare
    const { rds, sent } = rdsClient();
    const t = new Date('2026-12-09T04:00:00Z');
    const { instanceId } = await startRestoreTest(deps(rds, t), { time: t.toISOString() });
    // Act: 5 h later still waiting; 6 h 30 later stuck.
    const at5h = deps(rds, new Date(t.getTime() + 5 * 3_600_000));
    const waiting = await restoreTestPass(at5h);
    const at7h = deps(rds, new Date(t.getTime() + 6.5 * 3_600_000));
    const stuck = await restoreTestPass(at7h);
    // Assess
    expect(waiting.results).toEqual([expect.objectContaining({ action: 'waiting' })]);
    expect(at5h.emitted.filter(([n]) => n === 'RestoreTestSuccess')).toEqual([]);
    expect(stuck.results).toEqual([
      expect.objectContaining({ action: 'recorded-and-deleted', outcome: 'FAIL' }),
    ]);
    expect(await record(instanceId)).toMatchObject({ outcome: 'FAIL', failure: { reason: 'stuck' } });
    expect(at7h.emitted).toContainEqual(['RestoreTestSuccess', 0]);
    expect(at7h.emitted.filter(([n]) => n === 'RestoreTestDuration')).toEqual([]);
    expect(await instance(instanceId)).toBeUndefined();
    expect(sent.filter((c) => c === 'DeleteDBInstanceCommand')).toHaveLength(1);
  });

  it('records FAIL when verify-restore says FAIL, or NOT_CONFIGURED (never a pass)', async () => {
    for (const [i, outcome] of (['FAIL', 'NOT_CONFIGURED'] as const).entries()) {
      const { rds } = rdsClient();
      const t = new Date(Date.UTC(2026, 11, 16 + i, 4));
      const { instanceId } = await startRestoreTest(deps(rds, t), { time: t.toISOString() });
      await writeVerification(instanceId, { outcome, summary: `verification ${outcome}` });
      const d = deps(rds, new Date(t.getTime() + HOUR));
      await advanceFromEvent(d, instanceId);
      expect(await record(instanceId)).toMatchObject({
        outcome: 'FAIL',
        failure: { reason: 'verification-failed' },
      });
      expect(d.emitted).toContainEqual(['RestoreTestSuccess', 0]);
      expect(await instance(instanceId)).toBeUndefined();
    }
  });

  it('reads the record the real verify-restore writes: not configured is FAIL, never a pass', async () => {
    // Prepare: a test instance; verify-restore as deployed without VPC settings (no connection).
    const { rds } = rdsClient();
    const t = new Date('2027-02-03T04:00:00Z');
    const { instanceId } = await startRestoreTest(deps(rds, t), { time: t.toISOString() });
    const login = jest.fn(() => Promise.reject(new Error('no login when not configured')));
    const verifyMetrics: [string, number][] = [];
    // Act: verify-restore writes its record; then the "available" event advances the test.
    const verified = await verifyRestore(
      {
        rds,
        s3: seeder.s3,
        config,
        settings: { mode: 'not-configured' },
        login,
        ca: [],
        metrics: { add: (def, v) => void verifyMetrics.push([def.name, v]) },
      },
      { targetInstanceId: instanceId },
    );
    const d = deps(rds, new Date(t.getTime() + HOUR));
    await advanceFromEvent(d, instanceId);
    // Assess
    expect(verified).toMatchObject({ outcome: 'NOT_CONFIGURED', fromStore: false });
    expect(login).not.toHaveBeenCalled();
    expect(verifyMetrics).toEqual([]);
    expect(await record(instanceId)).toMatchObject({
      outcome: 'FAIL',
      failure: { reason: 'verification-failed' },
    });
    expect(d.emitted).toContainEqual(['RestoreTestSuccess', 0]);
    expect(await instance(instanceId)).toBeUndefined();
  });

  it('treats a corrupt verification record as FAIL (verification-corrupt), not as a pass', async () => {
    const { rds } = rdsClient();
    const t = new Date('2026-12-23T04:00:00Z');
    const { instanceId } = await startRestoreTest(deps(rds, t), { time: t.toISOString() });
    await putRaw(verificationKey(instanceId), '{"version": 1, "outcome": "PASS"');
    const d = deps(rds, new Date(t.getTime() + HOUR));
    await advanceFromEvent(d, instanceId);
    expect(await record(instanceId)).toMatchObject({
      outcome: 'FAIL',
      failure: { reason: 'verification-corrupt' },
    });
    expect(d.emitted).toContainEqual(['RestoreTestSuccess', 0]);
  });

  it('reports an orphan when the deletion fails, emits RestoreTestOrphans, and deletes it on the next pass', async () => {
    // Prepare: DeleteDBInstance fails the first time.
    let failDeletes = 1;
    const { rds } = rdsClient({
      before: (command) => {
        if (command === 'DeleteDBInstanceCommand' && failDeletes-- > 0)
          throw Object.assign(new Error('The DB instance is not in a state that allows deletion'), {
            name: 'InvalidDBInstanceStateFault',
            $metadata: { httpStatusCode: 400 },
          });
      },
    });
    const t = new Date('2026-12-30T04:00:00Z');
    const { instanceId } = await startRestoreTest(deps(rds, t), { time: t.toISOString() });
    await writeVerification(instanceId);
    // Act 1
    const first = deps(rds, new Date(t.getTime() + HOUR));
    const res1 = await restoreTestPass(first);
    // Assess 1: recorded PASS, instance still there, counted as an orphan at once and by the pass.
    expect(res1.results).toEqual([expect.objectContaining({ action: 'deletion-failed', outcome: 'PASS' })]);
    expect(res1.orphans).toEqual([instanceId]);
    expect(first.emitted).toEqual(
      expect.arrayContaining([
        ['RestoreTestOrphans', 1],
        ['RestoreTestSuccess', 1],
      ]),
    );
    expect(first.emitted.filter(([n]) => n === 'RestoreTestOrphans')).toEqual([
      ['RestoreTestOrphans', 1],
      ['RestoreTestOrphans', 1],
    ]);
    expect(await instance(instanceId)).toBeDefined();
    // Act 2: the next pass retries the deletion; the outcome is not emitted again.
    const second = deps(rds, new Date(t.getTime() + HOUR + 30 * MIN));
    const res2 = await restoreTestPass(second);
    // Assess 2
    expect(res2.results).toEqual([expect.objectContaining({ instanceId, action: 'deleted' })]);
    expect(second.emitted).toContainEqual(['RestoreTestOrphans', 0]);
    expect(second.emitted.filter(([n]) => n === 'RestoreTestSuccess')).toEqual([]);
    expect(await instance(instanceId)).toBeUndefined();
  });
});

const HOUR = 3_600_000;

describe('restore test against moto: fences', () => {
  it('refuses to delete anything that is not its own tagged test instance, sending no DeleteDBInstance', async () => {
    // Prepare: production, an on-call restore with the test tag, an untagged kb-restore-test-*.
    const { rds, sent } = rdsClient();
    const create = (id: string, tags: { Key: string; Value: string }[]) =>
      seeder.rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: id,
          Engine: 'postgres',
          DBInstanceClass: 'db.t3.micro',
          AllocatedStorage: 20,
          MasterUsername: 'kb',
          MasterUserPassword: 'not-a-secret-1',
          Tags: tags,
        }),
      );
    const testTag = [{ Key: RESTORE_TEST_TAG.key, Value: RESTORE_TEST_TAG.value }];
    await create('kb-restore-oncall-1', testTag);
    await create('kb-restore-test-20270106-0400', []);
    await create('kb-restore-test-20270106-0500', [{ Key: RESTORE_TEST_TAG.key, Value: 'someone-else' }]);
    const cfg = deps(rds, T0).config;
    // Act + Assess: refused by name or by tag, before any call.
    const refused = [
      PROD,
      'kb-restore-oncall-1',
      'kb-restore-test-20270106-0400',
      'kb-restore-test-20270106-0500',
    ];
    for (const id of refused) {
      const inst = (await instance(id))!;
      await expect(deleteTestInstance(rds, cfg, inst)).rejects.toThrow(GuardRailError);
    }
    // Production and other names are refused even when they carry the test tag.
    for (const id of [PROD, 'kb-restore-oncall-1']) {
      const inst = (await instance(id))!;
      await expect(
        deleteTestInstance(rds, cfg, { ...inst, TagList: [...(inst.TagList ?? []), ...testTag] }),
      ).rejects.toThrow(/deletes only its own test instances/);
    }
    // The pass leaves them all alone.
    const pass = await restoreTestPass(deps(rds, new Date(T0.getTime() + 100 * HOUR)));
    expect(pass.results).toEqual([]);
    for (const id of refused) expect(await instance(id)).toBeDefined();
    expect(sent).not.toContain('DeleteDBInstanceCommand');
  });

  it('two schedules firing at once: the same time requests one instance; another time is skipped while it runs', async () => {
    // Prepare
    const { rds, sent } = rdsClient();
    const t = new Date('2027-01-13T04:00:00Z');
    // Act: the same scheduled time delivered twice at once, then another schedule at 04:05.
    const [a, b] = await Promise.all([
      startRestoreTest(deps(rds, t), { time: t.toISOString() }),
      startRestoreTest(deps(rds, t), { time: t.toISOString() }),
    ]);
    const other = await startRestoreTest(deps(rds, t), { time: '2027-01-13T04:05:00Z' });
    // Assess
    expect([a.action, b.action].sort()).toEqual(['already-requested', 'started']);
    expect(other).toMatchObject({
      action: 'skipped',
      reason: expect.stringMatching(/another restore test is in progress/),
    });
    expect(await instance('kb-restore-test-20270113-0405')).toBeUndefined();
    expect(await instance('kb-restore-test-20270113-0400')).toBeDefined();
    // Each delivery sent its request; RDS accepted one (the other met DBInstanceAlreadyExists).
    expect(sent.filter((c) => c === 'RestoreDBInstanceFromDBSnapshotCommand')).toHaveLength(2);
    // With concurrency allowed, the second one starts.
    const allowed = await startRestoreTest(deps(rds, t, { allowConcurrent: true }), {
      time: '2027-01-13T04:05:00Z',
    });
    expect(allowed.action).toBe('started');
  });

  it('skips the test while an on-call restore of the same backup is still being created', async () => {
    // Prepare: an on-call restore of the snapshot; the hook shows it as creating.
    await seeder.rds.send(
      new RestoreDBInstanceFromDBSnapshotCommand({
        DBInstanceIdentifier: 'kb-restore-oncall-2',
        DBSnapshotIdentifier: SNAPSHOT,
        Tags: [{ Key: RESTORED_FROM_SNAPSHOT_TAG_KEY, Value: SNAPSHOT }],
      }),
    );
    const { rds, sent } = rdsClient({
      after: (command, output) => {
        if (command !== 'DescribeDBInstancesCommand') return;
        for (const i of (output.DBInstances as DBInstance[] | undefined) ?? [])
          if (i.DBInstanceIdentifier === 'kb-restore-oncall-2') i.DBInstanceStatus = 'creating';
      },
    });
    const t = new Date('2027-01-20T04:00:00Z');
    // Act
    const res = await startRestoreTest(deps(rds, t), { time: t.toISOString() });
    // Assess
    expect(res).toMatchObject({
      action: 'skipped',
      reason: expect.stringMatching(/on-call restore of the same backup/),
    });
    expect(sent).not.toContain('RestoreDBInstanceFromDBSnapshotCommand');
  });

  it('resolves an answer lost after a successful restore request by reading the instance and its request tag', async () => {
    // Prepare: the restore reaches moto, then the answer is lost.
    let lose = true;
    const { rds } = rdsClient({
      after: (command) => {
        if (command === 'RestoreDBInstanceFromDBSnapshotCommand' && lose) {
          lose = false;
          throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });
        }
      },
    });
    const t = new Date('2027-01-27T04:00:00Z');
    // Act
    const res = await startRestoreTest(
      { ...deps(rds, t), requestId: () => 'req-lost-1' },
      { time: t.toISOString() },
    );
    // Assess
    expect(res).toMatchObject({
      action: 'started',
      instanceId: 'kb-restore-test-20270127-0400',
      resolvedFromState: expect.stringMatching(/answer to the restore request was lost/),
    });
    expect(
      tagRecord((await instance('kb-restore-test-20270127-0400'))?.TagList)['kb-dr:restore-request'],
    ).toBe('req-lost-1');
  });
});

describe('restore-test records', () => {
  it('lists intact records newest first and reports a corrupt one without hiding the others', async () => {
    // Prepare
    await putRaw(restoreTestRecordKey('kb-restore-test-20200101-0400'), 'not json');
    const corrupt: string[] = [];
    // Act
    const records = await listRestoreTestRecords(
      { s3: seeder.s3, bucket: BUCKET },
      { onCorrupt: (e) => void corrupt.push(e.source) },
    );
    // Assess
    expect(records.length).toBeGreaterThan(0);
    expect(records.map((r) => r.instanceId)).toEqual([...records.map((r) => r.instanceId)].sort().reverse());
    expect(corrupt).toEqual([`s3://${BUCKET}/${restoreTestRecordKey('kb-restore-test-20200101-0400')}`]);
  });
});
