import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GuardRailError, NotFoundError, ValidationError } from '../../../core/errors';
import { createLocalBackup } from '../../../cli/local/backup';
import { PgCommandError } from '../../../cli/local/pg-errors';
import { restoreLocalBackup, rollbackLocalRestore } from '../../../cli/local/restore';
import { silentLogger } from '../../../cli/shared/logger';
import { clock, connectionTo, corruptMiddleByte, tempDir } from '../../support/cli-fixtures';
import {
  createKbDatabase,
  entryCount,
  kbFingerprint,
  seedSql,
  type TestPostgres,
} from '../../../harness/postgres';
import { useSharedPostgres } from '../../support/local-cluster';

let pg: TestPostgres;

useSharedPostgres((started) => {
  pg = started;
});

const yes = jest.fn(async () => true);
beforeEach(() => yes.mockClear());

async function backupOf(database: string, dir: string, at: string) {
  return createLocalBackup({
    conn: connectionTo(pg, database),
    dir,
    logger: silentLogger,
    now: () => new Date(at),
  });
}

async function databasesLike(prefix: string): Promise<string[]> {
  return (await pg.databases()).filter((d) => d.startsWith(prefix));
}

describe('restoreLocalBackup', () => {
  it('restores every row and column, keeps the previous database and matches counts and sample rows', async () => {
    // Prepare
    await createKbDatabase(pg, 'kb_full', 120);
    const atBackup = await kbFingerprint(pg, 'kb_full');
    const sampleSql =
      'SELECT id, title, body, tags, created_at, embedding FROM knowledge_entries WHERE id IN (1, 60, 120) ORDER BY id';
    const sampleAtBackup = await pg.sql('kb_full', sampleSql);
    const backup = await backupOf('kb_full', tempDir(pg, 'full'), '2026-11-22T01:00:00Z');
    await pg.sql(
      'kb_full',
      'DELETE FROM knowledge_entries WHERE id > 100; UPDATE knowledge_entries SET title = $$edited$$',
    );
    const beforeRestore = await kbFingerprint(pg, 'kb_full');

    // Act
    const result = await restoreLocalBackup({
      conn: connectionTo(pg, 'kb_full'),
      file: backup.path,
      logger: silentLogger,
      confirm: yes,
      now: () => new Date('2026-11-22T03:04:05.678Z'),
    });

    // Assess
    expect(result).toMatchObject({ database: 'kb_full', entriesRestored: 120, embeddingCacheRestored: 30 });
    expect(result.previousDatabase).toBe('kb_full_pre_restore_20261122_030405_678');
    expect(await kbFingerprint(pg, 'kb_full')).toBe(atBackup);
    expect(await pg.sql('kb_full', sampleSql)).toBe(sampleAtBackup);
    expect(await kbFingerprint(pg, 'kb_full_pre_restore_20261122_030405_678')).toBe(beforeRestore);
    expect(await databasesLike('kb_full_restoring')).toEqual([]);
    expect(yes).toHaveBeenCalledTimes(1);
    expect(yes.mock.calls[0]).toEqual([
      expect.stringContaining('kept as kb_full_pre_restore_20261122_030405_678'),
    ]);
  });

  it('restores 10,000 entries', async () => {
    await createKbDatabase(pg, 'kb_big', 10_000);
    const atBackup = await kbFingerprint(pg, 'kb_big');
    const backup = await backupOf('kb_big', tempDir(pg, 'big'), '2026-11-22T01:00:00Z');
    await pg.sql('kb_big', 'TRUNCATE knowledge_entries');

    const result = await restoreLocalBackup({
      conn: connectionTo(pg, 'kb_big'),
      file: backup.path,
      logger: silentLogger,
      confirm: yes,
    });

    expect(result.entriesRestored).toBe(10_000);
    expect(await kbFingerprint(pg, 'kb_big')).toBe(atBackup);
  });

  it('restores after the disaster it exists for: the entries table dropped from the live database', async () => {
    // Prepare
    await createKbDatabase(pg, 'kb_dropped', 40);
    const atBackup = await kbFingerprint(pg, 'kb_dropped');
    const backup = await backupOf('kb_dropped', tempDir(pg, 'dropped'), '2026-11-22T01:00:00Z');
    await pg.sql('kb_dropped', 'DROP TABLE knowledge_entries CASCADE');
    // Act
    const result = await restoreLocalBackup({
      conn: connectionTo(pg, 'kb_dropped'),
      file: backup.path,
      logger: silentLogger,
      confirm: yes,
    });
    // Assess
    expect(yes).toHaveBeenCalledWith(expect.stringContaining('no knowledge_entries table'));
    expect(result.entriesRestored).toBe(40);
    expect(await kbFingerprint(pg, 'kb_dropped')).toBe(atBackup);
  });

  it('restores T1, then T2, then T1 again, each time exactly', async () => {
    // Prepare: T1 = 100 entries, T2 = 100 more.
    await createKbDatabase(pg, 'kb_t', 100);
    const dir = tempDir(pg, 't');
    const t1 = await backupOf('kb_t', dir, '2026-11-21T02:00:00Z');
    const fingerprintT1 = await kbFingerprint(pg, 'kb_t');
    await pg.sql('kb_t', seedSql(100, { from: 101 }));
    const t2 = await backupOf('kb_t', dir, '2026-11-22T02:00:00Z');
    const fingerprintT2 = await kbFingerprint(pg, 'kb_t');
    const conn = connectionTo(pg, 'kb_t');
    const now = clock('2026-11-22T10:00:00.001Z', '2026-11-22T10:00:00.002Z', '2026-11-22T10:00:00.003Z');

    // Act + Assess
    await restoreLocalBackup({ conn, file: t1.path, logger: silentLogger, confirm: yes, now });
    expect(await kbFingerprint(pg, 'kb_t')).toBe(fingerprintT1);
    await restoreLocalBackup({ conn, file: t2.path, logger: silentLogger, confirm: yes, now });
    expect(await kbFingerprint(pg, 'kb_t')).toBe(fingerprintT2);
    await restoreLocalBackup({ conn, file: t1.path, logger: silentLogger, confirm: yes, now });
    expect(await kbFingerprint(pg, 'kb_t')).toBe(fingerprintT1);
    expect(await entryCount(pg, 'kb_t')).toBe(100);
    expect(await databasesLike('kb_t_pre_restore_')).toHaveLength(3);
  });

  it('refuses a corrupt file before asking or touching any database', async () => {
    // Prepare
    await createKbDatabase(pg, 'kb_corrupt', 50);
    const backup = await backupOf('kb_corrupt', tempDir(pg, 'corrupt'), '2026-11-22T01:00:00Z');
    corruptMiddleByte(backup.path);
    await pg.sql('kb_corrupt', 'DELETE FROM knowledge_entries WHERE id <= 10');
    const before = await kbFingerprint(pg, 'kb_corrupt');
    const databasesBefore = await pg.databases();

    // Act
    const attempt = restoreLocalBackup({
      conn: connectionTo(pg, 'kb_corrupt'),
      file: backup.path,
      logger: silentLogger,
      confirm: yes,
    });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await expect(attempt).rejects.toThrow(/refusing to restore .*checksum/);
    expect(yes).not.toHaveBeenCalled();
    expect(await kbFingerprint(pg, 'kb_corrupt')).toBe(before);
    expect(await pg.databases()).toEqual(databasesBefore);
  });

  it('changes nothing when the operator does not confirm', async () => {
    await createKbDatabase(pg, 'kb_no', 30);
    const backup = await backupOf('kb_no', tempDir(pg, 'no'), '2026-11-22T01:00:00Z');
    const databasesBefore = await pg.databases();

    const attempt = restoreLocalBackup({
      conn: connectionTo(pg, 'kb_no'),
      file: backup.path,
      logger: silentLogger,
      confirm: async () => false,
    });

    await expect(attempt).rejects.toBeInstanceOf(GuardRailError);
    expect(await pg.databases()).toEqual(databasesBefore);
  });

  it('leaves the original database serving and drops the new one when loading fails', async () => {
    // Prepare: a file that passes validation but fails half-way through the load.
    await createKbDatabase(pg, 'kb_fail', 40);
    const good = await backupOf('kb_fail', tempDir(pg, 'fail'), '2026-11-22T01:00:00Z');
    const sql = gunzipSync(readFileSync(good.path))
      .toString('utf8')
      .replace(
        /(COPY public\.knowledge_entries [^\n]*FROM stdin;\n)/,
        '$1not-a-number\tx\tx\t{}\t\\N\t2026-01-01\t2026-01-01\t\\N\n',
      );
    const bad = join(tempDir(pg, 'failbad'), basename(good.path));
    const content = gzipSync(sql);
    writeFileSync(bad, content);
    writeFileSync(
      `${bad}.sha256`,
      `${createHash('sha256').update(content).digest('hex')}  ${basename(bad)}\n`,
    );
    const log = join(pg.dir, 'fail-app.log');
    const before = await kbFingerprint(pg, 'kb_fail');

    // Act
    const attempt = restoreLocalBackup({
      conn: connectionTo(pg, 'kb_fail'),
      file: bad,
      logger: silentLogger,
      confirm: yes,
      app: { stop: `echo stop >> ${log}`, start: `echo start >> ${log}` },
    });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(PgCommandError);
    await expect(attempt).rejects.toThrow(/invalid input syntax for type bigint/);
    expect(await kbFingerprint(pg, 'kb_fail')).toBe(before);
    expect(await databasesLike('kb_fail_')).toEqual([]);
    expect(() => readFileSync(log)).toThrow(); // the app was never stopped
  });

  it('stops the application only for the swap, terminates its sessions and starts it again', async () => {
    // Prepare: an idle application session on the database.
    await createKbDatabase(pg, 'kb_app', 25);
    const backup = await backupOf('kb_app', tempDir(pg, 'app'), '2026-11-22T01:00:00Z');
    const log = join(pg.dir, 'app.log');
    const session: ChildProcess = spawn('psql', ['-X', '-q', '-d', 'kb_app', '-c', 'SELECT pg_sleep(60)'], {
      env: {
        ...process.env,
        PGHOST: pg.host,
        PGPORT: String(pg.port),
        PGUSER: pg.user,
        PGPASSWORD: pg.password,
        PGAPPNAME: 'kb-app',
      },
      stdio: 'ignore',
    });
    const sessionExit = new Promise<number | null>((r) => session.on('close', (code) => r(code)));
    for (
      let i = 0;
      i < 200 &&
      (await pg.sql(
        'postgres',
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'kb-app'",
      )) !== '1';
      i += 1
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }

    // Act
    await restoreLocalBackup({
      conn: connectionTo(pg, 'kb_app'),
      file: backup.path,
      logger: silentLogger,
      confirm: yes,
      app: { stop: `echo stop >> ${log}`, start: `echo start >> ${log}` },
    });

    // Assess
    expect(readFileSync(log, 'utf8')).toBe('stop\nstart\n');
    expect(await sessionExit).not.toBe(0);
    expect(await entryCount(pg, 'kb_app')).toBe(25);
  });
});

