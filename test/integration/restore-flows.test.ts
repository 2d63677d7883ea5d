/**
 * The real restore handlers against moto_server: restore by id and `latest`, status through to
 * available, point-in-time inside and outside the window, promote (and its rollback).
 */
import 'aws-sdk-client-mock-jest';
import { createServer, request as httpRequest } from 'node:http';
import {
  CreateDBInstanceCommand,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { promoteRestore } from '../../lambda/promote-restore/promote-restore';
import { restoreSnapshot } from '../../lambda/restore-snapshot/restore-snapshot';
import { restoreStatus } from '../../lambda/restore-status/restore-status';
import {
  MANAGED_BY_TAG,
  RESTORED_FROM_SNAPSHOT_TAG_KEY,
  RESTORE_AVAILABLE_AT_TAG_KEY,
  RESTORE_STARTED_AT_TAG_KEY,
} from '../../core/naming';
import { tagRecord } from '../../lambda/shared/tags';
import { freePort, type MotoServer } from '../../harness/moto';
import { sharedMoto } from '../support/shared-services';
import {
  KMS_KEY_ARN,
  applyEnv,
  clients,
  seedBackup,
  seedProtectedInstance,
  type Seeder,
} from '../support/moto-seed';

type Handler = (event: unknown, context?: unknown) => Promise<Record<string, unknown>>;
const PROD = 'kb-prod-flows';
const BUCKET = 'kb-restore-flows-backups';

let moto: MotoServer;
let seeder: Seeder;
let rds: RDSClient;
const h: Record<'snapshot' | 'pitr' | 'status' | 'promote', Handler> = {} as never;

async function describe1(id: string): Promise<DBInstance | undefined> {
  try {
    return (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0];
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  moto = await sharedMoto();
  applyEnv(moto, BUCKET, PROD);
  ({ rds } = clients(moto));
  seeder = { ...clients(moto), bucket: BUCKET, prodId: PROD };
  await seedProtectedInstance(seeder);
  h.snapshot = (await import('../../lambda/restore-snapshot')).handler as unknown as Handler;
  h.pitr = (await import('../../lambda/restore-pitr')).handler as unknown as Handler;
  h.status = (await import('../../lambda/restore-status')).handler as unknown as Handler;
  h.promote = (await import('../../lambda/promote-restore')).handler as unknown as Handler;
});

afterAll(async () => {
  await moto?.stop();
});

describe('restore-snapshot and restore-status against moto', () => {
  it('restores a backup by id to a new instance copying the source settings', async () => {
    // Prepare
    await seedBackup(seeder, 'kb-snapshot-20261101-020000');
    // Act
    const res = await h.snapshot({
      snapshotId: 'kb-snapshot-20261101-020000',
      targetInstanceId: 'kb-restore-by-id',
      confirm: true,
    });
    // Assess
    expect(res).toMatchObject({
      ok: true,
      action: 'started',
      next: { event: { targetInstanceId: 'kb-restore-by-id' } },
    });
    const inst = await describe1('kb-restore-by-id');
    expect(inst).toMatchObject({
      DBInstanceClass: 'db.r6g.large',
      DeletionProtection: true,
      StorageEncrypted: true,
      VpcSecurityGroups: [expect.objectContaining({ VpcSecurityGroupId: 'sg-0kbtest' })],
      DBParameterGroups: [expect.objectContaining({ DBParameterGroupName: `${PROD}-pg` })],
    });
    const tags = tagRecord(inst?.TagList);
    expect(tags[MANAGED_BY_TAG.key]).toBe(MANAGED_BY_TAG.value);
    expect(tags[RESTORED_FROM_SNAPSHOT_TAG_KEY]).toBe('kb-snapshot-20261101-020000');
  });

  it('restores "latest" as the newest SUCCEEDED backup, passing over a newer failed one', async () => {
    await seedBackup(seeder, 'kb-snapshot-20991230-020000');
    await seedBackup(seeder, 'kb-snapshot-20991231-020000', { status: 'FAILED' });
    const res = await h.snapshot({
      snapshotId: 'latest',
      targetInstanceId: 'kb-restore-latest',
      confirm: true,
    });
    expect(res).toMatchObject({
      ok: true,
      snapshot: { id: 'kb-snapshot-20991230-020000', resolvedFrom: 'latest' },
    });
    expect(tagRecord((await describe1('kb-restore-latest'))?.TagList)[RESTORED_FROM_SNAPSHOT_TAG_KEY]).toBe(
      'kb-snapshot-20991230-020000',
    );
  });

  it('refuses a snapshot that is not tagged as a kb-dr backup and creates nothing', async () => {
    await seedBackup(seeder, 'kb-snapshot-20261102-020000', { managed: false });
    const res = await h.snapshot({
      snapshotId: 'kb-snapshot-20261102-020000',
      targetInstanceId: 'kb-restore-untagged',
      confirm: true,
    });
    expect(res).toMatchObject({ ok: false, errorType: 'GuardRailError' });
    expect(res.error).toMatch(/is not a kb-dr backup/);
    expect(await describe1('kb-restore-untagged')).toBeUndefined();
  });

  it('refuses the production instance as target, in any case, and leaves it untouched', async () => {
    await seedBackup(seeder, 'kb-snapshot-20261103-020000');
    const before = await describe1(PROD);
    const res = await h.snapshot({
      snapshotId: 'kb-snapshot-20261103-020000',
      targetInstanceId: PROD.toUpperCase(),
      confirm: true,
    });
    expect(res).toMatchObject({ ok: false, errorType: 'GuardRailError', nothingChanged: true });
    expect((await describe1(PROD))?.InstanceCreateTime).toEqual(before?.InstanceCreateTime);
  });

  it('follows a restore to available, stopping the RTO clock once', async () => {
    await seedBackup(seeder, 'kb-snapshot-20261104-020000');
    await h.snapshot({
      snapshotId: 'kb-snapshot-20261104-020000',
      targetInstanceId: 'kb-restore-status',
      confirm: true,
    });

    const first = await h.status({ targetInstanceId: 'kb-restore-status' });
    const tagsAfterFirst = tagRecord((await describe1('kb-restore-status'))?.TagList);
    const second = await h.status({ targetInstanceId: 'kb-restore-status' });

    expect(first).toMatchObject({
      ok: true,
      phase: 'available',
      endpoint: { port: 5432 },
      restoredFrom: { snapshotId: 'kb-snapshot-20261104-020000', instanceId: PROD },
      promoteEvent: { restoredInstanceId: 'kb-restore-status', productionInstanceId: PROD },
    });
    expect(tagsAfterFirst[RESTORE_AVAILABLE_AT_TAG_KEY]).toBe(first.availableAt);
    expect(tagsAfterFirst[RESTORE_STARTED_AT_TAG_KEY]).toBe(first.restoreStartedAt);
    expect(second.availableAt).toBe(first.availableAt);
    expect(second.elapsedSeconds).toBe(first.elapsedSeconds);
  });
});

describe('restore-pitr against moto', () => {
  async function windowOf(): Promise<{ created: Date }> {
    const prod = await describe1(PROD);
    return { created: new Date(prod?.InstanceCreateTime ?? 0) };
  }

  it('restores a time inside the window', async () => {
    const { created } = await windowOf();
    const res = await h.pitr({
      targetTime: created.toISOString(),
      targetInstanceId: 'kb-restore-pitr-inside',
      confirm: true,
    });
    expect(res).toMatchObject({
      ok: true,
      action: 'started',
      window: { earliestFrom: 'instance-create-time' },
    });
    expect(
      tagRecord((await describe1('kb-restore-pitr-inside'))?.TagList)[RESTORE_STARTED_AT_TAG_KEY],
    ).toBeDefined();
  });

  it('refuses a time before the window, stating it in UTC, and creates nothing', async () => {
    const { created } = await windowOf();
    const before = new Date(created.getTime() - 86_400_000);
    const res = await h.pitr({
      targetTime: before.toISOString(),
      targetInstanceId: 'kb-restore-pitr-outside',
      confirm: true,
    });
    expect(res).toMatchObject({ ok: false, field: 'targetTime', nothingChanged: true });
    expect(res.error).toMatch(/is outside the restore window of kb-prod-flows, from \S+Z to \S+Z \(UTC\)/);
    expect(await describe1('kb-restore-pitr-outside')).toBeUndefined();
  });

  it('refuses a time in the future and creates nothing', async () => {
    const res = await h.pitr({
      targetTime: new Date(Date.now() + 3_600_000).toISOString(),
      targetInstanceId: 'kb-restore-pitr-future',
      confirm: true,
    });
    expect(res).toMatchObject({ ok: false, field: 'targetTime' });
    expect(res.error).toMatch(/is in the future/);
    expect(await describe1('kb-restore-pitr-future')).toBeUndefined();
  });
});

describe('promote-restore against moto', () => {
  it('puts the restored instance behind the production name and keeps production aside', async () => {
    // Prepare: a separate production id, so the other tests keep theirs.
    await seedBackup(seeder, 'kb-snapshot-20261105-020000');
    await h.snapshot({
      snapshotId: 'kb-snapshot-20261105-020000',
      targetInstanceId: 'kb-restore-promote',
      confirm: true,
    });
    const oldProd = await describe1(PROD);
    // Act
    const res = await h.promote(
      {
        restoredInstanceId: 'kb-restore-promote',
        productionInstanceId: PROD,
        confirm: true,
        forceProduction: true,
      },
      { getRemainingTimeInMillis: () => 900_000 },
    );
    // Assess
    expect(res).toMatchObject({ ok: true, action: 'promoted' });
    const aside = String(res.asideInstanceId);
    expect(aside).toMatch(new RegExp(`^${PROD}-pre-promote-\\d{14}$`));
    const asideInst = await describe1(aside);
    expect(asideInst?.InstanceCreateTime).toEqual(oldProd?.InstanceCreateTime);
    expect(tagRecord(asideInst?.TagList)[RESTORED_FROM_SNAPSHOT_TAG_KEY]).toBeUndefined();
    expect(tagRecord((await describe1(PROD))?.TagList)[RESTORED_FROM_SNAPSHOT_TAG_KEY]).toBe(
      'kb-snapshot-20261105-020000',
    );
    expect(await describe1('kb-restore-promote')).toBeUndefined();
    // Put the original production back under its name for the next test.
    await rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: PROD,
        NewDBInstanceIdentifier: 'kb-restore-promoted-away',
        ApplyImmediately: true,
      }),
    );
    await rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: aside,
        NewDBInstanceIdentifier: PROD,
        ApplyImmediately: true,
      }),
    );
  });

  it('renames production back when the second rename fails (failure injected)', async () => {
    await seedBackup(seeder, 'kb-snapshot-20261106-020000');
    await h.snapshot({
      snapshotId: 'kb-snapshot-20261106-020000',
      targetInstanceId: 'kb-restore-rollback',
      confirm: true,
    });
    const prodBefore = await describe1(PROD);
    // A client whose rename of the restored instance fails; every other call goes to moto.
    const real = clients(moto).rds;
    const failing = new RDSClient({ region: 'us-east-1' });
    const mock = mockClient(failing);
    mock
      .on(DescribeDBInstancesCommand)
      .callsFake((input) => real.send(new DescribeDBInstancesCommand(input)));
    mock.on(ModifyDBInstanceCommand).callsFake((input) => {
      if (input.DBInstanceIdentifier === 'kb-restore-rollback')
        throw Object.assign(new Error('injected failure'), { name: 'InvalidDBInstanceStateFault' });
      return real.send(new ModifyDBInstanceCommand(input));
    });

    const err = await promoteRestore(
      {
        rds: failing,
        config: { dbInstanceId: PROD, restorePrefix: 'kb-restore-', productionInstanceIds: [PROD] },
        waitBudgetMs: 60_000,
        sleep: async () => {},
      },
      {
        restoredInstanceId: 'kb-restore-rollback',
        productionInstanceId: PROD,
        confirm: true,
        forceProduction: true,
      },
    ).catch((e: unknown) => e as Error);

    expect(err).toMatchObject({ name: 'PromotionFailedError' });
    expect((err as Error).message).toMatch(/rolled back/);
    expect(mock).toHaveReceivedCommandTimes(ModifyDBInstanceCommand, 3);
    const prodAfter = await describe1(PROD);
    expect(prodAfter?.InstanceCreateTime).toEqual(prodBefore?.InstanceCreateTime);
    expect(tagRecord(prodAfter?.TagList)[RESTORED_FROM_SNAPSHOT_TAG_KEY]).toBeUndefined();
    expect((await describe1('kb-restore-rollback'))?.DBInstanceStatus).toBe('available');
    mock.restore();
  });
});

