/** The real validate-backup handler against moto_server, with export objects written where RDS would. */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { exportTaskIdFor } from '../../core/naming';
import { CHECKS } from '../../lambda/validate-backup/validate-backup';
import type { MotoServer } from '../../harness/moto';
import { sharedMoto } from '../support/shared-services';
import {
  applyEnv,
  clients,
  exportKey,
  seedBackup,
  seedProtectedInstance,
  type Seeder,
} from '../support/moto-seed';

interface Report {
  ok: boolean;
  result: 'PASS' | 'FAIL';
  snapshotId: string;
  report: string[];
  checks: { check: string; status: string; detail: string }[];
}
type Handler = (event: unknown) => Promise<Report>;

const PROD = 'kb-prod-validate';
const BUCKET = 'kb-validate-backups';
let moto: MotoServer;
let seeder: Seeder;
let validate: Handler;

function statusOf(r: Report, check: string): string | undefined {
  return r.checks.find((c) => c.check === check)?.status;
}

beforeAll(async () => {
  moto = await sharedMoto();
  applyEnv(moto, BUCKET, PROD);
  seeder = { ...clients(moto), bucket: BUCKET, prodId: PROD };
  await seedProtectedInstance(seeder);
  // A week of normal-sized history (10 000 bytes each) before every backup the tests check.
  for (let day = 1; day <= 7; day++)
    await seedBackup(seeder, `kb-snapshot-202610${String(day).padStart(2, '0')}-020000`);
  validate = (await import('../../lambda/validate-backup')).handler as unknown as Handler;
});

afterAll(async () => {
  await moto?.stop();
});

describe('validate-backup against moto', () => {
  it('passes a good backup, one PASS line per check; a manifest without row counts SKIPs the data checks', async () => {
    await seedBackup(seeder, 'kb-snapshot-20261110-020000');
    const res = await validate({ snapshotId: 'kb-snapshot-20261110-020000' });
    expect(res.result).toBe('PASS');
    expect(res.ok).toBe(true);
    const dataChecks: string[] = [CHECKS.parquetReadable, CHECKS.rowCounts];
    expect(res.report.map((l) => l.slice(0, l.indexOf(': ')))).toEqual(
      Object.values(CHECKS).map((c) => `${dataChecks.includes(c) ? 'SKIP' : 'PASS'} ${c}`),
    );
  });

  it('fails when an exported object was deleted', async () => {
    await seedBackup(seeder, 'kb-snapshot-20261111-020000');
    await seeder.s3.send(
      new DeleteObjectCommand({
        Bucket: BUCKET,
        Key: exportKey(exportTaskIdFor('kb-snapshot-20261111-020000'), 1),
      }),
    );
    const res = await validate({ snapshotId: 'kb-snapshot-20261111-020000' });
    expect(res).toMatchObject({ ok: false, result: 'FAIL' });
    expect(statusOf(res, CHECKS.objects)).toBe('FAIL');
    expect(res.report.filter((l) => l.startsWith('FAIL'))).toEqual([
      // 6000 bytes of Parquet left, plus the export_tables_info file.
      expect.stringMatching(/total 6\d{3} bytes but the manifest recorded 10000: objects are missing/),
    ]);
  });

  it('fails a backup under half the median size of the last 7', async () => {
    await seedBackup(seeder, 'kb-snapshot-20261112-020000', { objectSizes: [300, 200] });
    const res = await validate({ snapshotId: 'kb-snapshot-20261112-020000' });
    expect(res.result).toBe('FAIL');
    expect(res.report.filter((l) => l.startsWith('FAIL'))).toEqual([
      `FAIL ${CHECKS.size}: 500 bytes is under half the median (10000 bytes) of the last 7 backups`,
    ]);
  });

  it('fails a backup whose export skipped embedding_cache, reading the export_tables_info RDS wrote', async () => {
    await seedBackup(seeder, 'kb-snapshot-20261113-020000', {
      tables: [
        { target: 'kb.public.knowledge_entries', status: 'COMPLETE' },
        { target: 'kb.public.embedding_cache', status: 'SKIPPED', warningMessage: 'permission denied' },
      ],
    });
    const res = await validate({ snapshotId: 'kb-snapshot-20261113-020000' });
    expect(res.report.filter((l) => l.startsWith('FAIL'))).toEqual([
      `FAIL ${CHECKS.tables}: kb.public.embedding_cache was skipped (status SKIPPED: permission denied): this export is not a usable copy of the Knowledge Base`,
    ]);
  });

  it('fails a backup whose export_tables_info is missing', async () => {
    await seedBackup(seeder, 'kb-snapshot-20261114-020000', { tables: null });
    const res = await validate({ snapshotId: 'kb-snapshot-20261114-020000' });
    expect(statusOf(res, CHECKS.tables)).toBe('FAIL');
    expect(res.result).toBe('FAIL');
  });

  it('validates "latest" (the weekly scheduled event) as the newest successful backup', async () => {
    await seedBackup(seeder, 'kb-snapshot-20991201-020000');
    const res = await validate({ snapshotId: 'latest' });
    expect(res).toMatchObject({ result: 'PASS', snapshotId: 'kb-snapshot-20991201-020000' });
  });

  it('fails an unknown but well-formed snapshot id without throwing', async () => {
    const res = await validate({ snapshotId: 'kb-snapshot-20200101-000000' });
    expect(res.result).toBe('FAIL');
    expect(res.report[0]).toBe(
      `FAIL ${CHECKS.available}: snapshot kb-snapshot-20200101-000000 not found in RDS`,
    );
  });
});
