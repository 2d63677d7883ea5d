/**
 * Safe local restore: validate the file (no database touched), confirm, restore into a NEW
 * database, verify it against the dump's own row counts, then swap it in by rename and keep the
 * previous database as `<name>_pre_restore_<timestamp>`. Until the swap, the original database
 * is never written to; any failure drops the half-restored new database and leaves the original
 * serving. `rollbackLocalRestore` swaps the newest kept database back.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { GuardRailError, KbDrError, NotFoundError, ValidationError } from '../../core/errors';
import type { CliLogger } from '../shared/logger';
import { AppCommandError, runAppCommand } from './app-control';
import { acquireRestoreLock } from './lock';
import {
  applyPropertiesSql,
  createOptions,
  readDatabaseProperties,
  type DatabaseProperties,
} from './database-properties';
import {
  LOCAL_ENV,
  childEnv,
  conninfo,
  describeConnection,
  describeServer,
  pgBinary,
  quoteIdent,
  quoteLiteral,
  type PgConnection,
} from './connection';
import { DumpContentError, DumpScanner, HashingStream, KB_SCHEMA } from './dump-scanner';
import { PgCommandError, translatePgFailure, translateSpawnError } from './pg-errors';
import { InterruptedError, psqlQuery, psqlScalar } from './psql';
import { validateBackup, type ValidationReport } from './validate';

const MAX_IDENTIFIER = 63;

/** Asks the operator a yes/no question; resolves true only on an explicit yes. */
export type ConfirmFn = (question: string) => Promise<boolean>;

export interface AppCommands {
  readonly stop?: string | undefined;
  readonly start?: string | undefined;
}

export interface RestoreOptions {
  readonly conn: PgConnection;
  readonly file: string;
  readonly logger: CliLogger;
  readonly confirm: ConfirmFn;
  readonly app?: AppCommands;
  readonly allowSmall?: boolean;
  /**
   * Portable mode, for another server: leave out owners and privileges (the restoring user owns
   * everything; the database ACL and per-role settings are not copied). @default false
   */
  readonly portable?: boolean;
  /** Accept a file without pg_dump's `\restrict` guard (it is still loaded with meta-commands refused). */
  readonly trustedFile?: boolean;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Log progress this often. @default 5000 */
  readonly progressIntervalMs?: number;
  /** Abort (SIGINT/SIGTERM): the load stops, the new database is dropped, production stays. */
  readonly signal?: AbortSignal;
}

export interface RestoreResult {
  readonly database: string;
  /** `user@host:port/database` actually restored into. */
  readonly connection: string;
  readonly backupFile: string;
  readonly entriesRestored: number;
  readonly embeddingCacheRestored: number;
  /** Where the data that was live before the restore is kept (undefined if there was none). */
  readonly previousDatabase: string | undefined;
  readonly durationMs: number;
}

export class RestoreVerificationError extends KbDrError {
  override readonly name = 'RestoreVerificationError';
}

export { InterruptedError } from './psql';

function stamp(date: Date): string {
  // YYYYMMDD_HHMMSS_mmm: lower case, sorts chronologically, unique across quick successive restores.
  const iso = date.toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}_${iso.slice(11, 19).replace(/:/g, '')}_${iso.slice(20, 23)}`;
}

/** The name the previous database is kept under. */
export function preRestoreName(database: string, at: Date): string {
  return `${database}_pre_restore_${stamp(at)}`;
}

function restoreWorkName(database: string, at: Date): string {
  return `${database}_restoring_${stamp(at)}`;
}

function rolledBackName(database: string, at: Date): string {
  return `${database}_rolled_back_${stamp(at)}`;
}

function checkIdentifierLength(names: readonly string[]): void {
  const long = names.find((n) => Buffer.byteLength(n) > MAX_IDENTIFIER);
  if (long) {
    throw new ValidationError(`database name ${long} would exceed PostgreSQL's 63-byte limit`, 'database', {
      hint: `restore into a database with a shorter name (${LOCAL_ENV.database})`,
    });
  }
}

