import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { createLocalBackup } from '../../../cli/local/backup';
import { formatValidationReport, validateBackup, type ValidationReport } from '../../../cli/local/validate';
import { silentLogger } from '../../../cli/shared/logger';
import { clock, connectionTo, corruptMiddleByte, tempDir, truncateToHalf } from '../../support/cli-fixtures';
import { createKbDatabase, type TestPostgres } from '../../../harness/postgres';
import { seededBackup, useSharedPostgres } from '../../support/local-cluster';

let pg: TestPostgres;
let goodBackup: string;

useSharedPostgres(async (started) => {
  pg = started;
  goodBackup = await seededBackup(pg, 'kb', 120, { label: 'good' });
});

/** A copy of the good backup and its checksum in a folder of its own. */
function copyOfGoodBackup(label: string): string {
  const file = join(tempDir(pg, label), basename(goodBackup));
  copyFileSync(goodBackup, file);
  copyFileSync(`${goodBackup}.sha256`, `${file}.sha256`);
  return file;
}

function failed(report: ValidationReport): string[] {
  return report.checks.filter((c) => !c.ok).map((c) => c.name);
}

describe('validateBackup', () => {
  it('passes every check on a good backup and reports its entry count', async () => {
    const file = copyOfGoodBackup('pass');

    const report = await validateBackup({ file, logger: silentLogger });

    expect(report.valid).toBe(true);
    expect(report.checks.map((c) => `${c.name}:${c.ok}`)).toEqual([
      'readable:true',
      'checksum:true',
      'gzip:true',
      'pg_dump:true',
      'content:true',
      'size:true',
    ]);
    expect(report.entryCount).toBe(120);
    expect(formatValidationReport(report)).toMatch(/^PASS {2}readable/m);
  });

  it('fails the checksum and gzip checks on a byte flipped with dd', async () => {
    const file = copyOfGoodBackup('flip');
    corruptMiddleByte(file);

    const report = await validateBackup({ file, logger: silentLogger });

    expect(report.valid).toBe(false);
    expect(failed(report)).toEqual(expect.arrayContaining(['checksum', 'gzip']));
    expect(report.checks.find((c) => c.name === 'readable')?.ok).toBe(true);
  });

  it('fails the checksum, gzip and pg_dump checks on a truncated file', async () => {
    const file = copyOfGoodBackup('trunc');
    truncateToHalf(file);

    const report = await validateBackup({ file, logger: silentLogger });

    expect(failed(report)).toEqual(['checksum', 'gzip', 'pg_dump', 'content']);
    expect(report.checks.find((c) => c.name === 'gzip')?.detail).toMatch(/damaged or cut off/);
  });

  it('fails only the checksum check when the .sha256 holds another digest', async () => {
    const file = copyOfGoodBackup('wrongsum');
    writeFileSync(`${file}.sha256`, `${'0'.repeat(64)}  ${basename(file)}\n`);

    const report = await validateBackup({ file, logger: silentLogger });

    expect(failed(report)).toEqual(['checksum']);
    expect(report.checks.find((c) => c.name === 'checksum')?.detail).toMatch(/does not match/);
  });

  it('fails when the .sha256 is missing and says how to regenerate it', async () => {
    const file = copyOfGoodBackup('nosum');
    rmSync(`${file}.sha256`);

    const report = await validateBackup({ file, logger: silentLogger });

    expect(failed(report)).toEqual(['checksum']);
    expect(report.checks.find((c) => c.name === 'checksum')?.detail).toContain(
      `sha256sum ${basename(file)} > ${basename(file)}.sha256`,
    );
  });

  it('fails when the .sha256 names another file', async () => {
    const file = copyOfGoodBackup('othername');
    const digest = readFileSync(`${file}.sha256`, 'utf8').split(' ')[0];
    writeFileSync(`${file}.sha256`, `${digest}  kb-backup-20200101-000000.sql.gz\n`);

    const report = await validateBackup({ file, logger: silentLogger });

    expect(failed(report)).toEqual(['checksum']);
  });

  it('fails the pg_dump check on a gzip file that is not a Knowledge Base dump', async () => {
    const file = join(tempDir(pg, 'notdump'), 'kb-backup-20261122-010000.sql.gz');
    const content = gzipSync('-- PostgreSQL database dump\nCREATE TABLE public.other (id int);\n');
    writeFileSync(file, content);
    writeFileSync(
      `${file}.sha256`,
      `${createHash('sha256').update(content).digest('hex')}  ${basename(file)}\n`,
    );

    const report = await validateBackup({ file, logger: silentLogger });

    expect(failed(report)).toEqual(['pg_dump', 'content']);
    expect(report.checks.find((c) => c.name === 'pg_dump')?.detail).toMatch(
      /trailer.*knowledge_entries missing/,
    );
  });

  it('fails the readable check on a missing file without reading anything else', async () => {
    const report = await validateBackup({ file: join(pg.dir, 'nope.sql.gz'), logger: silentLogger });

    expect(report.valid).toBe(false);
    expect(report.checks[0]).toMatchObject({ name: 'readable', ok: false });
    expect(report.sha256).toBeUndefined();
  });

  it('flags a backup much smaller than the previous ones, unless --allow-small', async () => {
    // Prepare: two backups of 120 entries, then one of an empty database, in the same folder.
    await createKbDatabase(pg, 'kb_empty', 0);
    const dir = tempDir(pg, 'small');
    const now = clock('2026-11-20T02:00:00Z', '2026-11-21T02:00:00Z', '2026-11-22T02:00:00Z');
    await createLocalBackup({ conn: connectionTo(pg, 'kb'), dir, logger: silentLogger, now });
    await createLocalBackup({ conn: connectionTo(pg, 'kb'), dir, logger: silentLogger, now });
    const small = await createLocalBackup({
      conn: connectionTo(pg, 'kb_empty'),
      dir,
      logger: silentLogger,
      now,
    });

    // Act
    const strict = await validateBackup({ file: small.path, logger: silentLogger });
    const lenient = await validateBackup({ file: small.path, logger: silentLogger, allowSmall: true });

    // Assess
    expect(failed(strict)).toEqual(['size']);
    expect(strict.checks.find((c) => c.name === 'size')?.detail).toMatch(/suspiciously small.*--allow-small/);
    expect(lenient.valid).toBe(true);
  });
});