describe('provenance against moto: nothing but a copy of production goes behind its name', () => {
  const STAGING = 'kb-staging-flows';
  const SECOND = 'kb-second-flows';
  const config = {
    dbInstanceId: PROD,
    restorePrefix: 'kb-restore-',
    productionInstanceIds: [PROD, SECOND],
    backupBucket: BUCKET,
  };
  const promoteEvent = (restoredInstanceId: string) => ({
    restoredInstanceId,
    productionInstanceId: PROD,
    confirm: true,
    forceProduction: true,
  });

  beforeAll(async () => {
    for (const id of [STAGING, SECOND])
      await rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: id,
          Engine: 'postgres',
          DBInstanceClass: 'db.t4g.micro',
          AllocatedStorage: 20,
          MasterUsername: 'kb',
          MasterUserPassword: 'not-a-real-password',
          StorageEncrypted: true,
          KmsKeyId: KMS_KEY_ARN,
          BackupRetentionPeriod: 7,
        }),
      );
  });

  it("refuses to restore another instance's kb-dr-tagged snapshot and creates nothing", async () => {
    await seedBackup({ ...seeder, prodId: STAGING }, 'kb-snapshot-20261107-020000');
    const res = await h.snapshot({
      snapshotId: 'kb-snapshot-20261107-020000',
      targetInstanceId: 'kb-restore-staging',
      confirm: true,
    });
    expect(res).toMatchObject({ ok: false, errorType: 'GuardRailError', nothingChanged: true });
    expect(res.error).toMatch(`it was taken of ${STAGING}, not ${PROD}`);
    expect(await describe1('kb-restore-staging')).toBeUndefined();
  });

  it('refuses to promote a hand-made kb-restore-* instance and leaves production as it was', async () => {
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'kb-restore-handmade',
        Engine: 'postgres',
        DBInstanceClass: 'db.t4g.micro',
        AllocatedStorage: 20,
        MasterUsername: 'kb',
        MasterUserPassword: 'not-a-real-password',
        StorageEncrypted: true,
        KmsKeyId: KMS_KEY_ARN,
      }),
    );
    const prodBefore = await describe1(PROD);
    const res = await h.promote(promoteEvent('kb-restore-handmade'), {
      getRemainingTimeInMillis: () => 900_000,
    });
    expect(res).toMatchObject({ ok: false, errorType: 'GuardRailError', nothingChanged: true });
    expect(res.error).toMatch(/was not made by kb-dr/);
    expect((await describe1(PROD))?.InstanceCreateTime).toEqual(prodBefore?.InstanceCreateTime);
    expect(await describe1('kb-restore-handmade')).toBeDefined();
  });

  it('restores a second protected instance, offers to promote it only into its own name, and refuses production', async () => {
    // Prepare
    await seedBackup({ ...seeder, prodId: SECOND }, 'kb-snapshot-20261108-020000');
    const deps = { rds, s3: seeder.s3, config, metrics: { add: () => undefined } };
    await restoreSnapshot(deps, {
      snapshotId: 'kb-snapshot-20261108-020000',
      targetInstanceId: 'kb-restore-second',
      sourceInstanceId: SECOND,
      confirm: true,
    });
    // Act
    const status = await restoreStatus(deps, { targetInstanceId: 'kb-restore-second' });
    const prodBefore = await describe1(PROD);
    const promoted = await promoteRestore(
      { rds, config, waitBudgetMs: 60_000, sleep: async () => {} },
      promoteEvent('kb-restore-second'),
    ).catch((e: unknown) => e as Error);
    // Assess
    expect(status.promoteEvent).toMatchObject({ productionInstanceId: SECOND });
    expect(promoted).toMatchObject({ name: 'GuardRailError' });
    expect((promoted as Error).message).toMatch(`is a restore of ${SECOND}, not of ${PROD}`);
    expect((await describe1(PROD))?.InstanceCreateTime).toEqual(prodBefore?.InstanceCreateTime);
    expect(tagRecord((await describe1(PROD))?.TagList)[RESTORED_FROM_SNAPSHOT_TAG_KEY]).toBeUndefined();
  });
});

