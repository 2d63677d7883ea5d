/**
 * A backup file is data, not a program: files that would reach beyond the scratch database are
 * refused before any database is touched, and a failed restore says what it checked.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '../../../core/errors';
import { createLocalBackup } from '../../../cli/local/backup';
import { PgCommandError } from '../../../cli/local/pg-errors';
import { restoreLocalBackup } from '../../../cli/local/restore';
import { validateBackup } from '../../../cli/local/validate';
import { silentLogger } from '../../../cli/shared/logger';
import { capturingLogger, connectionTo, tempDir } from '../../support/cli-fixtures';
import { beforeTrailer, readDumpSql, withoutRestrictGuard, writeDumpFile } from '../../support/dump-files';
import { createKbDatabase, entryCount, kbFingerprint, type TestPostgres } from '../../../harness/postgres';
import { useSharedPostgres } from '../../support/local-cluster';

let pg: TestPostgres;

useSharedPostgres((started) => {
  pg = started;
});

const yes = jest.fn(async () => true);
beforeEach(() => yes.mockClear());

async function backupSql(database: string): Promise<string> {
  const backup = await createLocalBackup({
    conn: connectionTo(pg, database),
    dir: tempDir(pg, `${database}-src`),
    logger: silentLogger,
    now: () => new Date('2026-11-22T01:00:00Z'),
  });
  return readDumpSql(backup.path);
}

/** Restore `file` over `database` and expect a refusal that changed nothing at all. */
async function expectRefusedUntouched(database: string, file: string, message: RegExp, trustedFile = false) {
  const before = await kbFingerprint(pg, database);
  const databasesBefore = await pg.databases();
  const attempt = restoreLocalBackup({
    conn: connectionTo(pg, database),
    file,
    logger: silentLogger,
    confirm: yes,
    trustedFile,
  });
  await expect(attempt).rejects.toBeInstanceOf(ValidationError);
  await expect(attempt).rejects.toThrow(message);
  expect(yes).not.toHaveBeenCalled();
  expect(await pg.databases()).toEqual(databasesBefore);
  expect(await kbFingerprint(pg, database)).toBe(before);
}

