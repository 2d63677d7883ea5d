/**
 * The database operations of a local restore and rollback, each one psql call on the
 * maintenance database: exists, create (kb-dr's scratch), drop, swap (two renames and the
 * comments in one transaction), list the databases kb-dr kept, and the checks the swap needs.
 */
import { GuardRailError, KbDrError, ValidationError } from '../../core/errors';
import type { CliLogger } from '../shared/logger';
import { createOptions, type DatabaseProperties } from './database-properties';
import { LOCAL_ENV, quoteIdent, quoteLiteral, type PgConnection } from './connection';
import { psqlQuery, psqlScalar } from './psql';

const MAX_IDENTIFIER = 63;

function stamp(date: Date): string {
  // YYYYMMDD_HHMMSS_mmm: lower case, sorts chronologically, unique across quick successive restores.
  const iso = date.toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}_${iso.slice(11, 19).replace(/:/g, '')}_${iso.slice(20, 23)}`;
}

/** The name the previous database is kept under. */
export function preRestoreName(database: string, at: Date): string {
  return `${database}_pre_restore_${stamp(at)}`;
}

export function restoreWorkName(database: string, at: Date): string {
  return `${database}_restoring_${stamp(at)}`;
}

export function rolledBackName(database: string, at: Date): string {
  return `${database}_rolled_back_${stamp(at)}`;
}

export function checkIdentifierLength(names: readonly string[]): void {
  const long = names.find((n) => Buffer.byteLength(n) > MAX_IDENTIFIER);
  if (long) {
    throw new ValidationError(`database name ${long} would exceed PostgreSQL's 63-byte limit`, 'database', {
      hint: `restore into a database with a shorter name (${LOCAL_ENV.database})`,
    });
  }
}

export async function databaseExists(conn: PgConnection, name: string): Promise<boolean> {
  const found = await psqlScalar(conn, `SELECT 1 FROM pg_database WHERE datname = ${quoteLiteral(name)};`, {
    database: conn.maintenanceDatabase,
    operation: `look up database ${name}`,
  });
  return found === '1';
}

/** What the live database is, read from the server (never assumed). */
export interface LiveState {
  readonly exists: boolean;
  /** Rows of public.knowledge_entries; undefined when the table is missing. */
  readonly entries: number | undefined;
}

export async function readLiveState(conn: PgConnection, database: string): Promise<LiveState> {
  if (!(await databaseExists(conn, database))) return { exists: false, entries: undefined };
  // Two statements, not one CASE: PostgreSQL resolves every table a statement names before it runs,
  // so a single query would fail on the very disaster a restore is for (the table dropped).
  const exists = await psqlScalar(conn, "SELECT to_regclass('public.knowledge_entries') IS NOT NULL;", {
    database,
    operation: 'look up the current knowledge_entries table',
  });
  if (exists !== 't') return { exists: true, entries: undefined };
  const count = await psqlScalar(conn, 'SELECT count(*) FROM public.knowledge_entries;', {
    database,
    operation: 'count current entries',
  });
  return { exists: true, entries: count === undefined ? undefined : Number(count) };
}

export function describeLive(state: LiveState): string {
  if (!state.exists) return 'database does not exist yet';
  return state.entries === undefined ? 'no knowledge_entries table' : `${state.entries} entries`;
}

/** What kb-dr writes as the comment of a database it keeps aside; rollback trusts only these. */
export interface KeptMarker {
  readonly kind: 'pre-restore' | 'rolled-back';
  /** The live database it was. */
  readonly database: string;
  /** ISO time it was set aside. */
  readonly keptAt: string;
  /** Why: the backup file restored over it, or the database rolled back to. */
  readonly replacedBy: string;
  /** Its own comment before it was set aside (put back if it becomes live again). */
  readonly comment: string | null;
}

export const MARKER_PREFIX = 'kb-dr kept database ';

export function markerComment(marker: KeptMarker): string {
  return `${MARKER_PREFIX}${JSON.stringify(marker)}`;
}

/** The marker in a database comment, or undefined when kb-dr did not write it. */
export function parseMarker(comment: string | null | undefined): KeptMarker | undefined {
  if (!comment?.startsWith(MARKER_PREFIX)) return undefined;
  try {
    const m = JSON.parse(comment.slice(MARKER_PREFIX.length)) as Partial<KeptMarker>;
    if (
      (m.kind === 'pre-restore' || m.kind === 'rolled-back') &&
      typeof m.database === 'string' &&
      typeof m.keptAt === 'string' &&
      typeof m.replacedBy === 'string' &&
      (m.comment === null || typeof m.comment === 'string')
    ) {
      return m as KeptMarker;
    }
  } catch {
    // not ours
  }
  return undefined;
}

export async function databaseComment(conn: PgConnection, name: string): Promise<string | null> {
  const rows = await psqlQuery(
    conn,
    `SELECT shobj_description(oid, 'pg_database') IS NULL, encode(convert_to(coalesce(shobj_description(oid, 'pg_database'), ''), 'UTF8'), 'hex') FROM pg_database WHERE datname = ${quoteLiteral(name)};`,
    { database: conn.maintenanceDatabase, operation: `read the comment of ${name}` },
  );
  const row = rows[0];
  // Hex: a comment may hold newlines, which psql's row output cannot carry.
  return !row || row[0] === 't' ? null : Buffer.from(row[1] ?? '', 'hex').toString('utf8');
}

