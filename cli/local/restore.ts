/**
 * Safe local restore: load the file into a NEW scratch database in one pass that also validates
 * it (checksum, gzip, pg_dump structure, content: load-dump.ts), verify the rows against the
 * dump's own counts, ask, then swap it in by rename and keep the previous database as
 * `<name>_pre_restore_<timestamp>`. Until the swap the live database is never written to; any
 * failure or refusal drops the scratch database and leaves the live one serving.
 * `rollbackLocalRestore` swaps the newest kept database back. Both swap inside one
 * "application stopped" bracket (KB_APP_STOP_COMMAND / KB_APP_START_COMMAND).
 *
 * Order: what needs no read of the file (readable, its `.sha256`, size, the lock, the live
 * database, the privileges the swap needs) is checked first; the refusals that need the whole
 * file (checksum, content, missing roles) come from the load's own pass and are decided before
 * psql's outcome and before the operator is asked, so the question comes with verified counts.
 */
import { resolve } from 'node:path';
import { GuardRailError, KbDrError, NotFoundError, ValidationError } from '../../core/errors';
import type { CliLogger } from '../shared/logger';
import { AppCommandError, runAppCommand } from './app-control';
import { LOCAL_ENV, describeConnection, describeServer, quoteIdent, type PgConnection } from './connection';
import {
  checkIdentifierLength,
  countEntries,
  createScratchDatabase,
  describeLive,
  dropDatabase,
  dropLeftoverScratch,
  lookBeforeRestore,
  lookBeforeRollback,
  markerComment,
  preRestoreName,
  readLiveState,
  restoreWorkName,
  rolledBackName,
  swapDatabases,
  swapRefusal,
  type LiveState,
} from './databases';
import { applyPropertiesSql } from './database-properties';
import { loadDump, verifyRestored } from './load-dump';
import { acquireRestoreLock } from './lock';
import { InterruptedError, psqlQuery } from './psql';
import { checkFile, type ValidationReport } from './validate';

export {
  MARKER_PREFIX,
  markerComment,
  parseMarker,
  preRestoreName,
  type KeptDatabase,
  type KeptMarker,
} from './databases';
export { RestoreVerificationError } from './load-dump';
export { InterruptedError } from './psql';

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
  /** Size of the backup file read (compressed). */
  readonly fileBytes: number;
  /** Size of the SQL it holds. */
  readonly sqlBytes: number;
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

/** The same error, its hint extended by what was checked on the live database. */
function withLiveState(err: KbDrError, live: string): KbDrError {
  const hint = err.hint ? `${err.hint}; ${live}` : live;
  Object.defineProperty(err, 'hint', { value: hint });
  return err;
}

/** The refusal of a file the pass found invalid: every failed check, as `validate` prints them. */
function refusal(file: string, report: ValidationReport): ValidationError {
  const failed = report.checks.filter((c) => !c.ok);
  return new ValidationError(
    `refusing to restore ${file}: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`,
    'backupFile',
    {
      hint: 'the live database was not touched; pick another backup (ls the backup folder) and check it with scripts/validate-backup.sh',
    },
  );
}

/**
 * The "application stopped" bracket of a swap: run the stop command (if configured), then `body`.
 * On failure the application is started again (a failure to start is logged, the original error
 * thrown); on success it is started, and a failure to start is `startFailed`'s error.
 */
export async function withApplicationStopped<T>(
  app: AppCommands | undefined,
  logger: CliLogger,
  body: () => Promise<T>,
  startFailed: (err: unknown) => KbDrError,
): Promise<T> {
  let mayBeStopped = false;
  let result: T;
  try {
    if (app?.stop) {
      // The application may be (partly) stopped as soon as its stop command starts.
      mayBeStopped = true;
      await runAppCommand(app.stop, 'stop', LOCAL_ENV.appStopCommand, logger);
    }
    result = await body();
  } catch (err) {
    if (mayBeStopped && app?.start) {
      await runAppCommand(app.start, 'start', LOCAL_ENV.appStartCommand, logger).catch((startErr: unknown) =>
        logger.error('could not start the application again; start it by hand', {
          error: startErr instanceof Error ? startErr.message : String(startErr),
        }),
      );
    }
    throw err;
  }
  if (app?.start) {
    try {
      await runAppCommand(app.start, 'start', LOCAL_ENV.appStartCommand, logger);
    } catch (err) {
      throw startFailed(err);
    }
  }
  return result;
}

