/**
 * Prune deletes only what it may, and the edges a hostile tester tries get clear answers:
 * unreadable checksum files, FIFOs, /dev/null, a server that dies mid-dump, left-over partial
 * files of dead processes, a role that could not finish the swap.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GuardRailError, ValidationError } from '../../../core/errors';
import { createLocalBackup } from '../../../cli/local/backup';
import { ServerUnreachableError } from '../../../cli/local/pg-errors';
import { pruneBackups } from '../../../cli/local/prune';
import { restoreLocalBackup } from '../../../cli/local/restore';
import { validateBackup } from '../../../cli/local/validate';
import { silentLogger } from '../../../cli/shared/logger';
import { connectionTo, listAll, tempDir } from '../../support/cli-fixtures';
import { createKbDatabase, kbFingerprint, type TestPostgres } from '../../../harness/postgres';
import { seededBackup, useSharedPostgres } from '../../support/local-cluster';

let pg: TestPostgres;
let good: string;

useSharedPostgres(async (started) => {
  pg = started;
  good = await seededBackup(pg, 'kb_e', 300, { label: 'good' });
  await createKbDatabase(pg, 'kb_e_empty', 0);
});

const NOW = new Date('2026-11-22T12:00:00Z');

/** A copy of the good backup (and its checksum, renamed) as `name` in `dir`. */
function copyGood(dir: string, name: string): string {
  const path = join(dir, name);
  copyFileSync(good, path);
  const digest = spawnSync('sha256sum', [path], { encoding: 'utf8' }).stdout.split(' ')[0];
  writeFileSync(`${path}.sha256`, `${digest}  ${name}\n`);
  return path;
}

describe('pruneBackups', () => {
  it('deletes nothing when the newest backup fails full validation (a backup of an emptied database)', async () => {
    // Prepare: two good old backups, then a much smaller newest one.
    const dir = tempDir(pg, 'prune-small');
    copyGood(dir, 'kb-backup-20260101-020000.sql.gz');
    copyGood(dir, 'kb-backup-20260102-020000.sql.gz');
    await createLocalBackup({
      conn: connectionTo(pg, 'kb_e_empty'),
      dir,
      logger: silentLogger,
      now: () => new Date('2026-01-03T02:00:00Z'),
    });
    const before = listAll(dir);

    // Act
    const result = await pruneBackups({ dir, retentionDays: 30, logger: silentLogger, now: () => NOW });

    // Assess
    expect(result.deleted).toEqual([]);
    expect(result.refusedBecause).toMatch(
      /kb-backup-20260103-020000\.sql\.gz is not valid \(size: .*suspiciously small/,
    );
    expect(listAll(dir)).toEqual(before);
  });

  it('never deletes symlinks, directories or files without their matching .sha256', async () => {
    // Prepare
    const dir = tempDir(pg, 'prune-foreign');
    const outside = join(pg.dir, 'precious.sql.gz');
    writeFileSync(outside, 'not ours');
    symlinkSync(outside, join(dir, 'kb-backup-20260101-020000.sql.gz'));
    mkdirSync(join(dir, 'kb-backup-20260102-020000.sql.gz'));
    copyFileSync(good, join(dir, 'kb-backup-20260103-020000.sql.gz')); // no .sha256
    const other = copyGood(dir, 'kb-backup-20260104-020000.sql.gz');
    writeFileSync(`${other}.sha256`, `${'0'.repeat(64)}  kb-backup-20990101-000000.sql.gz\n`); // names another file
    copyGood(dir, 'kb-backup-20260105-020000.sql.gz');
    copyGood(dir, 'kb-backup-20261121-020000.sql.gz');

    // Act
    const result = await pruneBackups({ dir, retentionDays: 30, logger: silentLogger, now: () => NOW });

    // Assess
    expect(result.deleted.map((f) => f.slice(dir.length + 1))).toEqual(['kb-backup-20260105-020000.sql.gz']);
    expect(result.skipped).toHaveLength(4);
    expect(existsSync(outside)).toBe(true);
    expect(listAll(dir)).toEqual([
      'kb-backup-20260101-020000.sql.gz',
      'kb-backup-20260102-020000.sql.gz',
      'kb-backup-20260103-020000.sql.gz',
      'kb-backup-20260104-020000.sql.gz',
      'kb-backup-20260104-020000.sql.gz.sha256',
      'kb-backup-20261121-020000.sql.gz',
      'kb-backup-20261121-020000.sql.gz.sha256',
    ]);
  });
});

describe('a bad retention value never prevents the backup itself', () => {
  it('writes the backup, then reports that pruning was skipped (exit 1)', async () => {
    const dir = tempDir(pg, 'bad-retention');
    const script = resolve(__dirname, '../../../scripts/backup-kb.sh');
    const result = spawnSync(script, ['--local', '--prune'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...pg.env('kb_e'),
        KB_BACKUP_LOCAL_PATH: dir,
        KB_BACKUP_RETENTION_DAYS: 'thirty',
      },
      encoding: 'utf8',
    });

    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'error: the backup was written, but pruning was skipped: KB_BACKUP_RETENTION_DAYS=thirty is not a whole number of days',
    );
    expect(listAll(dir).filter((f) => f.endsWith('.sql.gz'))).toHaveLength(1);
  });
});

