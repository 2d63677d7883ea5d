/**
 * A restore starts the psql that PATH's wrapper chose once (for the lock), then that binary
 * directly: a wrapper such as Debian's pg_wrapper (a Perl script, ~60 ms of CPU per start) is not
 * paid on each of the restore's dozen psql calls.
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientFolder } from '../../../cli/local/lock';
import { restoreLocalBackup, rollbackLocalRestore } from '../../../cli/local/restore';
import { childEnv, conninfo } from '../../../cli/local/connection';
import { silentLogger } from '../../../cli/shared/logger';
import { kbFingerprint, type TestPostgres } from '../../../harness/postgres';
import { pgTool, requirePostgres } from '../../../harness/toolchain';
import { connectionTo, tempDir } from '../../support/cli-fixtures';
import { seededBackup, useSharedPostgres } from '../../support/local-cluster';

let pg: TestPostgres;
let backup: string;
const client = requirePostgres('client');
const realPsql = pgTool(client, 'psql');

useSharedPostgres(async (started) => {
  pg = started;
  backup = await seededBackup(pg, 'kb_wrapped', 60);
});

/** A folder with a `psql` script that logs each start, then execs the real psql (as pg_wrapper does). */
function wrapperFolder(name: string): { dir: string; log: string } {
  const dir = tempDir(pg, name);
  const log = join(dir, 'starts.log');
  writeFileSync(join(dir, 'psql'), `#!/bin/sh\necho start >> '${log}'\nexec '${realPsql}' "$@"\n`);
  chmodSync(join(dir, 'psql'), 0o755);
  writeFileSync(log, '');
  return { dir, log };
}

const starts = (log: string) => readFileSync(log, 'utf8').split('\n').filter(Boolean).length;

describe('the restore starts psql through PATH once, then directly', () => {
  it('restores with one start of the wrapper (the lock), and rolls back the same way', async () => {
    // Prepare: psql is found on PATH only through the wrapper; no KB_PG_BIN_DIR.
    const { dir, log } = wrapperFolder('wrapper');
    const conn = connectionTo(pg, 'kb_wrapped', {
      PATH: `${dir}:${process.env.PATH ?? ''}`,
      KB_PG_BIN_DIR: '',
    });
    expect(conn.binDir).toBeUndefined();
    const before = await kbFingerprint(pg, 'kb_wrapped');
    await pg.sql('kb_wrapped', 'DELETE FROM knowledge_entries WHERE id > 10');

    // Act
    const result = await restoreLocalBackup({
      conn,
      file: backup,
      logger: silentLogger,
      confirm: async () => true,
    });

    // Assess: the lock's psql came through the wrapper; the other calls (checks, create, load,
    // verify, swap: more than ten) went straight to the binary it chose.
    expect(result.entriesRestored).toBe(60);
    expect(await kbFingerprint(pg, 'kb_wrapped')).toBe(before);
    expect(starts(log)).toBe(1);

    writeFileSync(log, '');
    const rolled = await rollbackLocalRestore({ conn, logger: silentLogger, confirm: async () => true });
    expect(rolled.setAsideAs).toBeDefined();
    expect(starts(log)).toBe(1);
    expect(await pg.sql('kb_wrapped', 'SELECT count(*) FROM knowledge_entries')).toBe('10');
  });

  it('keeps KB_PG_BIN_DIR as it is', () => {
    const conn = connectionTo(pg, 'kb_wrapped', { KB_PG_BIN_DIR: client.dir });

    expect(clientFolder(conn, process.pid)).toBeUndefined();
  });

  it('pins nothing for a process that is not psql, or a folder without pg_dump beside psql', async () => {
    const conn = connectionTo(pg, 'kb_wrapped', { KB_PG_BIN_DIR: '' });
    // This process is node.
    expect(clientFolder(conn, process.pid)).toBeUndefined();
    expect(clientFolder(conn, 999_999_999)).toBeUndefined();

    // A psql alone in its folder: the restore would then take pg_dump from elsewhere; not pinned.
    const lonely = tempDir(pg, 'lonely');
    copyFileSync(realPsql, join(lonely, 'psql'));
    chmodSync(join(lonely, 'psql'), 0o755);
    const child = spawn(join(lonely, 'psql'), ['-X', '-q', '-d', conninfo(conn, 'postgres')], {
      env: childEnv(conn, 'postgres'),
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    try {
      await new Promise((r) => child.once('spawn', r));
      expect(clientFolder(conn, child.pid)).toBeUndefined();
      // With pg_dump beside it, the folder is the one to use.
      copyFileSync(pgTool(client, 'pg_dump'), join(lonely, 'pg_dump'));
      chmodSync(join(lonely, 'pg_dump'), 0o755);
      expect(clientFolder(conn, child.pid)).toBe(lonely);
    } finally {
      child.stdin.end();
      await new Promise((r) => child.once('close', r));
    }
  });
});