/** Restore `options.file` over `options.conn.database`; see the module comment. */
export async function restoreLocalBackup(options: RestoreOptions): Promise<RestoreResult> {
  const { conn } = options;
  const started = Date.now();
  const file = resolve(options.file);
  const at = (options.now ?? (() => new Date()))();
  const target = conn.database;
  const work = restoreWorkName(target, at);
  const keep = preRestoreName(target, at);
  checkIdentifierLength([work, keep]);

  // 1. The file, as far as it can be checked without reading it through; no database touched.
  const pre = await checkFile({ file, allowSmall: options.allowSmall ?? false });
  const early = [pre.readable, ...(pre.checksum ? [pre.checksum] : []), pre.size].filter((c) => !c.ok);
  if (early.length > 0) {
    throw new ValidationError(
      `refusing to restore ${file}: ${early.map((c) => `${c.name}: ${c.detail}`).join('; ')}`,
      'backupFile',
      {
        hint: 'no database was touched; pick another backup (ls the backup folder) and check it with scripts/validate-backup.sh',
      },
    );
  }
  if (target === conn.maintenanceDatabase) {
    throw new ValidationError(`refusing to restore over the maintenance database ${target}`, 'database', {
      hint: `set ${LOCAL_ENV.database} to the Knowledge Base database`,
    });
  }
  const lock = await acquireRestoreLock(conn, target);
  try {
    return await restoreLocked(
      { ...options, conn: lock.conn },
      { file, pre, target, work, keep, at, started },
    );
  } finally {
    await lock.release();
  }
}

interface RestorePlan {
  readonly file: string;
  readonly pre: Awaited<ReturnType<typeof checkFile>>;
  readonly target: string;
  readonly work: string;
  readonly keep: string;
  readonly at: Date;
  readonly started: number;
}