describe('after a promotion against moto', () => {
  it("restores production's old history from its aside copy (PITR) and its pre-promotion backups", async () => {
    // Prepare: a backup taken before the promotion, then the promotion.
    await seedBackup(seeder, 'kb-snapshot-20261109-020000');
    await h.snapshot({
      snapshotId: 'kb-snapshot-20261109-020000',
      targetInstanceId: 'kb-restore-p2',
      confirm: true,
    });
    const promoted = await h.promote(
      {
        restoredInstanceId: 'kb-restore-p2',
        productionInstanceId: PROD,
        confirm: true,
        forceProduction: true,
      },
      { getRemainingTimeInMillis: () => 900_000 },
    );
    expect(promoted).toMatchObject({ ok: true, action: 'promoted' });
    const aside = String(promoted.asideInstanceId);
    expect((promoted.next as string[]).join('\n')).toContain(`"sourceInstanceId": "${aside}"`);

    // Act: PITR of the aside, and a restore of the pre-promotion backup.
    const pitr = await h.pitr({
      targetTime: 'latest',
      sourceInstanceId: aside,
      targetInstanceId: 'kb-restore-from-aside',
      confirm: true,
    });
    const snap = await h.snapshot({
      snapshotId: 'kb-snapshot-20261109-020000',
      targetInstanceId: 'kb-restore-pre-promotion',
      confirm: true,
    });

    // Assess
    expect(pitr).toMatchObject({
      ok: true,
      action: 'started',
      sourceInstanceId: aside,
      protectedInstanceId: PROD,
    });
    expect(tagRecord((await describe1('kb-restore-from-aside'))?.TagList)).toMatchObject({
      'kb-dr:protected-instance': PROD,
      'kb-dr:restored-from-instance': aside,
    });
    expect(snap).toMatchObject({ ok: true, action: 'started', protectedInstanceId: PROD });
    // The copy of the old history may itself be promoted back into production.
    const status = await h.status({ targetInstanceId: 'kb-restore-from-aside' });
    expect(status.promoteEvent).toMatchObject({ productionInstanceId: PROD });

    // Put the original production back under its name for later tests.
    await rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: PROD,
        NewDBInstanceIdentifier: 'kb-restore-p2-away',
        ApplyImmediately: true,
      }),
    );
    await rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: aside,
        NewDBInstanceIdentifier: PROD,
        ApplyImmediately: true,
      }),
    );
  });
});

