/**
 * One restore or rollback at a time per live database: a PostgreSQL session-level advisory lock,
 * taken in the maintenance database (advisory locks are per database) by a psql session that
 * stays open until the operation ends. If the CLI dies, psql sees the end of its input and exits,
 * and the server releases the lock with the session: no stale lock file to clean up.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, readlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { GuardRailError } from '../../core/errors';
import { childEnv, conninfo, describeServer, pgBinary, quoteLiteral, type PgConnection } from './connection';
import { translatePgFailure, translateSpawnError } from './pg-errors';

/** First key of the two-int advisory lock: "kbdr" in ASCII, so other applications' locks never clash. */
const LOCK_CLASS = 0x6b626472;

export interface HeldLock {
  /** Ends the session, which releases the lock. */
  release(): Promise<void>;
  /**
   * `conn` with its client folder pinned to the psql that answered (see {@link clientFolder}), so
   * the operation's other psql calls start it directly; `conn` itself when that is not known.
   */
  readonly conn: PgConnection;
}

/**
 * The folder of the psql process `pid`, once it runs (Linux: /proc/<pid>/exe). When `psql` on the
 * PATH is a wrapper that chooses a version and then execs it (Debian's pg_wrapper is a Perl script
 * costing about 60 ms of CPU per start), later calls can start the chosen binary directly: same
 * program, same version, without the wrapper. Undefined unless that folder holds both psql and
 * pg_dump (so every client call keeps coming from one installation), or when KB_PG_BIN_DIR already
 * names the folder.
 */
export function clientFolder(conn: PgConnection, pid: number | undefined): string | undefined {
  if (conn.binDir !== undefined || pid === undefined) return undefined;
  try {
    const exe = readlinkSync(`/proc/${pid}/exe`);
    if (basename(exe) !== 'psql') return undefined;
    const folder = dirname(exe);
    for (const name of ['psql', 'pg_dump']) accessSync(join(folder, name), constants.X_OK);
    return folder;
  } catch {
    return undefined;
  }
}

/** Take the restore lock of `database`, or refuse (exit 2) naming who holds it. */
export async function acquireRestoreLock(conn: PgConnection, database: string): Promise<HeldLock> {
  const binary = pgBinary(conn, 'psql');
  const child = spawn(
    binary,
    [
      '-X',
      '-q',
      '-A',
      '-t',
      '-F',
      '|',
      '-v',
      'ON_ERROR_STOP=1',
      '-d',
      conninfo(conn, conn.maintenanceDatabase),
    ],
    { env: childEnv(conn, conn.maintenanceDatabase), stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => undefined);
  const closed = new Promise<number | null>((resolve, reject) => {
    child.on('error', (err) => reject(translateSpawnError(binary, err)));
    child.on('close', (code) => resolve(code));
  });
  const key = `${LOCK_CLASS}, hashtext(${quoteLiteral(database)})`;
  const answer = new Promise<string>((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!.trim());
    });
    void closed.then(
      () => resolve(''),
      () => resolve(''),
    );
  });
  child.stdin.write(`SELECT pg_try_advisory_lock(${key});\n`);
  const got = await answer;
  if (got === 't') {
    // psql has answered, so the wrapper (if any) has exec'd the real binary by now.
    const folder = clientFolder(conn, child.pid);
    return {
      conn: folder === undefined ? conn : { ...conn, binDir: folder },
      release: async () => {
        child.stdin.end();
        await closed.catch(() => undefined);
      },
    };
  }
  if (got !== 'f') {
    child.stdin.end();
    await closed.catch(() => undefined);
    throw translatePgFailure(conn, `take the restore lock of ${database}`, stderr || 'no answer from psql');
  }
  // Who holds it, to say so.
  child.stdin.write(
    `SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.usename, ''), to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.classid = ${LOCK_CLASS}::oid AND l.objid = hashtext(${quoteLiteral(database)})::oid AND l.granted
      LIMIT 1;\n`,
  );
  child.stdin.end();
  await closed.catch(() => undefined);
  const holder = stdout.split('\n')[1]?.split('|');
  const who =
    holder && holder.length === 4
      ? ` (server process ${holder[0]}, user ${holder[2]}, since ${holder[3]})`
      : '';
  throw new GuardRailError(
    `another kb-dr restore or rollback of ${database} is running on ${describeServer(conn)}${who}; nothing was changed`,
    { hint: 'wait for it to finish, then check the database before restoring again' },
  );
}
