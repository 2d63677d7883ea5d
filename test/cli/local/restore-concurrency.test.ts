/**
 * Concurrency and names: backups never overwrite each other, one restore or rollback at a time
 * per database, rollback only to databases kb-dr marked, and no environment setting can redirect
 * a connection to another database.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlreadyExistsError, GuardRailError, NotFoundError } from '../../../core/errors';
import { createLocalBackup } from '../../../cli/local/backup';
import { sha256File } from '../../../cli/local/backup-files';
import { parseMarker, restoreLocalBackup, rollbackLocalRestore } from '../../../cli/local/restore';
import { silentLogger } from '../../../cli/shared/logger';
import { connectionTo, listAll, tempDir } from '../../support/cli-fixtures';
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

async function backupOf(database: string, dir: string, at = '2026-11-22T01:00:00Z') {
  return createLocalBackup({
    conn: connectionTo(pg, database),
    dir,
    logger: silentLogger,
    now: () => new Date(at),
  });
}

async function comment(database: string): Promise<string> {
  return pg.sql(
    'postgres',
    `SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '${database}'`,
  );
}

describe('backup names', () => {
  it('two backups in the same second: one is written, the other fails, nothing is overwritten', async () => {
    // Prepare
    await createKbDatabase(pg, 'kb_same', 300);
    const dir = tempDir(pg, 'same');

    // Act
    const outcomes = await Promise.allSettled([backupOf('kb_same', dir), backupOf('kb_same', dir)]);

    // Assess
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(AlreadyExistsError);
    expect(String(lost[0]!.reason)).toMatch(/already exists/);
    expect(listAll(dir)).toEqual([
      'kb-backup-20261122-010000.sql.gz',
      'kb-backup-20261122-010000.sql.gz.sha256',
    ]);
    const file = join(dir, 'kb-backup-20261122-010000.sql.gz');
    expect(readFileSync(`${file}.sha256`, 'utf8')).toContain(await sha256File(file));
  });

  it('dumps the database KB_DB_NAME names even when PGSERVICE points elsewhere, and says which', async () => {
    // Prepare: a service file whose service names the maintenance database.
    await createKbDatabase(pg, 'kb_svc', 25);
    const serviceFile = join(pg.dir, 'pg_service.conf');
    writeFileSync(serviceFile, '[elsewhere]\ndbname=postgres\n');
    const conn = connectionTo(pg, 'kb_svc', { PGSERVICEFILE: serviceFile, PGSERVICE: 'elsewhere' });

    // Act
    const result = await createLocalBackup({ conn, dir: tempDir(pg, 'svc'), logger: silentLogger });

    // Assess
    expect(result.entryCount).toBe(25);
    expect(result.connection).toBe(`postgres@127.0.0.1:${pg.port}/kb_svc`);
  });
});

describe('one restore or rollback at a time per database', () => {
  it('refuses a restore while another holds the database lock, naming the holder, and changes nothing', async () => {
    // Prepare: a session holding kb-dr's lock for kb_locked, as a running restore would.
    await createKbDatabase(pg, 'kb_locked', 10);
    const backup = await backupOf('kb_locked', tempDir(pg, 'locked'));
    const holder = spawn('psql', ['-X', '-q', '-d', 'postgres'], {
      env: {
        ...process.env,
        PGHOST: pg.host,
        PGPORT: String(pg.port),
        PGUSER: pg.user,
        PGPASSWORD: pg.password,
      },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    holder.stdin.write("SELECT pg_advisory_lock(1801610354, hashtext('kb_locked'));\n");
    for (let i = 0; i < 400; i += 1) {
      if ((await pg.sql('postgres', "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")) !== '0')
        break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const databasesBefore = await pg.databases();
    const confirm = jest.fn(async () => true);

    // Act
    const attempt = restoreLocalBackup({
      conn: connectionTo(pg, 'kb_locked'),
      file: backup.path,
      logger: silentLogger,
      confirm,
    });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(GuardRailError);
    await expect(attempt).rejects.toThrow(
      /another kb-dr restore or rollback of kb_locked is running on 127\.0\.0\.1:\d+ \(server process \d+, user postgres, since .*\); nothing was changed/,
    );
    expect(confirm).not.toHaveBeenCalled();
    expect(await pg.databases()).toEqual(databasesBefore);
    holder.stdin.end();
    await new Promise((r) => holder.on('close', r));
  });

  it('two restores at once: one restores, the other refuses', async () => {
    await createKbDatabase(pg, 'kb_two', 2000);
    const backup = await backupOf('kb_two', tempDir(pg, 'two'));
    const conn = connectionTo(pg, 'kb_two');
    const run = (ms: string) =>
      restoreLocalBackup({
        conn,
        file: backup.path,
        logger: silentLogger,
        confirm: async () => true,
        now: () => new Date(`2026-11-22T05:00:00.${ms}Z`),
      });

    const outcomes = await Promise.allSettled([run('001'), run('002')]);

    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(refused?.reason).toBeInstanceOf(GuardRailError);
    expect((await pg.databases()).filter((d) => d.startsWith('kb_two_pre_restore_'))).toHaveLength(1);
    expect(await entryCount(pg, 'kb_two')).toBe(2000);
  });
});

describe('rollback only to a database kb-dr marked', () => {
  it('ignores a stray newer-looking database, shows what it rolls back to, and puts the comments back', async () => {
    // Prepare
    await createKbDatabase(pg, 'kb_mark', 30);
    await pg.sql('postgres', "COMMENT ON DATABASE kb_mark IS E'the Knowledge Base\\nsecond line'");
    const backup = await backupOf('kb_mark', tempDir(pg, 'mark'));
    await pg.sql('kb_mark', seedSql(5, { from: 31 }));
    const beforeRestore = await kbFingerprint(pg, 'kb_mark');
    await restoreLocalBackup({
      conn: connectionTo(pg, 'kb_mark'),
      file: backup.path,
      logger: silentLogger,
      confirm: async () => true,
      now: () => new Date('2026-11-22T06:00:00.000Z'),
    });
    await pg.sql('postgres', 'CREATE DATABASE kb_mark_pre_restore_29991231_235959_999');
    const confirm = jest.fn(async () => true);

    // Act
    const result = await rollbackLocalRestore({
      conn: connectionTo(pg, 'kb_mark'),
      logger: silentLogger,
      confirm,
    });

    // Assess
    expect(result.restoredFrom).toBe('kb_mark_pre_restore_20261122_060000_000');
    expect(confirm).toHaveBeenCalledWith(
      expect.stringContaining(
        `back to kb_mark_pre_restore_20261122_060000_000: the kb_mark kept at 2026-11-22T06:00:00.000Z before restoring ${backup.path} (35 entries)`,
      ),
    );
    expect(await kbFingerprint(pg, 'kb_mark')).toBe(beforeRestore);
    expect(await comment('kb_mark')).toBe('the Knowledge Base\nsecond line');
    expect(parseMarker(await comment(result.setAsideAs!))).toMatchObject({
      kind: 'rolled-back',
      database: 'kb_mark',
    });
    expect(await pg.databases()).toContain('kb_mark_pre_restore_29991231_235959_999');
  });

  it('refuses when only unmarked databases match, naming them', async () => {
    await createKbDatabase(pg, 'kb_stray', 3);
    await pg.sql('postgres', 'CREATE DATABASE kb_stray_pre_restore_20990101_000000_000');
    const confirm = jest.fn(async () => true);

    const attempt = rollbackLocalRestore({
      conn: connectionTo(pg, 'kb_stray'),
      logger: silentLogger,
      confirm,
    });

    await expect(attempt).rejects.toBeInstanceOf(NotFoundError);
    await expect(attempt).rejects.toThrow(
      /nothing to roll back \(kb_stray_pre_restore_20990101_000000_000: not marked by kb-dr, ignored\)/,
    );
    expect(confirm).not.toHaveBeenCalled();
    expect(await entryCount(pg, 'kb_stray')).toBe(3);
  });
});