describe('lost answers through a loopback proxy in front of moto (the SDK retries for real)', () => {
  /**
   * Forwards every request to moto; for the first `drop` requests whose body matches `action`
   * (default: the restores) it lets moto apply the request, then answers 500 or drops the
   * connection instead of passing the answer on.
   */
  async function startProxy(
    mode: 'reset' | '500',
    drop = 1,
    action: RegExp = /Action=RestoreDBInstance/,
  ): Promise<{ url: string; close: () => Promise<void>; restores: () => number }> {
    let restores = 0;
    let left = drop;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const isRestore = action.test(body.toString());
        if (isRestore) restores++;
        const upstream = httpRequest(
          `${moto.endpoint}${req.url ?? '/'}`,
          { method: req.method, headers: req.headers },
          (up) => {
            const out: Buffer[] = [];
            up.on('data', (c: Buffer) => out.push(c));
            up.on('end', () => {
              if (isRestore && left > 0) {
                left--;
                if (mode === 'reset') {
                  req.socket.destroy();
                } else {
                  res.writeHead(500, { 'content-type': 'text/xml' });
                  res.end(
                    '<ErrorResponse><Error><Code>InternalFailure</Code><Message>injected</Message></Error></ErrorResponse>',
                  );
                }
              } else {
                res.writeHead(up.statusCode ?? 502, up.headers);
                res.end(Buffer.concat(out));
              }
            });
          },
        );
        upstream.end(body);
      });
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${port}`,
      restores: () => restores,
      close: () => new Promise<void>((r) => server.close(() => r())),
    };
  }

  it.each(['reset', '500'] as const)(
    'a restore whose answer is lost (%s) is found by reading state: started once, RestoreStarted once',
    async (mode) => {
      // Prepare
      const snapshotId = mode === 'reset' ? 'kb-snapshot-20261115-020000' : 'kb-snapshot-20261116-020000';
      const target = `kb-restore-lost-${mode}`;
      await seedBackup(seeder, snapshotId);
      const proxy = await startProxy(mode);
      const viaProxy = new RDSClient({
        endpoint: proxy.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
        maxAttempts: 3,
      });
      const added: string[] = [];
      try {
        // Act
        const res = await restoreSnapshot(
          {
            rds: viaProxy,
            s3: seeder.s3,
            config: {
              dbInstanceId: PROD,
              restorePrefix: 'kb-restore-',
              productionInstanceIds: [PROD],
              backupBucket: BUCKET,
            },
            metrics: { add: (def) => void added.push(def.name) },
          },
          { snapshotId, targetInstanceId: target, confirm: true },
        );
        // Assess: the SDK sent the restore twice (its own retry), moto created one instance.
        expect(proxy.restores()).toBe(2);
        expect(res).toMatchObject({ ok: true, action: 'started', targetInstanceId: target });
        expect(res.resolvedFromState).toMatch(/DBInstanceAlreadyExists.*created by this request/);
        expect(added).toEqual(['RestoreStarted']);
        expect(tagRecord((await describe1(target))?.TagList)[RESTORED_FROM_SNAPSHOT_TAG_KEY]).toBe(
          snapshotId,
        );
      } finally {
        viaProxy.destroy();
        await proxy.close();
      }
    },
  );

  it("promotes when the first rename's answer is dropped: the SDK's retry is refused, reading state finds the rename done", async () => {
    // Prepare
    await seedBackup(seeder, 'kb-snapshot-20261117-020000');
    await h.snapshot({
      snapshotId: 'kb-snapshot-20261117-020000',
      targetInstanceId: 'kb-restore-lost-rename',
      confirm: true,
    });
    const oldProd = await describe1(PROD);
    const proxy = await startProxy(
      'reset',
      1,
      new RegExp(`^(?=.*Action=ModifyDBInstance&)(?=.*DBInstanceIdentifier=${PROD}&)`),
    );
    const viaProxy = new RDSClient({
      endpoint: proxy.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 3,
    });
    try {
      // Act
      const res = await promoteRestore(
        {
          rds: viaProxy,
          config: { dbInstanceId: PROD, restorePrefix: 'kb-restore-', productionInstanceIds: [PROD] },
          waitBudgetMs: 60_000,
          sleep: async () => {},
        },
        {
          restoredInstanceId: 'kb-restore-lost-rename',
          productionInstanceId: PROD,
          confirm: true,
          forceProduction: true,
        },
      );
      // Assess: the rename reached moto, its answer did not; the promotion finished from state.
      expect(proxy.restores()).toBe(2);
      expect(res.action).toBe('promoted');
      expect(res.steps.join('\n')).toMatch(/answer to renaming production was lost.*done/);
      const aside = String(res.asideInstanceId);
      expect((await describe1(aside))?.InstanceCreateTime).toEqual(oldProd?.InstanceCreateTime);
      expect(tagRecord((await describe1(PROD))?.TagList)[RESTORED_FROM_SNAPSHOT_TAG_KEY]).toBe(
        'kb-snapshot-20261117-020000',
      );
      // Put the original production back under its name.
      await rds.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: PROD,
          NewDBInstanceIdentifier: 'kb-restore-lost-rename-away',
          ApplyImmediately: true,
        }),
      );
      await rds.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: aside,
          NewDBInstanceIdentifier: PROD,
          ApplyImmediately: true,
        }),
      );
    } finally {
      viaProxy.destroy();
      await proxy.close();
    }
  });
});