describe('rollbackLocalRestore', () => {
  it('puts back the database the last restore replaced and keeps the restored one aside', async () => {
    // Prepare
    await createKbDatabase(pg, 'kb_rb', 60);
    const backup = await backupOf('kb_rb', tempDir(pg, 'rb'), '2026-11-22T01:00:00Z');
    await pg.sql('kb_rb', seedSql(15, { from: 61 }));
    const beforeRestore = await kbFingerprint(pg, 'kb_rb');
    await restoreLocalBackup({
      conn: connectionTo(pg, 'kb_rb'),
      file: backup.path,
      logger: silentLogger,
      confirm: yes,
    });
    const restored = await kbFingerprint(pg, 'kb_rb');

    // Act
    const result = await rollbackLocalRestore({
      conn: connectionTo(pg, 'kb_rb'),
      logger: silentLogger,
      confirm: yes,
      now: () => new Date('2026-11-22T05:00:00Z'),
    });

    // Assess
    expect(await kbFingerprint(pg, 'kb_rb')).toBe(beforeRestore);
    expect(await entryCount(pg, 'kb_rb')).toBe(75);
    expect(result.setAsideAs).toBe('kb_rb_rolled_back_20261122_050000_000');
    expect(await kbFingerprint(pg, 'kb_rb_rolled_back_20261122_050000_000')).toBe(restored);
    expect(await databasesLike('kb_rb_pre_restore_')).toEqual([]);
  });

  it("restores and rolls back a database whose name holds a quote, % and _, and never takes another database's kept or scratch copies for its own", async () => {
    // Prepare: names that an unescaped LIKE pattern (kb_o'r%_x_...) would match, one marked as
    // kb-dr's scratch database of a killed restore, one as a kept database; and a comment with the
    // characters psql's row output cannot carry.
    const name = "kb_o'r%_x";
    const strayScratch = "kb_o'rZZ_x_restoring_20990101_000000_000";
    const strayKept = "kb_o'rZZ_x_pre_restore_20990101_000000_000";
    const hostileComment = 'the Knowledge Base\nsecond line\x1f "quoted" \\ it\'s ünïcode';
    await createKbDatabase(pg, name, 12);
    // The same text as an SQL escape string literal.
    await pg.sql(
      'postgres',
      `COMMENT ON DATABASE "${name}" IS E'the Knowledge Base\\nsecond line\\x1f "quoted" \\\\ it''s ünïcode'`,
    );
    await pg.sql('postgres', `CREATE DATABASE "${strayScratch}"`);
    await pg.sql(
      'postgres',
      `COMMENT ON DATABASE "${strayScratch}" IS 'kb-dr scratch database of a restore in progress'`,
    );
    await pg.sql('postgres', `CREATE DATABASE "${strayKept}"`);
    const strayMarker = `kb-dr kept database ${JSON.stringify({ kind: 'pre-restore', database: name, keptAt: '2099-01-01T00:00:00.000Z', replacedBy: '/nowhere.sql.gz', comment: null })}`;
    await pg.sql('postgres', `COMMENT ON DATABASE "${strayKept}" IS '${strayMarker.replace(/'/g, "''")}'`);
    const atBackup = await kbFingerprint(pg, name);
    const backup = await backupOf(name, tempDir(pg, 'odd-name'), '2026-11-22T01:00:00Z');
    await pg.sql(name, 'DROP TABLE knowledge_entries CASCADE');

    // Act: nothing of its own to roll back yet; then restore and roll back.
    const early = rollbackLocalRestore({ conn: connectionTo(pg, name), logger: silentLogger, confirm: yes });
    await expect(early).rejects.toBeInstanceOf(NotFoundError);
    await expect(early).rejects.not.toThrow(/ZZ/);
    const restored = await restoreLocalBackup({
      conn: connectionTo(pg, name),
      file: backup.path,
      logger: silentLogger,
      confirm: yes,
    });
    const afterRestore = await pg.sql(
      'postgres',
      `SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '${name.replace(/'/g, "''")}'`,
    );
    yes.mockClear();
    const rolledBack = await rollbackLocalRestore({
      conn: connectionTo(pg, name),
      logger: silentLogger,
      confirm: yes,
    });

    // Assess: the restore took the data and the comment; the rollback put back the database
    // without its table, said so, and the look at the server read the comment back exactly.
    expect(restored.entriesRestored).toBe(12);
    expect(afterRestore).toBe(hostileComment);
    expect(rolledBack.restoredFrom).toBe(restored.previousDatabase);
    expect(yes).toHaveBeenCalledWith(
      expect.stringMatching(/\(12 entries\) back to .*\(no knowledge_entries table\)/),
    );
    expect(
      await pg.sql(
        'postgres',
        `SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '${name.replace(/'/g, "''")}'`,
      ),
    ).toBe(hostileComment);
    expect(await kbFingerprint(pg, rolledBack.setAsideAs!)).toBe(atBackup);
    expect(await pg.databases()).toEqual(expect.arrayContaining([strayScratch, strayKept]));
  });

  it('says there is nothing to roll back when no restore happened', async () => {
    await createKbDatabase(pg, 'kb_never', 5);
    const confirm = jest.fn(async () => true);

    const attempt = rollbackLocalRestore({
      conn: connectionTo(pg, 'kb_never'),
      logger: silentLogger,
      confirm,
    });

    await expect(attempt).rejects.toBeInstanceOf(NotFoundError);
    expect(confirm).not.toHaveBeenCalled();
  });
});
