import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DiskFullError, createLocalBackup } from '../../../cli/local/backup';
import { ServerUnreachableError, AuthenticationError } from '../../../cli/local/pg-errors';
import { validateBackup } from '../../../cli/local/validate';
import { silentLogger } from '../../../cli/shared/logger';
import { capturingLogger, connectionTo, listAll, tempDir } from '../../support/cli-fixtures';
import { freePort } from '../../../harness/moto';
import { createKbDatabase, entryCount, seedSql, type TestPostgres } from '../../../harness/postgres';
import { useSharedPostgres } from '../../support/local-cluster';

let pg: TestPostgres;

useSharedPostgres(async (started) => {
  pg = started;
  await createKbDatabase(pg, 'kb_150', 150);
  await createKbDatabase(pg, 'kb_empty', 0);
  await createKbDatabase(pg, 'kb_10k', 10_000);
});

async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('createLocalBackup', () => {
  it('writes kb-backup-YYYYMMDD-HHMMSS.sql.gz and a .sha256 that sha256sum -c accepts, for 150 entries', async () => {
    // Prepare
    const dir = tempDir(pg, 'b150');
    const { logger, text } = capturingLogger();

    // Act
    const result = await createLocalBackup({
      conn: connectionTo(pg, 'kb_150'),
      dir,
      logger,
      now: () => new Date('2026-11-22T02:00:00Z'),
    });

    // Assess
    expect(basename(result.path)).toBe('kb-backup-20261122-020000.sql.gz');
    expect(listAll(dir)).toEqual([
      'kb-backup-20261122-020000.sql.gz',
      'kb-backup-20261122-020000.sql.gz.sha256',
    ]);
    expect(
      execFileSync('sha256sum', ['-c', basename(result.checksumPath)], { cwd: dir, encoding: 'utf8' }),
    ).toBe('kb-backup-20261122-020000.sql.gz: OK\n');
    expect(readFileSync(result.checksumPath, 'utf8')).toBe(
      `${result.sha256}  kb-backup-20261122-020000.sql.gz\n`,
    );
    expect(result.entryCount).toBe(150);
    expect(result.embeddingCacheCount).toBe(37);
    const sql = gunzipSync(readFileSync(result.path)).toString('utf8');
    expect(sql).toContain('-- PostgreSQL database dump complete');
    expect(sql).toContain('CREATE TABLE public.knowledge_entries');
    expect(sql).toContain('ALTER TABLE public.knowledge_entries OWNER TO postgres;'); // owners kept for the restore
    expect(text()).not.toContain(pg.password);
  });

  it('backs up a database with zero entries, and the file validates', async () => {
    const dir = tempDir(pg, 'bempty');

    const result = await createLocalBackup({ conn: connectionTo(pg, 'kb_empty'), dir, logger: silentLogger });

    expect(result.entryCount).toBe(0);
    const report = await validateBackup({ file: result.path, logger: silentLogger });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.entryCount).toBe(0);
  });

  it('backs up 10,000 entries with the exact count in the dump', async () => {
    const dir = tempDir(pg, 'b10k');

    const result = await createLocalBackup({ conn: connectionTo(pg, 'kb_10k'), dir, logger: silentLogger });

    expect(result.entryCount).toBe(10_000);
    expect(result.embeddingCacheCount).toBe(2_500);
    expect((await validateBackup({ file: result.path, logger: silentLogger })).valid).toBe(true);
  });

  describe('while other sessions write', () => {
    let locker: ChildProcess | undefined;
    afterEach(() => {
      locker?.stdin?.end();
      locker = undefined;
    });

    it('dumps the snapshot taken at its start and does not block concurrent writes', async () => {
      // Prepare: a session holds embedding_cache exclusively, so pg_dump takes its snapshot and
      // then waits on that lock: a deterministic window in which the backup is running.
      await createKbDatabase(pg, 'kb_concurrent', 200);
      const originalTitle = await pg.sql('kb_concurrent', 'SELECT title FROM knowledge_entries WHERE id = 1');
      locker = spawn('psql', ['-X', '-q', '-d', 'kb_concurrent', '-f', '-'], {
        env: {
          ...process.env,
          PGHOST: pg.host,
          PGPORT: String(pg.port),
          PGUSER: pg.user,
          PGPASSWORD: pg.password,
        },
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      locker.stdin!.write('BEGIN;\nLOCK TABLE embedding_cache IN ACCESS EXCLUSIVE MODE;\n');
      await waitFor(
        async () =>
          (await pg.sql(
            'kb_concurrent',
            "SELECT count(*) FROM pg_locks WHERE relation = 'embedding_cache'::regclass AND mode = 'AccessExclusiveLock' AND granted",
          )) === '1',
        'the exclusive lock',
      );
      const dir = tempDir(pg, 'bconc');
      let settled = false;
      const backup = createLocalBackup({
        conn: connectionTo(pg, 'kb_concurrent'),
        dir,
        logger: silentLogger,
      }).finally(() => (settled = true));
      await waitFor(
        async () =>
          (await pg.sql(
            'kb_concurrent',
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'kb-dr' AND wait_event_type = 'Lock'",
          )) === '1',
        'pg_dump to be running',
      );

      // Act: writes while the dump is in flight
      await pg.sql('kb_concurrent', seedSql(50, { from: 1001, withCache: false }));
      await pg.sql(
        'kb_concurrent',
        "UPDATE knowledge_entries SET title = 'changed during backup' WHERE id = 1",
      );
      await pg.sql('kb_concurrent', 'DELETE FROM knowledge_entries WHERE id = 2');
      const finishedWhileBackupRan = !settled;
      locker.stdin!.end('COMMIT;\n');
      const result = await backup;

      // Assess
      expect(finishedWhileBackupRan).toBe(true);
      expect(await entryCount(pg, 'kb_concurrent')).toBe(249);
      expect(result.entryCount).toBe(200);
      const sql = gunzipSync(readFileSync(result.path)).toString('utf8');
      expect(sql).toContain(originalTitle);
      expect(sql).not.toContain('changed during backup');
    });

    it('removes the temporary file when interrupted mid-dump', async () => {
      await createKbDatabase(pg, 'kb_abort', 20);
      locker = spawn('psql', ['-X', '-q', '-d', 'kb_abort', '-f', '-'], {
        env: {
          ...process.env,
          PGHOST: pg.host,
          PGPORT: String(pg.port),
          PGUSER: pg.user,
          PGPASSWORD: pg.password,
        },
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      locker.stdin!.write('BEGIN;\nLOCK TABLE embedding_cache IN ACCESS EXCLUSIVE MODE;\n');
      await waitFor(
        async () =>
          (await pg.sql(
            'kb_abort',
            "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND granted AND relation = 'embedding_cache'::regclass",
          )) === '1',
        'the exclusive lock',
      );
      const dir = tempDir(pg, 'babort');
      const controller = new AbortController();
      const backup = createLocalBackup({
        conn: connectionTo(pg, 'kb_abort'),
        dir,
        logger: silentLogger,
        signal: controller.signal,
      });
      await waitFor(async () => listAll(dir).length > 0, 'the temporary file');
      expect(listAll(dir)[0]).toMatch(/^\.kb-backup-.*\.partial-\d+-[0-9a-f]{8}$/);

      controller.abort();

      await expect(backup).rejects.toThrow(/interrupted; no partial file was left/);
      expect(listAll(dir)).toEqual([]);
    });
  });

  it('fails with a next step and leaves no file when the server is unreachable', async () => {
    const dir = tempDir(pg, 'bdown');
    const conn = connectionTo(pg, 'kb_150', { KB_DB_PORT: String(await freePort()) });

    const attempt = createLocalBackup({ conn, dir, logger: silentLogger });

    await expect(attempt).rejects.toBeInstanceOf(ServerUnreachableError);
    await expect(attempt).rejects.toMatchObject({ hint: expect.stringContaining('KB_DB_HOST') });
    expect(listAll(dir)).toEqual([]);
  });

  it('reports a wrong password without ever printing a password', async () => {
    const dir = tempDir(pg, 'bauth');
    const { logger, text } = capturingLogger();
    const conn = connectionTo(pg, 'kb_150', { KB_DB_PASSWORD: 'wrong-Pa55word' });

    const attempt = createLocalBackup({ conn, dir, logger });

    await expect(attempt).rejects.toBeInstanceOf(AuthenticationError);
    const message = await attempt.then(
      () => '',
      (e: AuthenticationError) => e.userMessage,
    );
    expect(message).toContain('KB_DB_PASSWORD');
    expect(message).not.toContain('wrong-Pa55word');
    expect(text()).not.toContain('wrong-Pa55word');
    expect(listAll(dir)).toEqual([]);
  });

  it('leaves no partial file when the disk fills up (1 MiB tmpfs)', async () => {
    // Prepare: a real, tiny file system. Requires root (mount), which these tests run as.
    const mountPoint = join(tempDir(pg, 'tmpfs'), 'full');
    mkdirSync(mountPoint);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]);
    try {
      const dir = join(mountPoint, 'backups');

      // Act
      const attempt = createLocalBackup({ conn: connectionTo(pg, 'kb_10k'), dir, logger: silentLogger });

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(DiskFullError);
      await expect(attempt).rejects.toThrow(/is full/);
      expect(listAll(dir)).toEqual([]);
      expect(listAll(dirname(dir))).toEqual(['backups']);
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  });
});