describe('restoreLocalBackup refuses files that are programs, before any database is touched', () => {
  it('refuses a pg_dump --create --clean file with its own message', async () => {
    // Prepare: a real --create --clean dump of the live database, made with pg_dump itself.
    await createKbDatabase(pg, 'kb_cc', 30);
    const sql = execFileSync('pg_dump', ['--create', '--clean', '-d', 'kb_cc'], {
      env: {
        ...process.env,
        PGHOST: pg.host,
        PGPORT: String(pg.port),
        PGUSER: pg.user,
        PGPASSWORD: pg.password,
      },
      encoding: 'utf8',
    });
    const file = writeDumpFile(tempDir(pg, 'cc'), sql);
    await pg.sql(
      'kb_cc',
      "INSERT INTO knowledge_entries (title, body) VALUES ('written after the dump', 'x')",
    );

    // Act + Assess: the live database keeps the row written after the dump.
    await expectRefusedUntouched(
      'kb_cc',
      file,
      /content: this is a `pg_dump --create` \(or --clean\) dump: it drops, creates or reconnects to a database by name \(line \d+: DROP DATABASE.*re-dump without --create\/--clean/,
    );
    expect(await entryCount(pg, 'kb_cc')).toBe(31);
  });

  it('refuses a file that drops the live database WITH (FORCE), and validate calls it INVALID', async () => {
    await createKbDatabase(pg, 'kb_force', 20);
    const file = writeDumpFile(
      tempDir(pg, 'force'),
      beforeTrailer(await backupSql('kb_force'), 'DROP DATABASE kb_force WITH (FORCE);'),
    );

    const report = await validateBackup({ file, logger: silentLogger });

    expect(report.valid).toBe(false);
    expect(report.checks.find((c) => c.name === 'content')).toMatchObject({ ok: false });
    await expectRefusedUntouched('kb_force', file, /DROP DATABASE/);
  });

  it('never runs a shell command from the file, with or without its \\restrict guard, trusted or not', async () => {
    await createKbDatabase(pg, 'kb_shell', 10);
    const marker = join(pg.dir, 'pwned');
    const sql = beforeTrailer(await backupSql('kb_shell'), `\\! touch ${marker}`);
    const dir = tempDir(pg, 'shell');
    const guarded = writeDumpFile(dir, sql, 'kb-backup-20261122-020000.sql.gz');
    const unguarded = writeDumpFile(dir, withoutRestrictGuard(sql), 'kb-backup-20261122-030000.sql.gz');

    await expectRefusedUntouched('kb_shell', guarded, /the psql meta-command `\\! touch/);
    await expectRefusedUntouched('kb_shell', unguarded, /the psql meta-command `\\! touch/);
    await expectRefusedUntouched('kb_shell', unguarded, /the psql meta-command `\\! touch/, true);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses COPY ... TO PROGRAM even for a superuser', async () => {
    await createKbDatabase(pg, 'kb_prog', 10);
    const marker = join(pg.dir, 'copy-program');
    const file = writeDumpFile(
      tempDir(pg, 'prog'),
      beforeTrailer(
        await backupSql('kb_prog'),
        `COPY public.knowledge_entries TO PROGRAM 'touch ${marker}';`,
      ),
    );

    await expectRefusedUntouched('kb_prog', file, /COPY \.\.\. PROGRAM runs a program/);
    expect(existsSync(marker)).toBe(false);
  });

  it.each([
    ['ALTER SYSTEM', "ALTER SYSTEM SET work_mem = '1MB';", /ALTER SYSTEM/],
    [
      'a role statement',
      "CREATE ROLE eve LOGIN SUPERUSER PASSWORD 'x';",
      /CREATE ROLE: roles belong to the server/,
    ],
    ['SET ROLE', 'SET ROLE postgres;', /SET ROLE changes who runs/],
    ['\\connect', '\\connect postgres', /`\\connect postgres` connects to another database/],
  ])('refuses %s', async (_what, statement, message) => {
    const db = `kb_r${Math.random().toString(36).slice(2, 8)}`;
    await createKbDatabase(pg, db, 5);
    const file = writeDumpFile(tempDir(pg, db), beforeTrailer(await backupSql(db), statement));

    await expectRefusedUntouched(db, file, message);
    expect(await pg.sql('postgres', "SELECT count(*) FROM pg_roles WHERE rolname = 'eve'")).toBe('0');
  });

  it('refuses a file without the \\restrict guard unless --trusted-file, and then loads it', async () => {
    await createKbDatabase(pg, 'kb_guard', 12);
    const atBackup = await kbFingerprint(pg, 'kb_guard');
    const file = writeDumpFile(tempDir(pg, 'guard'), withoutRestrictGuard(await backupSql('kb_guard')));
    await pg.sql('kb_guard', 'DELETE FROM knowledge_entries WHERE id > 6');

    await expectRefusedUntouched('kb_guard', file, /no `\\restrict` line.*--trusted-file/);
    const result = await restoreLocalBackup({
      conn: connectionTo(pg, 'kb_guard'),
      file,
      logger: silentLogger,
      confirm: yes,
      trustedFile: true,
    });

    expect(result.entriesRestored).toBe(12);
    expect(await kbFingerprint(pg, 'kb_guard')).toBe(atBackup);
  });

  it('restores entries whose text reads like SQL and psql commands: data is data', async () => {
    await createKbDatabase(pg, 'kb_text', 3);
    await pg.sql(
      'kb_text',
      `INSERT INTO knowledge_entries (title, body) VALUES
        ('DROP DATABASE kb_text;', E'\\\\! touch /tmp/x\\nDROP DATABASE kb_text WITH (FORCE);\\n\\\\connect postgres'),
        ('COPY x TO PROGRAM', 'ALTER SYSTEM SET a = 1; CREATE ROLE eve;');
       COMMENT ON TABLE knowledge_entries IS E'notes\\nCOPY public.knowledge_entries (id) FROM stdin;\\nDROP DATABASE kb_text;';`,
    );
    const atBackup = await kbFingerprint(pg, 'kb_text');
    const backup = await createLocalBackup({
      conn: connectionTo(pg, 'kb_text'),
      dir: tempDir(pg, 'text'),
      logger: silentLogger,
    });
    await pg.sql('kb_text', 'TRUNCATE knowledge_entries');

    const result = await restoreLocalBackup({
      conn: connectionTo(pg, 'kb_text'),
      file: backup.path,
      logger: silentLogger,
      confirm: yes,
    });

    expect(result.entriesRestored).toBe(5);
    expect(await kbFingerprint(pg, 'kb_text')).toBe(atBackup);
  });
});

describe('restoreLocalBackup after a failure says what it checked on the live database', () => {
  it('reports the live database as checked, with its entry count, never "untouched" unchecked', async () => {
    // Prepare: a file that passes validation but fails in the middle of the load.
    await createKbDatabase(pg, 'kb_after', 40);
    const sql = (await backupSql('kb_after')).replace(
      /(COPY public\.knowledge_entries [^\n]*FROM stdin;\n)/,
      '$1not-a-number\tx\tx\t{}\t\\N\t2026-01-01\t2026-01-01\t\\N\n',
    );
    const file = writeDumpFile(tempDir(pg, 'after'), sql);
    const { logger, text } = capturingLogger();
    const before = await kbFingerprint(pg, 'kb_after');

    // Act
    const attempt = restoreLocalBackup({ conn: connectionTo(pg, 'kb_after'), file, logger, confirm: yes });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(PgCommandError);
    await expect(attempt).rejects.toThrow(/invalid input syntax/);
    const err: unknown = await attempt.catch((e: unknown) => e);
    expect((err as PgCommandError).userMessage).toContain(
      'checked: kb_after is as before the restore (40 entries)',
    );
    expect(text()).not.toContain('untouched');
    expect(text()).toContain('checked: kb_after is as before the restore (40 entries)');
    expect(await kbFingerprint(pg, 'kb_after')).toBe(before);
    expect((await pg.databases()).filter((d) => d.startsWith('kb_after_'))).toEqual([]);
  });
});
