/**
 * verify-restore against the emulated RDS data plane (real PostgreSQL behind moto's endpoints):
 * the restore functions create the instances in moto, the data plane restores the base backups and
 * replays WAL, and verify-restore resolves each endpoint from DescribeDBInstances, logs in as the
 * read-only kb_verify role (the runbook's SQL, run on the protected instance before the backup; its
 * password in a Secrets Manager secret) over TLS verified against a CA, and stores its record.
 */
import { DescribeDBInstancesCommand, type RDSClient } from '@aws-sdk/client-rds';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { S3Client } from '@aws-sdk/client-s3';
import { createServer } from 'node:net';
import { readVerification } from '../../lambda/shared/verification-store';
import { putManifest } from '../../lambda/shared/manifest-store';
import { secretLogin } from '../../lambda/shared/verify-login';
import { verifyRoleSql } from '../../lambda/shared/verify-settings';
import { verifyRestore, type VerifyRestoreDeps } from '../../lambda/verify-restore/verify-restore';
import type { MotoServer } from '../../harness/moto';
import { withClient } from '../../harness/pg-cluster';
import { KB_SCHEMA_SQL, seedSql } from '../../harness/postgres';
import { startRdsDataPlane, type RdsDataPlane } from '../../harness/rds-data-plane';
import { makeTestCa, type TestCa } from '../../harness/test-tls';
import {
  KMS_KEY_ARN,
  applyEnv,
  clients,
  seedBackup,
  seedProtectedInstance,
  type Seeder,
} from '../support/moto-seed';
import { sharedMoto } from '../support/shared-services';

type Handler = (event: unknown) => Promise<Record<string, unknown>>;
const PROD = 'kb-prod-verify';
const BUCKET = 'kb-verify-restore-backups';
const SNAP = 'kb-snapshot-20261127-020000';
const SEEDED = 2000;
const CACHE_ROWS = SEEDED / 4; // seedSql adds one cache row per 4 entries
const VERIFY_PASSWORD = 'kb-verify-Secr3t!';

let moto: MotoServer;
let rds: RDSClient;
let s3: S3Client;
let sm: SecretsManagerClient;
let plane: RdsDataPlane;
let tls: TestCa;
let secretArn: string;
let wrongSecretArn: string;
const h: Record<'snapshot' | 'pitr', Handler> = {} as never;
const lines: string[] = [];
const settings = { mode: 'secret', database: 'knowledge_base' } as const;

function deps(over: Partial<VerifyRestoreDeps> = {}): VerifyRestoreDeps & { added: [string, number][] } {
  const added: [string, number][] = [];
  return {
    rds,
    s3,
    config: {
      dbInstanceId: PROD,
      backupBucket: BUCKET,
      kmsKeyArn: KMS_KEY_ARN,
      restorePrefix: 'kb-restore-',
      productionInstanceIds: [PROD],
    },
    settings: { ...settings, secretArn },
    login: secretLogin(sm, secretArn),
    // A loader, as the handler passes it (the RDS bundle loads on connect): a PASS over TLS proves
    // its certificates are the ones the connection trusts.
    ca: async () => tls.ca,
    resolveEndpoint: (address, port) => plane.resolve(address, port),
    metrics: { add: (def, value) => void added.push([def.name, value]) },
    connectTimeoutMs: 5000,
    added,
    ...over,
  };
}

/** The emulated cluster behind the moto instance `id`: restored, and its endpoint mapped. */
async function mapInstance(id: string): Promise<void> {
  const i = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0];
  plane.mapEndpoint(i?.Endpoint?.Address ?? '', i?.Endpoint?.Port ?? 5432, id);
}
const sqlOn = <T extends Record<string, unknown>>(id: string, text: string): Promise<T[]> => {
  const i = plane.instance(id);
  return withClient(i.port, i.password, i.database, async (c) => (await c.query<T>(text)).rows);
};

