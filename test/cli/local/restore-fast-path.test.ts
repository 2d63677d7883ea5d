/**
 * The faster restore keeps its guarantees: the read-only look at the server before the load is one
 * query on the maintenance database and one into the live database, yet a refusal is the same and comes before any database is created; a backup written by
 * the thread-pool gzip with a damaged byte in the middle is refused after the one pass, the scratch
 * database dropped and production byte-identical; SIGTERM mid-load leaves production as it was;
 * two restores at once: the second refuses.
 */
import type * as ChildProcess from 'node:child_process';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { writeFileSync } from 'node:fs';
import { createLocalBackup } from '../../../cli/local/backup';
import { restoreLocalBackup } from '../../../cli/local/restore';
import { silentLogger } from '../../../cli/shared/logger';
import { connectionTo, corruptMiddleByte, tempDir } from '../../support/cli-fixtures';
import { createKbDatabase, kbFingerprint, type TestPostgres } from '../../../harness/postgres';
import { sharedPostgres } from '../../support/shared-services';

const ROOT = resolve(__dirname, '../../..');
let pg: TestPostgres;

beforeAll(async () => {
  pg = await sharedPostgres();
});

afterAll(async () => {
  await pg?.stop();
});

afterEach(() => jest.restoreAllMocks());

// The module object itself, so a spy reaches the spawns psql.ts makes.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const childProcess = require('node:child_process') as typeof ChildProcess;

const scratchOf = async (db: string) =>
  (await pg.databases()).filter((d) => d.startsWith(`${db}_restoring_`));

async function backupOf(db: string, entries: number, dirName: string) {
  await createKbDatabase(pg, db, entries);
  return createLocalBackup({ conn: connectionTo(pg, db), dir: tempDir(pg, dirName), logger: silentLogger });
}

describe('restore before the load', () => {
  it('looks at the server with one query on the maintenance database and one into the live database, then loads and swaps as before', async () => {
    // Prepare: record the database each psql process connects to, in order. Each is a process and
    // a connection; the look before the load was eight of them (up to six at once) before.
    const backup = await backupOf('kb_fast_at_once', 40, 'at-once');
    const realSpawn = childProcess.spawn;
    const databases: string[] = [];
    jest.spyOn(childProcess, 'spawn').mockImplementation(((...args: Parameters<typeof realSpawn>) => {
      const argv = (args[1] ?? []) as readonly string[];
      if (String(args[0]).endsWith('psql')) {
        const info = argv[argv.indexOf('-d') + 1] ?? '';
        databases.push(/dbname='?([^' ]+)/.exec(info)?.[1] ?? info);
      }
      return realSpawn(...args);
    }) as typeof realSpawn);

    // Act
    const result = await restoreLocalBackup({
      conn: connectionTo(pg, 'kb_fast_at_once'),
      file: backup.path,
      logger: silentLogger,
      confirm: async () => true,
    });

    // Assess: the lock, the look, the count of the live entries; then the scratch database is
    // created (on the maintenance database) and loaded.
    const firstLoad = databases.findIndex((d) => d.startsWith('kb_fast_at_once_restoring_'));
    expect(databases.slice(0, firstLoad)).toEqual(['postgres', 'postgres', 'kb_fast_at_once', 'postgres']);
    expect(result.entriesRestored).toBe(40);
    expect(result.previousDatabase).toMatch(/^kb_fast_at_once_pre_restore_/);
    expect(await kbFingerprint(pg, 'kb_fast_at_once')).toEqual(
      await kbFingerprint(pg, result.previousDatabase!),
    );
    expect(await scratchOf('kb_fast_at_once')).toEqual([]);
  });

  it('still refuses when the kept name is taken, before creating any database', async () => {
    // Prepare: the name the live database would be kept under already exists.
    const backup = await backupOf('kb_fast_taken', 10, 'taken');
    const at = new Date('2026-11-22T03:04:05.678Z');
    await pg.sql('postgres', 'CREATE DATABASE kb_fast_taken_pre_restore_20261122_030405_678');
    const before = await pg.databases();
    const live = await kbFingerprint(pg, 'kb_fast_taken');

    // Act / Assess
    await expect(
      restoreLocalBackup({
        conn: connectionTo(pg, 'kb_fast_taken'),
        file: backup.path,
        logger: silentLogger,
        confirm: async () => true,
        now: () => at,
      }),
    ).rejects.toThrow(/kb_fast_taken_pre_restore_20261122_030405_678 already exists/);
    expect(await pg.databases()).toEqual(before);
    expect(await kbFingerprint(pg, 'kb_fast_taken')).toBe(live);
  });
});