async function restoreLocked(options: RestoreOptions, plan: RestorePlan): Promise<RestoreResult> {
  const { conn, logger, signal } = options;
  const { file, pre, target, work, keep, at, started } = plan;
  const portable = options.portable ?? false;

  // 2. Read-only look at the server: one query on the maintenance database, then the live
  // database's entries (one call into it).
  const look = await lookBeforeRestore(conn, { target, keep, roles: !portable });
  const before: LiveState = look.target
    ? { exists: true, entries: await countEntries(conn, target) }
    : { exists: false, entries: undefined };
  const targetExists = before.exists;
  const targetComment = look.target?.comment ?? null;
  const props = look.target?.properties;
  const knownRoles = look.roles;
  const cannotSwap = swapRefusal(look.swap, target);
  if (cannotSwap) throw cannotSwap;
  if (look.keepTaken) {
    throw new GuardRailError(`database ${keep} already exists`, { hint: 'wait a second and retry' });
  }
  await dropLeftoverScratch(conn, look.leftoverScratch, logger);

  // 3. Load into a new database, validating the file in the same pass; the live one is not touched.
  logger.info('restoring into a new database', { database: describeConnection(conn, work), file });
  const stopIfAborted = () => {
    if (signal?.aborted) {
      throw new InterruptedError('the restore was interrupted before the swap', {
        hint: 'run the restore again when you are ready',
      });
    }
  };
  let report: ValidationReport | undefined;
  let bytesRead = 0;
  // After the swap the scratch database IS the live one: a later failure (the start command) must
  // not drop anything.
  let swapped = false;
  try {
    stopIfAborted();
    await createScratchDatabase(conn, work, props, portable);
    const loaded = await loadDump({
      conn,
      file,
      database: work,
      pre,
      trustedFile: options.trustedFile ?? false,
      portable,
      knownRoles,
      logger,
      progressIntervalMs: options.progressIntervalMs ?? 5000,
      signal,
    });
    report = loaded.report;
    bytesRead = loaded.bytesRead;
    // The file's own refusals first, whatever psql made of it.
    if (!report.valid) throw refusal(file, report);
    if (loaded.missingRoles.length > 0) {
      throw new ValidationError(
        `the backup gives objects to roles that do not exist on ${describeServer(conn)}: ${loaded.missingRoles.join(', ')}; nothing was changed`,
        'backupFile',
        {
          hint: `create them first (e.g. \`CREATE ROLE ${quoteIdent(loaded.missingRoles[0]!)};\`), or restore with --portable to drop owners and privileges (the restoring user then owns everything)`,
        },
      );
    }
    stopIfAborted();
    if (loaded.loadFailure) throw loaded.loadFailure;
    await verifyRestored(conn, work, report, signal);
    logger.info('restored database verified', { database: work, entries: report.entryCount });

    // 4. The operator's go-ahead, with what is known now: the file is valid and loaded.
    const question =
      `Replace database ${target} on ${describeServer(conn)} (${describeLive(before)}) with ${file} ` +
      `(${report.entryCount} entries, loaded and verified)? ` +
      (targetExists ? `The current database will be kept as ${keep}.` : '');
    if (!(await options.confirm(question))) {
      throw new GuardRailError('restore cancelled; nothing was changed', {
        hint: 'run it again and answer y to restore',
      });
    }
    // Settings and ACL only now: a setting such as default_transaction_read_only would stop the load.
    const apply = props ? applyPropertiesSql(work, props, portable) : '';
    if (apply) {
      await psqlQuery(conn, apply, {
        database: conn.maintenanceDatabase,
        operation: `give ${work} the settings and privileges of ${target}`,
        signal,
      });
    }

    // 5. Swap, with the application stopped only for the swap itself.
    await withApplicationStopped(
      options.app,
      logger,
      async () => {
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
        swapped = true;
      },
      (err) =>
        new AppCommandError(`the restore succeeded but ${(err as Error).message}`, {
          cause: err,
          hint: `start the application by hand; the previous data is kept as ${keep}`,
        }),
    );
  } catch (err) {
    if (swapped) throw err;
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
    const live = await checkLiveAfterFailure(conn, target, before, logger);
    if (err instanceof KbDrError) throw withLiveState(err, live);
    throw err;
  }

  const result: RestoreResult = {
    database: target,
    connection: describeConnection(conn),
    backupFile: file,
    entriesRestored: report.entryCount ?? 0,
    embeddingCacheRestored: report.embeddingCacheCount ?? 0,
    previousDatabase: targetExists ? keep : undefined,
    durationMs: Date.now() - started,
    fileBytes: bytesRead,
    sqlBytes: report.summary?.bytes ?? 0,
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

/** Put back the newest database kb-dr kept; the current one is kept as `<name>_rolled_back_*`. */
export async function rollbackLocalRestore(options: RollbackOptions): Promise<RollbackResult> {
  const { conn } = options;
  const target = conn.database;
  const setAside = rolledBackName(target, (options.now ?? (() => new Date()))());
  checkIdentifierLength([setAside]);
  const lock = await acquireRestoreLock(conn, target);
  try {
    return await rollbackLocked({ ...options, conn: lock.conn }, setAside);
  } finally {
    await lock.release();
  }
}

async function rollbackLocked(options: RollbackOptions, setAside: string): Promise<RollbackResult> {
  const { conn, logger } = options;
  const target = conn.database;
  const at = (options.now ?? (() => new Date()))();
  const look = await lookBeforeRollback(conn);
  const kept = look.kept[0];
  const { unmarked } = look;
  if (!kept) {
    throw new NotFoundError(
      `no database kept by a kb-dr restore of ${target} on ${describeServer(conn)}; nothing to roll back` +
        (unmarked.length > 0 ? ` (${unmarked.join(', ')}: not marked by kb-dr, ignored)` : ''),
      {
        hint: 'a rollback needs a previous restore; to go back further, restore an older backup file',
      },
    );
  }
  // The kept database was just listed; the live one was looked at in the same query.
  const [keptEntries, currentEntries] = await Promise.all([
    countEntries(conn, kept.name),
    look.target ? countEntries(conn, target) : Promise.resolve(undefined),
  ]);
  const keptState: LiveState = { exists: true, entries: keptEntries };
  const current: LiveState = { exists: look.target !== undefined, entries: currentEntries };
  const currentComment = look.target?.comment ?? null;
  const question =
    `Roll ${target} on ${describeServer(conn)} (${describeLive(current)}) back to ${kept.name}: ` +
    `the ${target} kept at ${kept.marker.keptAt} before restoring ${kept.marker.replacedBy} (${describeLive(keptState)})? ` +
    (current.exists ? `The current ${target} will be kept as ${setAside}.` : '');
  if (!(await options.confirm(question))) {
    throw new GuardRailError('rollback cancelled; nothing was changed', {
      hint: 'run it again and answer y to roll back',
    });
  }
  await withApplicationStopped(
    options.app,
    logger,
    async () => {
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
    },
    (err) =>
      new AppCommandError(`the rollback succeeded but ${(err as Error).message}`, {
        cause: err,
        hint: `start the application by hand; ${target} is now the data kept as ${kept.name}`,
      }),
  );
  const result: RollbackResult = {
    database: target,
    restoredFrom: kept.name,
    keptAt: kept.marker.keptAt,
    setAsideAs: current.exists ? setAside : undefined,
  };
  logger.info('rollback complete', { ...result });
  return result;
}
