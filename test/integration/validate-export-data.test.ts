/**
 * validate-backup's data-level checks on real exports: Parquet written from a real PostgreSQL by
 * harness/rds-export.ts into moto S3, then damaged the ways a hostile tester would (truncated file,
 * a non-Parquet object named .parquet, a count that no longer matches, a table missing).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { BackupManifest } from '../../core/manifest';
import { exportObjectsPrefix, exportTaskIdFor } from '../../core/naming';
import { putManifest } from '../../lambda/shared/manifest-store';
import { CHECKS } from '../../lambda/validate-backup/validate-backup';
import type { MotoServer } from '../../harness/moto';
import { createKbDatabase, type TestPostgres } from '../../harness/postgres';
import { putNotParquet, truncateObject, writeRealExport } from '../support/export-fixtures';
import {
  applyEnv,
  clients,
  KMS_KEY_ARN,
  seedBackup,
  seedProtectedInstance,
  type Seeder,
} from '../support/moto-seed';
import { sharedMoto, sharedPostgres } from '../support/shared-services';

interface Report {
  ok: boolean;
  result: 'PASS' | 'FAIL';
  report: string[];
  checks: { check: string; status: string; detail: string }[];
}
type Handler = (event: unknown) => Promise<Report>;

const PROD = 'kb-prod-vdata';
const BUCKET = 'kb-validate-data';
let moto: MotoServer;
let pg: TestPostgres;
let seeder: Seeder;
let s3: S3Client;
let validate: Handler;
let day = 0;

beforeAll(async () => {
  [moto, pg] = await Promise.all([sharedMoto(), sharedPostgres()]);
  applyEnv(moto, BUCKET, PROD);
  seeder = { ...clients(moto), bucket: BUCKET, prodId: PROD };
  s3 = seeder.s3;
  await seedProtectedInstance(seeder);
  await createKbDatabase(pg, 'kb', 300);
  validate = (await import('../../lambda/validate-backup')).handler as unknown as Handler;
}, 120_000);

afterAll(async () => {
  await Promise.all([moto?.stop(), pg?.stop()]);
});

/** A backup whose export is real Parquet of the `kb` database, recorded with `counts`. */
async function backupWithRealExport(
  counts: BackupManifest['tableRowCounts'] | null,
  options: { tables?: string[]; warning?: string } = {},
): Promise<{ snapshotId: string; keys: readonly string[] }> {
  day += 1;
  const snapshotId = `kb-snapshot-202611${String(day).padStart(2, '0')}-020000`;
  const manifest = await seedBackup(seeder, snapshotId, { objectSizes: [], tables: null });
  const written = await writeRealExport(pg, 'kb', s3, BUCKET, exportTaskIdFor(snapshotId), options.tables);
  await putManifest(
    { s3, bucket: BUCKET, kmsKeyArn: KMS_KEY_ARN },
    {
      ...manifest,
      ...(counts ? { tableRowCounts: counts } : {}),
      ...(options.warning ? { tableRowCountsWarning: options.warning } : {}),
    },
  );
  return { snapshotId, keys: written.tables.map((t) => t.key) };
}

const RECORDED = { knowledge_entries: 300, embedding_cache: 75, source: 'parquet-footers' as const };
const line = (res: Report, check: string) => res.checks.find((c) => c.check === check);