describe('validateBackup edges', () => {
  it('an unreadable .sha256 is a FAIL line, not an unexpected failure', async () => {
    const dir = tempDir(pg, 'unreadable');
    const file = copyGood(dir, 'kb-backup-20261122-020000.sql.gz');
    rmSync(`${file}.sha256`);
    mkdirSync(`${file}.sha256`); // reading it fails (EISDIR), even as root

    const report = await validateBackup({ file, logger: silentLogger });

    expect(report.checks.find((c) => c.name === 'checksum')).toEqual({
      name: 'checksum',
      ok: false,
      detail: 'kb-backup-20261122-020000.sql.gz.sha256 cannot be read (EISDIR); check its permissions',
    });
  });

  it('quotes paths for the shell in the checksum hint', async () => {
    const dir = join(pg.dir, "it's a dir");
    mkdirSync(dir);
    copyFileSync(good, join(dir, 'kb-backup-20261122-020000.sql.gz'));

    const report = await validateBackup({
      file: join(dir, 'kb-backup-20261122-020000.sql.gz'),
      logger: silentLogger,
    });

    expect(report.checks.find((c) => c.name === 'checksum')?.detail).toContain(
      `\`cd '${pg.dir}/it'\\''s a dir' && sha256sum kb-backup-20261122-020000.sql.gz > kb-backup-20261122-020000.sql.gz.sha256\``,
    );
  });

  it('says what a FIFO and /dev/null are, and a restore of /dev/null is refused (exit 2)', async () => {
    const fifo = join(tempDir(pg, 'fifo'), 'kb-backup-20261122-020000.sql.gz');
    spawnSync('mkfifo', [fifo]);

    const report = await validateBackup({ file: fifo, logger: silentLogger });
    const attempt = restoreLocalBackup({
      conn: connectionTo(pg, 'kb_e'),
      file: '/dev/null',
      logger: silentLogger,
      confirm: async () => true,
    });

    expect(report.checks[0]?.detail).toBe(
      `${fifo} is a named pipe (FIFO), not a backup file: pass a kb-backup-*.sql.gz file`,
    );
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await expect(attempt).rejects.toThrow('/dev/null is a character device (/dev/null), not a backup file');
  });
});

