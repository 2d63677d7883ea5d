/**
 * The database operations of a local restore and rollback, each one psql call: what the server
 * holds before a restore or rollback (one query on the maintenance database: the live database's
 * comment and properties, the privileges the swap needs, the databases kb-dr kept or left behind,
 * the roles), the entries of a database (one call into it), create (kb-dr's scratch), drop, and the
 * swap (two renames and the comments in one transaction). Each psql call is a process and a
 * connection (about 20-40 ms of CPU between client and server), so what can be read together is.
 */
import { GuardRailError, KbDrError, ValidationError } from '../../core/errors';
import type { CliLogger } from '../shared/logger';
import { createOptions, databasePropertiesJson, type DatabaseProperties } from './database-properties';
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
  return { exists: true, entries: await countEntries(conn, database) };
}

/**
 * Rows of public.knowledge_entries in `database` (which exists); undefined when the table is
 * missing. One psql call: whether the table exists, then (psql's `\if`) the count. Two
 * statements, not one CASE: PostgreSQL resolves every table a statement names before it runs, so a
 * single query would fail on the very disaster a restore is for (the table dropped).
 */
export async function countEntries(conn: PgConnection, database: string): Promise<number | undefined> {
  const count = await psqlScalar(
    conn,
    [
      "SELECT to_regclass('public.knowledge_entries') IS NOT NULL AS kb_dr_has_entries \\gset",
      '\\if :kb_dr_has_entries',
      'SELECT count(*) FROM public.knowledge_entries;',
      '\\endif',
    ].join('\n'),
    { database, operation: `count the entries of ${database}` },
  );
  return count === undefined ? undefined : Number(count);
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
 */
export async function createScratchDatabase(
  conn: PgConnection,
  name: string,
  like: DatabaseProperties | undefined,
  portable: boolean,
): Promise<void> {
  await createMarkedDatabase(conn, name, SCRATCH_MARKER, like ? createOptions(like, !portable) : '');
}

/**
 * Create `name` (from template0, with `options` for CREATE DATABASE) and give it the comment
 * `marker`, by which kb-dr later knows it as its own. One psql call: each statement still commits
 * on its own (CREATE DATABASE cannot run in a transaction), ON_ERROR_STOP leaves no unmarked
 * database behind a failed CREATE, and the whole script is in psql's input before it runs, so a
 * kill -9 of the CLI alone between the two statements does not stop the COMMENT (a signal to
 * psql itself still can).
 */
export async function createMarkedDatabase(
  conn: PgConnection,
  name: string,
  marker: string,
  options = '',
): Promise<void> {
  await psqlQuery(
    conn,
    `CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0${options ? ` ${options}` : ''};\nCOMMENT ON DATABASE ${quoteIdent(name)} IS ${quoteLiteral(marker)};`,
    { database: conn.maintenanceDatabase, operation: `create database ${name}` },
  );
}

const SCRATCH_MARKER = 'kb-dr scratch database of a restore in progress';

/**
 * Drop the scratch databases of restores of `target` that were killed (kill -9) before they could
 * clean up (`names`: {@link RestoreLook}.leftoverScratch). Safe because the caller holds the
 * restore lock of `target`: no other restore of it is running, and only databases kb-dr marked as
 * its scratch are listed.
 */
export async function dropLeftoverScratch(
  conn: PgConnection,
  names: readonly string[],
  logger: CliLogger,
): Promise<void> {
  for (const name of names) {
    await dropDatabase(conn, name);
    logger.info('dropped the scratch database of an interrupted restore', { database: name });
  }
}

/** A LIKE pattern for the names `target` followed by `suffix` and anything. */
export function namesLike(target: string, suffix: string): string {
  const escape = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);
  return `${escape(target)}${escape(suffix)}%`;
}