describe('restore of a damaged thread-pool gzip backup', () => {
  it('refuses a backup with a damaged byte in the middle, drops the scratch database, production byte-identical', async () => {
    // Prepare: a backup big enough for several gzip blocks, one byte changed in the middle.
    const backup = await backupOf('kb_fast_corrupt', 3000, 'corrupt');
    await pg.sql('kb_fast_corrupt', 'DELETE FROM knowledge_entries WHERE id % 2 = 0');
    const live = await kbFingerprint(pg, 'kb_fast_corrupt');
    corruptMiddleByte(backup.path);
    const confirm = jest.fn(async () => true);

    // Act / Assess
    await expect(
      restoreLocalBackup({
        conn: connectionTo(pg, 'kb_fast_corrupt'),
        file: backup.path,
        logger: silentLogger,
        confirm,
      }),
    ).rejects.toThrow(/refusing to restore .*checksum/);
    expect(confirm).not.toHaveBeenCalled();
    expect(await scratchOf('kb_fast_corrupt')).toEqual([]);
    expect(await kbFingerprint(pg, 'kb_fast_corrupt')).toBe(live);
  });
});

describe('the restore script under signals and concurrency', () => {
  function startRestore(db: string, file: string, extraEnv: Record<string, string> = {}) {
    const child = spawn(join(ROOT, 'scripts/restore-kb.sh'), ['--local', `--backup-file=${file}`, '--yes'], {
      env: { ...process.env, ...pg.env(db), LOG_LEVEL: 'INFO', ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    return { child, exited, stderr: () => stderr };
  }

  async function whenLoading(db: string, stderr: () => string): Promise<void> {
    for (;;) {
      if (/restoring into a new database/.test(stderr()) && (await scratchOf(db)).length > 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('SIGTERM mid-load: exit 130, scratch database dropped, production byte-identical', async () => {
    // Prepare
    const backup = await backupOf('kb_fast_term', 20000, 'term');
    await pg.sql('kb_fast_term', 'DELETE FROM knowledge_entries WHERE id > 100');
    const live = await kbFingerprint(pg, 'kb_fast_term');
    const run = startRestore('kb_fast_term', backup.path);

    // Act
    await whenLoading('kb_fast_term', run.stderr);
    run.child.kill('SIGTERM');
    const code = await run.exited;

    // Assess
    expect(code).toBe(130);
    expect(await scratchOf('kb_fast_term')).toEqual([]);
    expect(await kbFingerprint(pg, 'kb_fast_term')).toBe(live);
  });

  it('two restores at once: the second refuses (exit 2) and the first completes', async () => {
    // Prepare
    // (Small: the gate below, not the size, keeps the first one running.)
    const backup = await backupOf('kb_fast_two', 2000, 'two');
    await pg.sql('kb_fast_two', 'DELETE FROM knowledge_entries WHERE id > 100');
    // The first holds its lock until told to go on: its application stop command (run before the
    // swap) waits for a file, so a fast load cannot finish before the second one starts.
    const go = join(pg.dir, 'kb_fast_two.go');
    const first = startRestore('kb_fast_two', backup.path, {
      KB_APP_STOP_COMMAND: `while [ ! -e '${go}' ]; do sleep 0.05; done`,
    });
    await whenLoading('kb_fast_two', first.stderr);

    // Act
    const second = startRestore('kb_fast_two', backup.path);
    const secondCode = await second.exited;
    writeFileSync(go, '');
    const firstCode = await first.exited;

    // Assess
    expect(secondCode).toBe(2);
    expect(second.stderr()).toMatch(/another kb-dr restore or rollback of kb_fast_two is running/);
    expect(firstCode).toBe(0);
    expect(Number(await pg.sql('kb_fast_two', 'SELECT count(*) FROM knowledge_entries'))).toBe(2000);
    expect(await scratchOf('kb_fast_two')).toEqual([]);
  });
});
