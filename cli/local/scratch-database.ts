/**
 * The scratch database `recover-entries` reads a local backup from: created next to the live
 * database, marked as kb-dr's by its comment, loaded through the restore's gate (only statements
 * pg_dump writes for one database, psql meta-commands refused, owners and privileges left out),
 * and dropped afterwards: on success, on failure and on SIGINT/SIGTERM. Only a kill -9 leaves one
 * behind; the next recovery of the same database drops it (it holds the restore lock then).
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { KbDrError, ValidationError } from '../../core/errors';
import type { CliLogger } from '../shared/logger';
import { childEnv, LOCAL_ENV, quoteLiteral, type PgConnection } from './connection';
import { createMarkedDatabase, dropDatabase, namesLike } from './databases';
import { DumpContentError, DumpScanner, HashingStream } from './dump-scanner';
import { startSession } from './copy-sessions';
import { PgCommandError, translatePgFailure } from './pg-errors';
import { InterruptedError, psqlQuery } from './psql';

export const RECOVER_SCRATCH_MARKER = 'kb-dr scratch database of a recover-entries run';
const MAX_IDENTIFIER = 63;

/** `<database>_recover_YYYYMMDD_HHMMSS_mmm` (UTC). */
export function recoverScratchName(database: string, at: Date): string {
  const iso = at.toISOString();
  const name = `${database}_recover_${iso.slice(0, 10).replace(/-/g, '')}_${iso.slice(11, 19).replace(/:/g, '')}_${iso.slice(20, 23)}`;
  if (Buffer.byteLength(name) > MAX_IDENTIFIER) {
    throw new ValidationError(
      `the scratch database name ${name} would exceed PostgreSQL's 63-byte limit`,
      'database',
      {
        hint: `recover into a database with a shorter name (${LOCAL_ENV.database}); nothing was changed`,
      },
    );
  }
  return name;
}

/** Create the scratch database, marked as kb-dr's (one psql call, databases.ts). */
export async function createScratchDatabase(conn: PgConnection, name: string): Promise<void> {
  await createMarkedDatabase(conn, name, RECOVER_SCRATCH_MARKER);
}

/**
 * Drop the scratch databases of recoveries of `target` that were killed before they could clean
 * up; returns their names. The caller holds the restore lock of `target`, so none is in use, and
 * only databases carrying kb-dr's recover marker are dropped.
 */
export async function dropLeftoverScratchDatabases(
  conn: PgConnection,
  target: string,
  logger: CliLogger,
): Promise<string[]> {
  const rows = await psqlQuery(
    conn,
    `SELECT datname FROM pg_database WHERE datname LIKE ${quoteLiteral(namesLike(target, '_recover_'))} AND shobj_description(oid, 'pg_database') = ${quoteLiteral(RECOVER_SCRATCH_MARKER)} ORDER BY 1;`,
    { database: conn.maintenanceDatabase, operation: 'look for scratch databases of interrupted recoveries' },
  );
  const dropped: string[] = [];
  for (const [name] of rows) {
    if (!name) continue;
    await dropDatabase(conn, name);
    logger.warn('dropped the scratch database an interrupted recovery left behind', { database: name });
    dropped.push(name);
  }
  return dropped;
}

/**
 * Load a validated backup file into `database` through the gate, checking that the bytes are the
 * ones validated (`expectedSha256`). Aborting `signal` kills psql before it sees an early end.
 */
export async function loadBackupInto(
  conn: PgConnection,
  file: string,
  database: string,
  expectedSha256: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const session = startSession(conn, database, childEnv(conn, database), { answers: false });
  const { child, exited } = session;
  const hasher = new HashingStream();
  // Portable: the scratch copy needs the rows, not the owners and grants of the original.
  const gate = new DumpScanner({ gate: true, portable: true });
  const fed = pipeline(
    createReadStream(file),
    hasher,
    createGunzip(),
    gate,
    child.stdin,
    signal ? { signal } : {},
  ).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  const [feedOutcome, exit] = await Promise.allSettled([fed, exited]);
  if (feedOutcome.status === 'rejected' && feedOutcome.reason instanceof DumpContentError) {
    throw new ValidationError(
      `refusing to load ${file}: ${feedOutcome.reason.message} (the file changed since it was validated)`,
      'backupFile',
      { hint: 'validate the file again with scripts/validate-backup.sh; the live database was not touched' },
    );
  }
  if (signal?.aborted) {
    throw new InterruptedError(
      'the recovery was interrupted while loading the backup into the scratch database',
      {
        hint: 'nothing was written to the live database; run the recovery again',
      },
    );
  }
  if (exit.status === 'rejected') throw exit.reason;
  if (exit.value.spawnError) throw exit.value.spawnError;
  if (exit.value.code !== 0)
    throw translatePgFailure(conn, `loading ${file} into the scratch database ${database}`, session.stderr());
  if (feedOutcome.status === 'rejected') {
    throw new PgCommandError(`reading ${file} failed: ${String(feedOutcome.reason)}`, {
      cause: feedOutcome.reason,
      hint: 'validate the file with scripts/validate-backup.sh and retry; the live database was not touched',
    });
  }
  if (hasher.digest() !== expectedSha256) {
    throw new KbDrError(`${file} changed after it was validated`, {
      hint: 'make sure nothing writes to the backup file and retry; the live database was not touched',
    });
  }
}