/** What the swap needs of the restoring role, read by {@link swapCheckJson}. */
export interface SwapCheck {
  readonly user: string;
  readonly superuser: boolean;
  readonly createdb: boolean;
  readonly signalBackend: boolean;
  /** It owns `target` (or `target` does not exist). */
  readonly owner: boolean;
  /** Sessions on `target` it could not end without pg_signal_backend, as `user, user`; '' if none. */
  readonly others: string;
  /** Sessions on `target` only a superuser can end; '' if none. */
  readonly superSessions: string;
}

/** SQL (maintenance database): the {@link SwapCheck} of `target` as json; null if current_user has no pg_roles row. */
function swapCheckJson(target: string): string {
  const sessionsOf = (who: string) =>
    `coalesce((SELECT string_agg(DISTINCT coalesce(s.usename, s.backend_type), ', ') FROM pg_stat_activity s
       LEFT JOIN pg_roles sr ON sr.oid = s.usesysid
       WHERE s.datname = ${quoteLiteral(target)} AND s.pid <> pg_backend_pid() AND (${who})), '')`;
  return `(SELECT json_build_object(
       'user', current_user, 'superuser', r.rolsuper, 'createdb', r.rolcreatedb,
       'signalBackend', pg_has_role(current_user, 'pg_signal_backend', 'MEMBER'),
       'owner', coalesce((SELECT pg_has_role(current_user, d.datdba, 'MEMBER') FROM pg_database d WHERE d.datname = ${quoteLiteral(target)}), true),
       'others', ${sessionsOf(`s.usesysid IS NULL OR sr.rolsuper OR NOT pg_has_role(current_user, s.usesysid, 'MEMBER')`)},
       'superSessions', ${sessionsOf('s.usesysid IS NULL OR sr.rolsuper')})
     FROM pg_roles r WHERE r.rolname = current_user)`;
}

/**
 * The swap renames the live database (owner with CREATEDB, or superuser) and ends the sessions
 * connected to it (superuser, or pg_signal_backend for other non-superuser roles). Checked before
 * the load, not after it: the refusal, saying exactly what is missing, or undefined.
 */
export function swapRefusal(check: SwapCheck | null, target: string): GuardRailError | undefined {
  if (!check || check.superuser) return undefined;
  const user = quoteIdent(check.user);
  const missing: string[] = [];
  if (!check.owner || !check.createdb)
    missing.push(
      `to rename ${target} it must own it and have CREATEDB (\`ALTER DATABASE ${quoteIdent(target)} OWNER TO ${user}; ALTER ROLE ${user} CREATEDB;\`)`,
    );
  const blocking = check.signalBackend ? check.superSessions : check.others;
  if (blocking)
    missing.push(
      `to end the sessions connected to ${target} (now: ${blocking}) it needs pg_signal_backend (\`GRANT pg_signal_backend TO ${user};\`), and superuser for superuser or autovacuum sessions`,
    );
  if (missing.length === 0) return undefined;
  return new GuardRailError(
    `${check.user} cannot swap the restored database in: ${missing.join('; ')}; nothing was changed`,
    {
      hint: `run the restore as a superuser (${LOCAL_ENV.user}) or grant what is listed`,
    },
  );
}

export interface KeptDatabase {
  readonly name: string;
  readonly marker: KeptMarker;
}

/** SQL (maintenance database): json of the live database `name`: its comment; null if it does not exist. */
function liveDatabaseJson(name: string, withProperties: boolean): string {
  return `(SELECT json_build_object('comment', shobj_description(d.oid, 'pg_database')${
    withProperties ? `, 'properties', ${databasePropertiesJson('d')}` : ''
  }) FROM pg_database d WHERE d.datname = ${quoteLiteral(name)})`;
}

/** One query on the maintenance database whose single row is one json value; that value, parsed. */
async function readJson<T>(
  conn: PgConnection,
  fields: Record<string, string>,
  operation: string,
): Promise<T> {
  const object = Object.entries(fields)
    .map(([key, sql]) => `${quoteLiteral(key)}, ${sql}`)
    .join(',\n  ');
  const json = await psqlScalar(conn, `SELECT json_build_object(\n  ${object});`, {
    database: conn.maintenanceDatabase,
    operation,
  });
  if (json === undefined) {
    throw new KbDrError(`psql printed no answer when asked to ${operation}; nothing was changed`, {
      hint: 'run the command again; if it repeats, check that psql and the server work (psql --version, the server log)',
    });
  }
  return JSON.parse(json) as T;
}