export interface SwapPlan {
  readonly target: string;
  readonly replacement: string;
  /** Name for the current `target`; undefined when it does not exist. */
  readonly setAsideAs: string | undefined;
  /** Comment of the set-aside database (kb-dr's marker). */
  readonly setAsideComment: string | undefined;
  /** Comment `target` carries after the swap. */
  readonly targetComment: string | null;
}

/** Rename `target` away (if it exists) and `replacement` into its place, in one transaction. */
export async function swapDatabases(conn: PgConnection, plan: SwapPlan, logger: CliLogger): Promise<void> {
  const { target, replacement, setAsideAs } = plan;
  // ALTER DATABASE ... RENAME refuses while any other session is connected to the database, and
  // application pools keep idle connections open. Terminating them inside the same transaction
  // makes the swap atomic: the renames wait (up to 5 s, in PostgreSQL) for those sessions to exit,
  // and clients that reconnect by name land on the restored database. The comments (kb-dr's
  // marker on the kept database, the original comment on the live one) change in the same
  // transaction, so a kept database is never unmarked.
  const sql = [
    'BEGIN;',
    ...(setAsideAs
      ? [
          `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname IN (${quoteLiteral(target)}, ${quoteLiteral(replacement)}) AND pid <> pg_backend_pid();`,
          `ALTER DATABASE ${quoteIdent(target)} RENAME TO ${quoteIdent(setAsideAs)};`,
        ]
      : [
          `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = ${quoteLiteral(replacement)} AND pid <> pg_backend_pid();`,
        ]),
    `ALTER DATABASE ${quoteIdent(replacement)} RENAME TO ${quoteIdent(target)};`,
    ...(setAsideAs && plan.setAsideComment !== undefined
      ? [`COMMENT ON DATABASE ${quoteIdent(setAsideAs)} IS ${quoteLiteral(plan.setAsideComment)};`]
      : []),
    `COMMENT ON DATABASE ${quoteIdent(target)} IS ${plan.targetComment === null ? 'NULL' : quoteLiteral(plan.targetComment)};`,
    'COMMIT;',
  ].join('\n');
  for (let attempt = 1; ; attempt += 1) {
    try {
      const rows = await psqlQuery(conn, sql, {
        database: conn.maintenanceDatabase,
        operation: `swap database ${replacement} into ${target}`,
      });
      logger.info('databases swapped', {
        database: target,
        from: replacement,
        keptAs: setAsideAs,
        terminatedSessions: rows[0]?.[0],
      });
      return;
    } catch (err) {
      // A client reconnecting between the terminate and the rename: try again a few times.
      if (attempt < 3 && err instanceof KbDrError && /being accessed by other users/.test(err.message)) {
        logger.warn('sessions reconnected during the swap; retrying', { attempt });
        continue;
      }
      throw err;
    }
  }
}