describe('validate-backup data checks on real Parquet exports (moto S3, real PostgreSQL)', () => {
  it('passes both when every footer parses and the counts equal the manifest', async () => {
    const { snapshotId } = await backupWithRealExport(RECORDED);
    const res = await validate({ snapshotId });
    expect(line(res, CHECKS.parquetReadable)).toMatchObject({
      status: 'PASS',
      detail: '2 Parquet file(s) of 2 table(s); every footer parses (ranged reads only)',
    });
    expect(line(res, CHECKS.rowCounts)).toMatchObject({
      status: 'PASS',
      detail: 'knowledge_entries 300, embedding_cache 75, as recorded when the export completed',
    });
    expect(res.result).toBe('PASS');
    expect(res.report).toContain(
      'PASS Parquet row counts match the manifest: knowledge_entries 300, embedding_cache 75, as recorded when the export completed',
    );
  });

  it('fails a truncated Parquet file, naming it, and does not PASS the counts it could not read', async () => {
    const { snapshotId, keys } = await backupWithRealExport(RECORDED);
    await truncateObject(s3, BUCKET, keys[0]!);
    const res = await validate({ snapshotId });
    expect(line(res, CHECKS.parquetReadable)?.status).toBe('FAIL');
    expect(line(res, CHECKS.parquetReadable)?.detail).toContain(
      `1 of 2 Parquet file(s) unreadable, e.g. ${keys[0]}`,
    );
    expect(line(res, CHECKS.rowCounts)?.status).toBe('SKIP');
    expect(res.result).toBe('FAIL');
  });

  it("fails a non-Parquet object named .parquet in another table's folder (every table's files are read)", async () => {
    const { snapshotId } = await backupWithRealExport(RECORDED);
    const bogus = `${exportObjectsPrefix(exportTaskIdFor(snapshotId))}kb/public.audit_log/1/part-00000-z.gz.parquet`;
    await putNotParquet(s3, BUCKET, bogus);
    const res = await validate({ snapshotId });
    expect(line(res, CHECKS.parquetReadable)).toMatchObject({ status: 'FAIL' });
    expect(line(res, CHECKS.parquetReadable)?.detail).toContain(bogus);
    // The Knowledge Base tables themselves still match.
    expect(line(res, CHECKS.rowCounts)?.status).toBe('PASS');
    expect(res.result).toBe('FAIL');
  });

  it('fails when the export holds another count than the manifest recorded', async () => {
    const { snapshotId } = await backupWithRealExport({ ...RECORDED, knowledge_entries: 301 });
    const res = await validate({ snapshotId });
    expect(line(res, CHECKS.rowCounts)).toEqual({
      check: CHECKS.rowCounts,
      status: 'FAIL',
      detail:
        'knowledge_entries: 300 rows in 1 Parquet file(s) of the export, 301 recorded: the export changed since the backup',
    });
    expect(line(res, CHECKS.parquetReadable)?.status).toBe('PASS');
    expect(res.result).toBe('FAIL');
  });

  it('fails when a Knowledge Base table the manifest counted is missing from the export', async () => {
    const { snapshotId } = await backupWithRealExport(RECORDED, { tables: ['public.knowledge_entries'] });
    const res = await validate({ snapshotId });
    expect(line(res, CHECKS.rowCounts)?.status).toBe('FAIL');
    expect(line(res, CHECKS.rowCounts)?.detail).toMatch(
      /^embedding_cache: public\.embedding_cache is not in the export .*, 75 rows recorded/,
    );
    expect(res.result).toBe('FAIL');
  });

  it('fails a backup whose export could not be counted when it was recorded (the warning is shown)', async () => {
    const warning = 'row counts not recorded: public.embedding_cache absent: not in the export';
    const { snapshotId } = await backupWithRealExport(null, { warning });
    const res = await validate({ snapshotId });
    expect(line(res, CHECKS.rowCounts)).toMatchObject({
      status: 'FAIL',
      detail: `the backup recorded no row counts when its export completed: ${warning}`,
    });
    expect(res.result).toBe('FAIL');
  });

  it('never reads a whole Parquet object: the footers come from ranged GETs', async () => {
    const { snapshotId } = await backupWithRealExport(RECORDED);
    const ranged: string[] = [];
    const whole: string[] = [];
    const s3Mod = await import('@aws-sdk/client-s3');
    const send = s3Mod.S3Client.prototype.send;
    const sendSpy = jest.spyOn(s3Mod.S3Client.prototype, 'send').mockImplementation(function (
      this: S3Client,
      command: unknown,
      ...rest: unknown[]
    ) {
      if (command instanceof s3Mod.GetObjectCommand) {
        const input = command.input;
        if ((input.Key ?? '').endsWith('.parquet')) (input.Range ? ranged : whole).push(input.Key ?? '');
      }
      return (send as (...a: unknown[]) => Promise<unknown>).call(this, command, ...rest) as never;
    });
    try {
      await validate({ snapshotId });
    } finally {
      sendSpy.mockRestore();
    }
    expect(ranged.length).toBeGreaterThanOrEqual(2);
    expect(whole).toEqual([]);
  });
});