beforeAll(async () => {
  moto = await sharedMoto();
  applyEnv(moto, BUCKET, PROD);
  const c = clients(moto);
  ({ rds, s3 } = c);
  sm = new SecretsManagerClient({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  const seeder: Seeder = { rds, s3, bucket: BUCKET, prodId: PROD };
  await seedProtectedInstance(seeder);
  tls = makeTestCa(['*.aaaaaaaaaa.us-east-1.rds.amazonaws.com']);
  plane = await startRdsDataPlane({
    instanceId: PROD,
    log: (l) => lines.push(l),
    initSql: [
      KB_SCHEMA_SQL,
      seedSql(SEEDED),
      'CREATE ROLE rds_iam;', // exists on RDS
      verifyRoleSql(),
      `ALTER ROLE kb_verify PASSWORD '${VERIFY_PASSWORD}';`,
    ].join('\n'),
  });
  // TLS on the protected instance: every base backup, so every restore, carries it.
  const prod = plane.protectedInstance;
  for (const stmt of [...tls.enableSql, 'SELECT pg_reload_conf()'])
    await withClient(prod.port, prod.password, 'postgres', (cl) => cl.query(stmt));
  secretArn = String(
    (
      await sm.send(
        new CreateSecretCommand({
          Name: 'kb-verify',
          SecretString: JSON.stringify({ username: 'kb_verify', password: VERIFY_PASSWORD }),
        }),
      )
    ).ARN,
  );
  wrongSecretArn = String(
    (
      await sm.send(
        new CreateSecretCommand({
          Name: 'kb-verify-wrong',
          SecretString: JSON.stringify({ username: 'kb_verify', password: 'wrong' }),
        }),
      )
    ).ARN,
  );
  // The backup: a snapshot in moto with its manifest recording the counts, a base backup in the plane.
  const m = await seedBackup(seeder, SNAP);
  await putManifest(
    { s3, bucket: BUCKET, kmsKeyArn: KMS_KEY_ARN },
    {
      ...m,
      tableRowCounts: { knowledge_entries: SEEDED, embedding_cache: CACHE_ROWS, source: 'parquet-footers' },
    },
  );
  await plane.snapshot(SNAP);
  h.snapshot = (await import('../../lambda/restore-snapshot')).handler as unknown as Handler;
  h.pitr = (await import('../../lambda/restore-pitr')).handler as unknown as Handler;
}, 180_000);

afterAll(async () => {
  await plane?.stopAll();
  tls?.remove();
  await moto?.stop();
});

describe('verify-restore on the emulated data plane', () => {
  it('a snapshot restore PASSES with the counts the backup recorded, and the record says so', async () => {
    const res = await h.snapshot({
      snapshotId: SNAP,
      targetInstanceId: 'kb-restore-verify-snap',
      confirm: true,
    });
    expect(res).toMatchObject({ ok: true, action: 'started' });
    await plane.restoreSnapshot(SNAP, 'kb-restore-verify-snap');
    await mapInstance('kb-restore-verify-snap');
    const d = deps();
    const r = await verifyRestore(d, { targetInstanceId: 'kb-restore-verify-snap' });
    expect(r.report).toContain(
      `PASS counts match the backup record: knowledge_entries 2,000 (recorded 2,000); embedding_cache 500 (recorded 500): as recorded in backup ${SNAP}`,
    );
    expect(r.report[0]).toMatch(
      /^PASS database accessible: connected to database knowledge_base .* over TLS \(TLSv1\.[23]\)$/,
    );
    expect(r.outcome).toBe('PASS');
    expect(r.summary).toMatch(
      /^verified: 2,000 entries, as recorded at backup; newest entry \d{2}:\d{2}:\d{2}Z$/,
    );
    expect(d.added).toEqual([['RestoreVerification', 1]]);
    const stored = await readVerification({ s3, bucket: BUCKET }, 'kb-restore-verify-snap');
    expect(stored).toMatchObject({
      kind: 'record',
      record: { outcome: 'PASS', entries: { knowledge_entries: 2000, embedding_cache: 500 } },
    });
    // A second run returns the stored result: no connection, no second metric.
    const again = deps({ login: () => Promise.reject(new Error('must not log in')) });
    expect(await verifyRestore(again, { targetInstanceId: 'kb-restore-verify-snap' })).toMatchObject({
      outcome: 'PASS',
      fromStore: true,
    });
    expect(again.added).toEqual([]);
  }, 120_000);

  it('a point-in-time restore to T1 has exactly the entries committed by T1 and none after', async () => {
    const prod = plane.protectedInstance;
    const onProd = (text: string) =>
      withClient(prod.port, prod.password, prod.database, (cl) => cl.query(text));
    await onProd(
      `INSERT INTO knowledge_entries (title, body) SELECT 'Batch A ' || g, 'before T1' FROM generate_series(1, 100) g`,
    );
    const t1 = new Date(Date.now() + 50);
    await new Promise((r) => setTimeout(r, 120));
    await onProd(
      `INSERT INTO knowledge_entries (title, body) SELECT 'Batch B ' || g, 'after T1' FROM generate_series(1, 100) g`,
    );
    const res = await h.pitr({
      targetTime: t1.toISOString(),
      targetInstanceId: 'kb-restore-verify-t1',
      confirm: true,
    });
    expect(res).toMatchObject({ ok: true, action: 'started' });
    await plane.restoreToPointInTime(t1, 'kb-restore-verify-t1');
    await mapInstance('kb-restore-verify-t1');
    const d = deps();
    const r = await verifyRestore(d, {
      targetInstanceId: 'kb-restore-verify-t1',
      expectedEntries: SEEDED + 100,
    });
    expect(r.outcome).toBe('PASS');
    expect(r.report).toContain(
      'PASS entry count matches the expected count: knowledge_entries 2,100, expected 2,100',
    );
    expect(r.report.find((l) => l.includes('no entry newer than the target time'))).toMatch(
      new RegExp(
        `^PASS no entry newer than the target time: target ${t1.toISOString()}: no entry created or updated after it`,
      ),
    );
    expect(r.report.at(-1)).toMatch(
      /^SKIP nearest earlier backup: for reference, not compared .*kb-snapshot-20261127-020000 recorded knowledge_entries 2,000.*restored knowledge_entries 2,100 \(\+100\)$/,
    );
    const batches = await sqlOn<{ body: string; n: string }>(
      'kb-restore-verify-t1',
      "SELECT body, count(*) AS n FROM knowledge_entries WHERE title LIKE 'Batch%' GROUP BY body",
    );
    expect(batches).toEqual([{ body: 'before T1', n: '100' }]);
    expect(d.added).toEqual([['RestoreVerification', 1]]);
  }, 180_000);

  it('a damaged restore (a table dropped before verification) FAILS with the figures', async () => {
    await h.snapshot({ snapshotId: SNAP, targetInstanceId: 'kb-restore-verify-damaged', confirm: true });
    await plane.restoreSnapshot(SNAP, 'kb-restore-verify-damaged');
    await mapInstance('kb-restore-verify-damaged');
    await sqlOn('kb-restore-verify-damaged', 'DROP TABLE embedding_cache');
    const d = deps();
    const r = await verifyRestore(d, { targetInstanceId: 'kb-restore-verify-damaged' });
    expect(r.outcome).toBe('FAIL');
    expect(r.report).toContain(
      'FAIL Knowledge Base tables present: missing public.embedding_cache: this database does not hold the Knowledge Base (wrong database, or a damaged restore)',
    );
    expect(r.report).toContain(
      `FAIL counts match the backup record: knowledge_entries 2,000 (recorded 2,000); embedding_cache missing (recorded 500): differs from backup ${SNAP}`,
    );
    expect(r.summary).toMatch(
      /^verification FAILED: Knowledge Base tables present: missing public\.embedding_cache/,
    );
    expect(d.added).toEqual([['RestoreVerification', 0]]);
  }, 120_000);

  describe('never PASS when it could not connect', () => {
    const id = 'kb-restore-verify-snap';
    it('authentication failure (a wrong password in the secret)', async () => {
      const r = await verifyRestore(deps({ login: secretLogin(sm, wrongSecretArn) }), {
        targetInstanceId: id,
        reverify: true,
      });
      expect(r.outcome).toBe('FAIL');
      expect(r.report[0]).toMatch(
        /^FAIL database accessible: authentication failed for .* \(28P01 invalid password\)/,
      );
    });

    it('TLS failure (the server certificate does not chain to the trusted CA)', async () => {
      const r = await verifyRestore(deps({ ca: tls.otherCa }), { targetInstanceId: id, reverify: true });
      expect(r.outcome).toBe('FAIL');
      expect(r.report[0]).toMatch(
        /^FAIL database accessible: TLS failure with .*could not be verified against the configured CA bundle/,
      );
    });

    it('connection refused (nothing listens behind the endpoint)', async () => {
      const srv = createServer();
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      const port = (srv.address() as { port: number }).port;
      await new Promise((r) => srv.close(r));
      const d = deps({ resolveEndpoint: () => ({ host: '127.0.0.1', port }) });
      const r = await verifyRestore(d, { targetInstanceId: id, reverify: true });
      expect(r.outcome).toBe('FAIL');
      expect(r.report[0]).toMatch(
        /^FAIL database accessible: connection to 127\.0\.0\.1:\d+\/knowledge_base as kb_verify over TLS refused/,
      );
      expect(r.report.slice(1).every((l) => !l.startsWith('PASS'))).toBe(true);
      expect(d.added).toEqual([['RestoreVerification', 0]]);
      const stored = await readVerification({ s3, bucket: BUCKET }, id);
      expect(stored).toMatchObject({ kind: 'record', record: { outcome: 'FAIL' } });
    });
  });
});