/** What a restore needs to know of the server before it loads anything, read in one query. */
export interface RestoreLook {
  /** The live database; undefined when it does not exist yet. */
  readonly target: { readonly comment: string | null; readonly properties: DatabaseProperties } | undefined;
  /** The name the live database would be kept under is taken. */
  readonly keepTaken: boolean;
  /** The roles of the server; undefined when not asked for (a portable restore needs none). */
  readonly roles: ReadonlySet<string> | undefined;
  /** What the swap needs of the restoring role; null if current_user has no pg_roles row. */
  readonly swap: SwapCheck | null;
  /** kb-dr's scratch databases of killed restores of the target, to drop under the restore lock. */
  readonly leftoverScratch: readonly string[];
}

export async function lookBeforeRestore(
  conn: PgConnection,
  plan: { readonly target: string; readonly keep: string; readonly roles: boolean },
): Promise<RestoreLook> {
  const { target, keep } = plan;
  const look = await readJson<{
    target: RestoreLook['target'] | null;
    keepTaken: boolean;
    roles: string[] | null;
    swap: SwapCheck | null;
    leftoverScratch: string[] | null;
  }>(
    conn,
    {
      target: liveDatabaseJson(target, true),
      keepTaken: `EXISTS (SELECT FROM pg_database WHERE datname = ${quoteLiteral(keep)})`,
      roles: plan.roles ? '(SELECT json_agg(rolname) FROM pg_roles)' : 'NULL',
      swap: swapCheckJson(target),
      leftoverScratch: `(SELECT json_agg(datname ORDER BY datname) FROM pg_database WHERE datname LIKE ${quoteLiteral(namesLike(target, '_restoring_'))} AND shobj_description(oid, 'pg_database') = ${quoteLiteral(SCRATCH_MARKER)})`,
    },
    `look at ${target} and the server before restoring`,
  );
  return {
    target: look.target ?? undefined,
    keepTaken: look.keepTaken,
    roles: plan.roles ? new Set(look.roles ?? []) : undefined,
    swap: look.swap,
    leftoverScratch: look.leftoverScratch ?? [],
  };
}

/** What a rollback needs to know of the server, read in one query. */
export interface RollbackLook {
  /** The databases kb-dr kept when it restored over the live one (marked by their comment), newest first. */
  readonly kept: readonly KeptDatabase[];
  /** `<name>_pre_restore_*` databases kb-dr did not mark (ignored). */
  readonly unmarked: readonly string[];
  /** The live database; undefined when it does not exist. */
  readonly target: { readonly comment: string | null } | undefined;
}

export async function lookBeforeRollback(conn: PgConnection): Promise<RollbackLook> {
  const target = conn.database;
  const look = await readJson<{
    target: { comment: string | null } | null;
    preRestore: { name: string; comment: string | null }[] | null;
  }>(
    conn,
    {
      target: liveDatabaseJson(target, false),
      preRestore: `(SELECT json_agg(json_build_object('name', datname, 'comment', shobj_description(oid, 'pg_database')) ORDER BY datname DESC) FROM pg_database WHERE datname LIKE ${quoteLiteral(namesLike(target, '_pre_restore_'))})`,
    },
    `look at ${target} and the databases kept by kb-dr before rolling back`,
  );
  const kept: KeptDatabase[] = [];
  const unmarked: string[] = [];
  for (const { name, comment } of look.preRestore ?? []) {
    const marker = parseMarker(comment);
    if (marker && marker.kind === 'pre-restore' && marker.database === target) kept.push({ name, marker });
    else unmarked.push(name);
  }
  kept.sort((a, b) => b.marker.keptAt.localeCompare(a.marker.keptAt));
  return { kept, unmarked, target: look.target ?? undefined };
}