export async function dropDatabase(conn: PgConnection, name: string): Promise<void> {
  await psqlQuery(conn, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE);`, {
    database: conn.maintenanceDatabase,
    operation: `drop database ${name}`,
  });
}

/**
 * Create `name` like the live database (encoding, collation, owner unless portable), marked by its
 * comment as kb-dr's scratch database, so a later restore may drop it if this one is killed.
 * One psql call: each statement still commits on its own (CREATE DATABASE cannot run in a
 * transaction), and ON_ERROR_STOP leaves no unmarked database behind a failed CREATE.
 */
export async function createScratchDatabase(
  conn: PgConnection,
  name: string,
  like: DatabaseProperties | undefined,
  portable: boolean,
): Promise<void> {
  const options = like ? ` ${createOptions(like, !portable)}` : '';
  await psqlQuery(
    conn,
    `CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0${options};\nCOMMENT ON DATABASE ${quoteIdent(name)} IS ${quoteLiteral(SCRATCH_MARKER)};`,
    { database: conn.maintenanceDatabase, operation: `create database ${name}` },
  );
}

const SCRATCH_MARKER = 'kb-dr scratch database of a restore in progress';

/**
 * Drop the scratch databases of restores of `target` that were killed (kill -9) before they could
 * clean up. Safe because the caller holds the restore lock of `target`: no other restore of it is
 * running, and only databases kb-dr marked as its scratch are dropped.
 */
export async function dropLeftoverScratch(
  conn: PgConnection,
  target: string,
  logger: CliLogger,
): Promise<void> {
  const pattern = `${target.replace(/[\\%_]/g, (c) => `\\${c}`)}\\_restoring\\_%`;
  const rows = await psqlQuery(
    conn,
    `SELECT datname FROM pg_database WHERE datname LIKE ${quoteLiteral(pattern)} AND shobj_description(oid, 'pg_database') = ${quoteLiteral(SCRATCH_MARKER)};`,
    { database: conn.maintenanceDatabase, operation: 'look for scratch databases of interrupted restores' },
  );
  for (const [name] of rows) {
    if (!name) continue;
    await dropDatabase(conn, name);
    logger.info('dropped the scratch database of an interrupted restore', { database: name });
  }
}

/**
 * The swap renames the live database (owner with CREATEDB, or superuser) and ends the sessions
 * connected to it (superuser, or pg_signal_backend for other non-superuser roles). Check that
 * before the load, not after it, and say exactly what is missing.
 */
export async function checkCanSwap(conn: PgConnection, target: string): Promise<void> {
  const row = (
    await psqlQuery(
      conn,
      `SELECT current_user, r.rolsuper, r.rolcreatedb, pg_has_role(current_user, 'pg_signal_backend', 'MEMBER'),
              coalesce((SELECT pg_has_role(current_user, d.datdba, 'MEMBER') FROM pg_database d WHERE d.datname = ${quoteLiteral(target)}), true),
              coalesce((SELECT string_agg(DISTINCT coalesce(s.usename, s.backend_type), ', ') FROM pg_stat_activity s
                 LEFT JOIN pg_roles sr ON sr.oid = s.usesysid
                 WHERE s.datname = ${quoteLiteral(target)} AND s.pid <> pg_backend_pid()
                   AND (s.usesysid IS NULL OR sr.rolsuper OR NOT pg_has_role(current_user, s.usesysid, 'MEMBER'))), ''),
              coalesce((SELECT string_agg(DISTINCT coalesce(s.usename, s.backend_type), ', ') FROM pg_stat_activity s
                 LEFT JOIN pg_roles sr ON sr.oid = s.usesysid
                 WHERE s.datname = ${quoteLiteral(target)} AND s.pid <> pg_backend_pid()
                   AND (s.usesysid IS NULL OR sr.rolsuper)), '')
         FROM pg_roles r WHERE r.rolname = current_user;`,
      { database: conn.maintenanceDatabase, operation: 'check the privileges the swap needs' },
    )
  )[0];
  if (!row) return;
  const [user, superuser, createdb, signalBackend, owner, others, superSessions] = row;
  if (superuser === 't') return;
  const missing: string[] = [];
  if (owner !== 't' || createdb !== 't')
    missing.push(
      `to rename ${target} it must own it and have CREATEDB (\`ALTER DATABASE ${quoteIdent(target)} OWNER TO ${quoteIdent(user!)}; ALTER ROLE ${quoteIdent(user!)} CREATEDB;\`)`,
    );
  const blocking = signalBackend === 't' ? superSessions : others;
  if (blocking)
    missing.push(
      `to end the sessions connected to ${target} (now: ${blocking}) it needs pg_signal_backend (\`GRANT pg_signal_backend TO ${quoteIdent(user!)};\`), and superuser for superuser or autovacuum sessions`,
    );
  if (missing.length > 0) {
    throw new GuardRailError(
      `${user} cannot swap the restored database in: ${missing.join('; ')}; nothing was changed`,
      {
        hint: `run the restore as a superuser (${LOCAL_ENV.user}) or grant what is listed`,
      },
    );
  }
}

export interface KeptDatabase {
  readonly name: string;
  readonly marker: KeptMarker;
}

/**
 * The databases kb-dr kept when it restored over `conn.database` (marked by their comment),
 * newest first, and the `<name>_pre_restore_*` names it did not mark (ignored).
 */
export async function listPreRestoreDatabases(
  conn: PgConnection,
): Promise<{ kept: KeptDatabase[]; unmarked: string[] }> {
  const pattern = `${conn.database.replace(/[\\%_]/g, (c) => `\\${c}`)}\\_pre\\_restore\\_%`;
  const rows = await psqlQuery(
    conn,
    `SELECT datname, shobj_description(oid, 'pg_database') IS NULL, coalesce(replace(replace(shobj_description(oid, 'pg_database'), E'\\n', ' '), E'\\x1f', ' '), '') FROM pg_database WHERE datname LIKE ${quoteLiteral(pattern)} ORDER BY datname DESC;`,
    { database: conn.maintenanceDatabase, operation: 'list kept pre-restore databases' },
  );
  const kept: KeptDatabase[] = [];
  const unmarked: string[] = [];
  for (const [name, isNull, comment] of rows) {
    if (!name) continue;
    const marker = isNull === 't' ? undefined : parseMarker(comment);
    if (marker && marker.kind === 'pre-restore' && marker.database === conn.database)
      kept.push({ name, marker });
    else unmarked.push(name);
  }
  kept.sort((a, b) => b.marker.keptAt.localeCompare(a.marker.keptAt));
  return { kept, unmarked };
}

/** The roles this server has (a restore that keeps owners and grants needs each the dump names). */
export async function serverRoles(conn: PgConnection): Promise<Set<string>> {
  const rows = await psqlQuery(conn, 'SELECT rolname FROM pg_roles;', {
    database: conn.maintenanceDatabase,
    operation: 'list the roles of the server',
  });
  return new Set(rows.map((r) => r[0] ?? '').filter(Boolean));
}