async function databaseExists(conn: PgConnection, name: string): Promise<boolean> {
  const found = await psqlScalar(conn, `SELECT 1 FROM pg_database WHERE datname = ${quoteLiteral(name)};`, {
    database: conn.maintenanceDatabase,
    operation: `look up database ${name}`,
  });
  return found === '1';
}

/** What the live database is, read from the server (never assumed). */
interface LiveState {
  readonly exists: boolean;
  /** Rows of public.knowledge_entries; undefined when the table is missing. */
  readonly entries: number | undefined;
}

async function readLiveState(conn: PgConnection, database: string): Promise<LiveState> {
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

function describeLive(state: LiveState): string {
  if (!state.exists) return 'database does not exist yet';
  return state.entries === undefined ? 'no knowledge_entries table' : `${state.entries} entries`;
}

/**
 * After a failure: look at the live database again and say what is true, comparing with what it
 * was before the restore started. Never claims "untouched" without having looked.
 */
async function checkLiveAfterFailure(
  conn: PgConnection,
  target: string,
  before: LiveState,
  logger: CliLogger,
): Promise<string> {
  let after: LiveState;
  try {
    after = await readLiveState(conn, target);
  } catch (err) {
    const text = `could not check ${target} after the failure (${err instanceof Error ? err.message : String(err)}); check it by hand`;
    logger.error(text, { database: target });
    return text;
  }
  const same = after.exists === before.exists && after.entries === before.entries;
  const text = same
    ? `checked: ${target} is as before the restore (${describeLive(after)})`
    : `WARNING: ${target} changed during the restore: it had ${describeLive(before)}, it now has ${describeLive(after)}`;
  if (same) logger.info(text, { database: target });
  else logger.error(text, { database: target });
  return text;
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

async function databaseComment(conn: PgConnection, name: string): Promise<string | null> {
  const rows = await psqlQuery(
    conn,
    `SELECT shobj_description(oid, 'pg_database') IS NULL, encode(convert_to(coalesce(shobj_description(oid, 'pg_database'), ''), 'UTF8'), 'hex') FROM pg_database WHERE datname = ${quoteLiteral(name)};`,
    { database: conn.maintenanceDatabase, operation: `read the comment of ${name}` },
  );
  const row = rows[0];
  // Hex: a comment may hold newlines, which psql's row output cannot carry.
  return !row || row[0] === 't' ? null : Buffer.from(row[1] ?? '', 'hex').toString('utf8');
}

interface SwapPlan {
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
async function swapDatabases(conn: PgConnection, plan: SwapPlan, logger: CliLogger): Promise<void> {
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

async function dropDatabase(conn: PgConnection, name: string): Promise<void> {
  await psqlQuery(conn, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE);`, {
    database: conn.maintenanceDatabase,
    operation: `drop database ${name}`,
  });
}

async function createLike(
  conn: PgConnection,
  name: string,
  like: DatabaseProperties | undefined,
  portable: boolean,
): Promise<void> {
  const options = like ? ` ${createOptions(like, !portable)}` : '';
  await psqlQuery(conn, `CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0${options};`, {
    database: conn.maintenanceDatabase,
    operation: `create database ${name}`,
  });
  // Marked as kb-dr's scratch database, so a later restore may drop it if this one is killed.
  await psqlQuery(conn, `COMMENT ON DATABASE ${quoteIdent(name)} IS ${quoteLiteral(SCRATCH_MARKER)};`, {
    database: conn.maintenanceDatabase,
    operation: `mark database ${name}`,
  });
}

const SCRATCH_MARKER = 'kb-dr scratch database of a restore in progress';

/**
 * Drop the scratch databases of restores of `target` that were killed (kill -9) before they could
 * clean up. Safe because the caller holds the restore lock of `target`: no other restore of it is
 * running, and only databases kb-dr marked as its scratch are dropped.
 */
async function dropLeftoverScratch(conn: PgConnection, target: string, logger: CliLogger): Promise<void> {
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
async function checkCanSwap(conn: PgConnection, target: string): Promise<void> {
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

/** Refuse (nothing touched) when the dump names roles this server does not have. */
async function checkRolesExist(conn: PgConnection, report: ValidationReport): Promise<void> {
  const roles = report.summary?.roles ?? [];
  if (roles.length === 0) return;
  const rows = await psqlQuery(
    conn,
    `SELECT r FROM unnest(ARRAY[${roles.map(quoteLiteral).join(', ')}]::text[]) AS r WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) ORDER BY 1;`,
    { database: conn.maintenanceDatabase, operation: 'check the roles the backup names' },
  );
  const missing = rows.map((r) => r[0]!).filter(Boolean);
  if (missing.length > 0) {
    throw new ValidationError(
      `the backup gives objects to roles that do not exist on ${describeServer(conn)}: ${missing.join(', ')}; nothing was changed`,
      'backupFile',
      {
        hint: `create them first (e.g. \`CREATE ROLE ${quoteIdent(missing[0]!)};\`), or restore with --portable to drop owners and privileges (the restoring user then owns everything)`,
      },
    );
  }
}

/**
 * Stream the gzipped dump into psql connected to `database`, through the gating scanner: psql gets
 * only statements the scanner classified as harmless (and COPY data), under its own `\restrict`
 * key, so nothing in the file can run a meta-command or reach beyond `database`. Checks the
 * file's hash on the way.
 */
async function loadDump(
  conn: PgConnection,
  file: string,
  database: string,
  expectedSha256: string,
  logger: CliLogger,
  progressIntervalMs: number,
  signal: AbortSignal | undefined,
  portable: boolean,
): Promise<void> {
  const binary = pgBinary(conn, 'psql');
  const child = spawn(
    binary,
    ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', conninfo(conn, database), '-f', '-'],
    {
      env: childEnv(conn, database),
      stdio: ['pipe', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 65536) stderr += d;
  });
  const exited = new Promise<number | null>((resolveExit, reject) => {
    child.on('error', (err) => reject(translateSpawnError(binary, err)));
    child.on('close', (code) => resolveExit(code));
  });
  const hasher = new HashingStream();
  const gate = new DumpScanner({ gate: true, portable });
  const progress = setInterval(
    () => logger.info('restore in progress', { readMegabytes: Math.round(hasher.bytes / 1e5) / 10 }),
    progressIntervalMs,
  );
  progress.unref();
  try {
    const fed = pipeline(
      createReadStream(file),
      hasher,
      createGunzip(),
      gate,
      child.stdin,
      signal ? { signal } : {},
    ).catch((err: unknown) => {
      // psql runs what it already has at end of input: stop it before it sees an early EOF.
      child.kill('SIGKILL');
      throw err;
    });
    const [feedOutcome, exit] = await Promise.allSettled([fed, exited]);
    if (feedOutcome.status === 'rejected' && feedOutcome.reason instanceof DumpContentError) {
      throw new ValidationError(
        `refusing to load ${file}: ${feedOutcome.reason.message} (the file changed since it was validated)`,
        'backupFile',
        { hint: 'validate the file again with scripts/validate-backup.sh' },
      );
    }
    if (signal?.aborted) {
      throw new InterruptedError('the restore was interrupted while loading', {
        hint: 'run the restore again',
      });
    }
    if (exit.status === 'rejected') throw exit.reason;
    if (exit.value !== 0) throw translatePgFailure(conn, `loading the dump into ${database}`, stderr);
    if (feedOutcome.status === 'rejected') {
      throw new PgCommandError(`reading ${file} failed during the restore: ${String(feedOutcome.reason)}`, {
        cause: feedOutcome.reason,
        hint: 'validate the file with scripts/validate-backup.sh and retry',
      });
    }
  } finally {
    clearInterval(progress);
  }
  if (hasher.digest() !== expectedSha256) {
    throw new RestoreVerificationError(`${file} changed after it was validated`, {
      hint: 'make sure nothing writes to the backup file and retry',
    });
  }
}

async function verifyRestored(
  conn: PgConnection,
  database: string,
  report: ValidationReport,
  signal: AbortSignal | undefined,
): Promise<void> {
  const entries = `${quoteIdent(KB_SCHEMA)}.${quoteIdent('knowledge_entries')}`;
  const cache = `${quoteIdent(KB_SCHEMA)}.${quoteIdent('embedding_cache')}`;
  const rows = await psqlQuery(
    conn,
    `SELECT (SELECT count(*) FROM ${entries}), (SELECT count(*) FROM ${cache}), (SELECT count(*) FROM (SELECT * FROM ${entries} LIMIT 1) AS sample);`,
    { database, operation: `verify the restored database ${database}`, signal },
  );
  const [entryCount, cacheCount, sample] = (rows[0] ?? []).map(Number);
  const expectedEntries = report.entryCount ?? 0;
  const expectedCache = report.embeddingCacheCount ?? 0;
  if (entryCount !== expectedEntries || cacheCount !== expectedCache) {
    throw new RestoreVerificationError(
      `the restored database has ${entryCount} entries and ${cacheCount} cache rows, the backup ${expectedEntries} and ${expectedCache}`,
      { hint: 'validate the backup and retry' },
    );
  }
  if (sample !== Math.min(1, expectedEntries)) {
    throw new RestoreVerificationError('the sample query on the restored knowledge_entries returned no row', {
      hint: 'validate the backup and retry',
    });
  }
}

/** The same error, its hint extended by what was checked on the live database. */
function withLiveState(err: KbDrError, live: string): KbDrError {
  const hint = err.hint ? `${err.hint}; ${live}` : live;
  Object.defineProperty(err, 'hint', { value: hint });
  return err;
}

/** Restore `options.file` over `options.conn.database`; see the module comment. */
export async function restoreLocalBackup(options: RestoreOptions): Promise<RestoreResult> {
  const { conn, logger } = options;
  const started = Date.now();
  const file = resolve(options.file);
  const at = (options.now ?? (() => new Date()))();
  const target = conn.database;
  const work = restoreWorkName(target, at);
  const keep = preRestoreName(target, at);
  checkIdentifierLength([work, keep]);

  // 1. The file, before any database.
  const report = await validateBackup({
    file,
    logger,
    allowSmall: options.allowSmall ?? false,
    trustedFile: options.trustedFile ?? false,
  });
  if (!report.valid) {
    const failed = report.checks.filter((c) => !c.ok);
    throw new ValidationError(
      `refusing to restore ${file}: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`,
      'backupFile',
      {
        hint: 'no database was touched; pick another backup (ls the backup folder) and check it with scripts/validate-backup.sh',
      },
    );
  }

  // 2. Read-only look at the server, then the operator's go-ahead.
  if (target === conn.maintenanceDatabase) {
    throw new ValidationError(`refusing to restore over the maintenance database ${target}`, 'database', {
      hint: `set ${LOCAL_ENV.database} to the Knowledge Base database`,
    });
  }
  const lock = await acquireRestoreLock(conn, target);
  try {
    return await restoreLocked(options, { file, report, target, work, keep, at, started });
  } finally {
    await lock.release();
  }
}

interface RestorePlan {
  readonly file: string;
  readonly report: ValidationReport;
  readonly target: string;
  readonly work: string;
  readonly keep: string;
  readonly at: Date;
  readonly started: number;
}

async function restoreLocked(options: RestoreOptions, plan: RestorePlan): Promise<RestoreResult> {
  const { conn, logger } = options;
  const { file, report, target, work, keep, at, started } = plan;
  const before = await readLiveState(conn, target);
  const targetExists = before.exists;
  const targetComment = targetExists ? await databaseComment(conn, target) : null;
  const props = targetExists ? await readDatabaseProperties(conn, target) : undefined;
  const portable = options.portable ?? false;
  if (!portable) await checkRolesExist(conn, report);
  await checkCanSwap(conn, target);
  if (await databaseExists(conn, keep)) {
    throw new GuardRailError(`database ${keep} already exists`, { hint: 'wait a second and retry' });
  }
  const question =
    `Replace database ${target} on ${describeServer(conn)} (${describeLive(before)}) with ${file} ` +
    `(${report.entryCount} entries)? ` +
    (targetExists ? `The current database will be kept as ${keep}.` : '');
  if (!(await options.confirm(question))) {
    throw new GuardRailError('restore cancelled; nothing was changed', {
      hint: 'run it again and answer y to restore',
    });
  }
  await dropLeftoverScratch(conn, target, logger);

  // 3. Restore into a new database; the original is not touched until the swap.
  logger.info('restoring into a new database', { database: describeConnection(conn, work), file });
  const { signal } = options;
  const stopIfAborted = () => {
    if (signal?.aborted) {
      throw new InterruptedError('the restore was interrupted before the swap', {
        hint: 'run the restore again when you are ready',
      });
    }
  };
  // The application may have been (partly) stopped as soon as its stop command started.
  let appMayBeStopped = false;
  try {
    stopIfAborted();
    await createLike(conn, work, props, portable);
    await loadDump(
      conn,
      file,
      work,
      report.sha256!,
      logger,
      options.progressIntervalMs ?? 5000,
      signal,
      portable,
    );
    stopIfAborted();
    await verifyRestored(conn, work, report, signal);
    logger.info('restored database verified', { database: work, entries: report.entryCount });
    // Settings and ACL only now: a setting such as default_transaction_read_only would stop the load.
    const apply = props ? applyPropertiesSql(work, props, portable) : '';
    if (apply) {
      await psqlQuery(conn, apply, {
        database: conn.maintenanceDatabase,
        operation: `give ${work} the settings and privileges of ${target}`,
        signal,
      });
    }

    // 4. Swap, with the application stopped only for the swap itself.
    if (options.app?.stop) {
      appMayBeStopped = true;
      await runAppCommand(options.app.stop, 'stop', LOCAL_ENV.appStopCommand, logger);
    }
    // A signal during the stop command: start the application again, production stays as it was.
    stopIfAborted();
    await swapDatabases(
      conn,
      {
        target,
        replacement: work,
        setAsideAs: targetExists ? keep : undefined,
        setAsideComment: markerComment({
          kind: 'pre-restore',
          database: target,
          keptAt: at.toISOString(),
          replacedBy: file,
          comment: targetComment,
        }),
        targetComment,
      },
      logger,
    );
  } catch (err) {
    logger.error('restore failed; dropping the new database', {
      database: work,
      error: err instanceof Error ? err.message : String(err),
    });
    await dropDatabase(conn, work).catch((dropErr: unknown) =>
      logger.error('could not drop the half-restored database; drop it by hand', {
        database: work,
        error: dropErr instanceof Error ? dropErr.message : String(dropErr),
      }),
    );
    if (appMayBeStopped && options.app?.start) {
      await runAppCommand(options.app.start, 'start', LOCAL_ENV.appStartCommand, logger).catch(
        (startErr: unknown) =>
          logger.error('could not start the application again; start it by hand', {
            error: startErr instanceof Error ? startErr.message : String(startErr),
          }),
      );
    }
    const live = await checkLiveAfterFailure(conn, target, before, logger);
    if (err instanceof KbDrError) throw withLiveState(err, live);
    throw err;
  }
  if (options.app?.start) {
    try {
      await runAppCommand(options.app.start, 'start', LOCAL_ENV.appStartCommand, logger);
    } catch (err) {
      throw new AppCommandError(`the restore succeeded but ${(err as Error).message}`, {
        cause: err,
        hint: `start the application by hand; the previous data is kept as ${keep}`,
      });
    }
  }

  const result: RestoreResult = {
    database: target,
    connection: describeConnection(conn),
    backupFile: file,
    entriesRestored: report.entryCount ?? 0,
    embeddingCacheRestored: report.embeddingCacheCount ?? 0,
    previousDatabase: targetExists ? keep : undefined,
    durationMs: Date.now() - started,
  };
  logger.info('restore complete', { ...result });
  return result;
}

export interface RollbackOptions {
  readonly conn: PgConnection;
  readonly logger: CliLogger;
  readonly confirm: ConfirmFn;
  readonly app?: AppCommands;
  /** Abort (SIGINT/SIGTERM) before the swap: the application is started again, nothing changes. */
  readonly signal?: AbortSignal;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export interface RollbackResult {
  readonly database: string;
  /** The kept database that is now live again. */
  readonly restoredFrom: string;
  /** When the restore that kept it set it aside. */
  readonly keptAt: string;
  /** Where the data that was live before the rollback is kept (undefined if there was none). */
  readonly setAsideAs: string | undefined;
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

/** Put back the newest database kb-dr kept; the current one is kept as `<name>_rolled_back_*`. */
export async function rollbackLocalRestore(options: RollbackOptions): Promise<RollbackResult> {
  const { conn } = options;
  const target = conn.database;
  const setAside = rolledBackName(target, (options.now ?? (() => new Date()))());
  checkIdentifierLength([setAside]);
  const lock = await acquireRestoreLock(conn, target);
  try {
    return await rollbackLocked(options, setAside);
  } finally {
    await lock.release();
  }
}

async function rollbackLocked(options: RollbackOptions, setAside: string): Promise<RollbackResult> {
  const { conn, logger } = options;
  const target = conn.database;
  const at = (options.now ?? (() => new Date()))();
  const { kept: candidates, unmarked } = await listPreRestoreDatabases(conn);
  const kept = candidates[0];
  if (!kept) {
    throw new NotFoundError(
      `no database kept by a kb-dr restore of ${target} on ${describeServer(conn)}; nothing to roll back` +
        (unmarked.length > 0 ? ` (${unmarked.join(', ')}: not marked by kb-dr, ignored)` : ''),
      {
        hint: 'a rollback needs a previous restore; to go back further, restore an older backup file',
      },
    );
  }
  const keptState = await readLiveState(conn, kept.name);
  const current = await readLiveState(conn, target);
  const currentComment = current.exists ? await databaseComment(conn, target) : null;
  const question =
    `Roll ${target} on ${describeServer(conn)} (${describeLive(current)}) back to ${kept.name}: ` +
    `the ${target} kept at ${kept.marker.keptAt} before restoring ${kept.marker.replacedBy} (${describeLive(keptState)})? ` +
    (current.exists ? `The current ${target} will be kept as ${setAside}.` : '');
  if (!(await options.confirm(question))) {
    throw new GuardRailError('rollback cancelled; nothing was changed', {
      hint: 'run it again and answer y to roll back',
    });
  }
  let appMayBeStopped = false;
  try {
    if (options.app?.stop) {
      appMayBeStopped = true;
      await runAppCommand(options.app.stop, 'stop', LOCAL_ENV.appStopCommand, logger);
    }
    if (options.signal?.aborted) {
      throw new InterruptedError('the rollback was interrupted before the swap; nothing was changed', {
        hint: 'run the rollback again when you are ready',
      });
    }
    await swapDatabases(
      conn,
      {
        target,
        replacement: kept.name,
        setAsideAs: current.exists ? setAside : undefined,
        setAsideComment: markerComment({
          kind: 'rolled-back',
          database: target,
          keptAt: at.toISOString(),
          replacedBy: kept.name,
          comment: currentComment,
        }),
        targetComment: kept.marker.comment,
      },
      logger,
    );
  } finally {
    if (appMayBeStopped && options.app?.start) {
      await runAppCommand(options.app.start, 'start', LOCAL_ENV.appStartCommand, logger);
    }
  }
  const result: RollbackResult = {
    database: target,
    restoredFrom: kept.name,
    keptAt: kept.marker.keptAt,
    setAsideAs: current.exists ? setAside : undefined,
  };
  logger.info('rollback complete', { ...result });
  return result;
}