describe('createLocalBackup edges', () => {
  it('says the server stopped when it dies mid-dump, and leaves no file', async () => {
    // Prepare: a database big enough that pg_dump is still copying when its session is ended.
    await createKbDatabase(pg, 'kb_e_big', 60_000, { dimensions: 64 });
    const dir = tempDir(pg, 'died');
    const backup = createLocalBackup({ conn: connectionTo(pg, 'kb_e_big'), dir, logger: silentLogger });
    // Its failure may come before the poll below returns: settle it now, judge it after.
    const outcome = backup.then(
      () => undefined,
      (err: unknown) => err,
    );
    for (let i = 0; i < 2000; i += 1) {
      const ended = await pg.sql(
        'postgres',
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'kb-dr' AND query LIKE 'COPY%'",
      );
      if (ended !== '0') break;
      await new Promise((r) => setTimeout(r, 10));
    }

    const err = await outcome;
    expect(err).toBeInstanceOf(ServerUnreachableError);
    expect((err as Error).message).toMatch(/stopped or dropped the connection while it was working/);
    expect(listAll(dir)).toEqual([]);
  });

  it('removes left-over partial files of dead processes at the next run, not those of live ones', async () => {
    const dir = tempDir(pg, 'leftover');
    const sleeper = spawn('sleep', ['60']);
    const dead = join(dir, '.kb-backup-20261122-010000.sql.gz.partial-999999-0badf00d');
    const live = join(dir, `.kb-backup-20261122-010001.sql.gz.partial-${sleeper.pid}-0badf00d`);
    writeFileSync(dead, 'half');
    writeFileSync(live, 'half');

    await createLocalBackup({ conn: connectionTo(pg, 'kb_e'), dir, logger: silentLogger, now: () => NOW });

    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    sleeper.kill();
  });
});

describe('restoreLocalBackup checks before loading that the swap can be done', () => {
  it('refuses a role that could not end the other sessions, saying what it needs, and changes nothing', async () => {
    // Prepare: kb_weak owns its database and has CREATEDB, but not pg_signal_backend; a session
    // of another role is connected.
    await pg.sql(
      'postgres',
      "CREATE ROLE kb_weak LOGIN CREATEDB PASSWORD 'weak-pass'; CREATE ROLE kb_other LOGIN PASSWORD 'other-pass'",
    );
    await createKbDatabase(pg, 'kb_weak_db', 20);
    await pg.sql('postgres', 'ALTER DATABASE kb_weak_db OWNER TO kb_weak');
    await pg.sql(
      'kb_weak_db',
      'ALTER TABLE knowledge_entries OWNER TO kb_weak; ALTER TABLE embedding_cache OWNER TO kb_weak',
    );
    const backup = await createLocalBackup({
      conn: connectionTo(pg, 'kb_weak_db'),
      dir: tempDir(pg, 'weak'),
      logger: silentLogger,
    });
    const session = spawn('psql', ['-X', '-q', '-d', 'kb_weak_db', '-c', 'SELECT pg_sleep(60)'], {
      env: {
        ...process.env,
        PGHOST: pg.host,
        PGPORT: String(pg.port),
        PGUSER: 'kb_other',
        PGPASSWORD: 'other-pass',
      },
      stdio: 'ignore',
    });
    for (let i = 0; i < 400; i += 1) {
      if (
        (await pg.sql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE usename = 'kb_other'")) === '1'
      )
        break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const before = await kbFingerprint(pg, 'kb_weak_db');
    const databasesBefore = await pg.databases();
    const confirm = jest.fn(async () => true);

    // Act
    const attempt = restoreLocalBackup({
      conn: connectionTo(pg, 'kb_weak_db', { KB_DB_USER: 'kb_weak', KB_DB_PASSWORD: 'weak-pass' }),
      file: backup.path,
      logger: silentLogger,
      confirm,
    });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(GuardRailError);
    await expect(attempt).rejects.toThrow(
      'kb_weak cannot swap the restored database in: to end the sessions connected to kb_weak_db (now: kb_other) it needs pg_signal_backend (`GRANT pg_signal_backend TO "kb_weak";`)',
    );
    expect(confirm).not.toHaveBeenCalled();
    expect(await pg.databases()).toEqual(databasesBefore);
    expect(await kbFingerprint(pg, 'kb_weak_db')).toBe(before);
    session.kill();
  });
});
