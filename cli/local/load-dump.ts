/**
 * Loading a backup file into a scratch database and verifying it, in ONE pass over the file: it
 * is read once, hashed, gunzipped and scanned by the gate (dump-scanner.ts), which passes psql
 * only whole statements it classified as harmless (and COPY data), under its own `\restrict` key.
 * The same pass yields the file's validation report (checksum, gzip, pg_dump structure, content),
 * so a restore needs no separate validation read: the caller refuses on that report, whatever
 * psql did, and drops the scratch database.
 *
 * The gate stops passing statements on at the first problem (or the first role the server lacks)
 * but reads on to the end, so the report describes the whole file, exactly as `validate` would.
 * What it passes on goes to two psql sessions, which share the rows of large tables
 * (copy-sessions.ts).
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { KbDrError } from '../../core/errors';
import type { CliLogger } from '../shared/logger';
import { sha256File } from './backup-files';
import { childEnv, quoteIdent, type PgConnection } from './connection';
import { CopySessions, startSession } from './copy-sessions';
import { DumpScanner, HashingStream, KB_SCHEMA } from './dump-scanner';
import { GcPacer } from './gc-pacer';
import { translatePgFailure } from './pg-errors';
import { InterruptedError, psqlQuery } from './psql';
import { validationReport, type FileChecks, type ValidationReport } from './validate';

/** Read and gunzip in pieces this big: fewer, larger writes into psql. */
const CHUNK_BYTES = 256 * 1024;
/** Rows of a COPY block beyond this are shared with a second session (see copy-sessions.ts). */
const HELPER_AFTER_BYTES = 4 * 1024 * 1024;

export class RestoreVerificationError extends KbDrError {
  override readonly name = 'RestoreVerificationError';
}

export interface LoadOptions {
  readonly conn: PgConnection;
  /** Absolute path of the backup file. */
  readonly file: string;
  /** The scratch database to load into. */
  readonly database: string;
  /** The checks made before the pass (readable, `.sha256`, size). */
  readonly pre: FileChecks;
  readonly trustedFile: boolean;
  /** Leave out owners and privileges. */
  readonly portable: boolean;
  /** The server's roles (not portable): the gate stops before a statement naming another one. */
  readonly knownRoles: ReadonlySet<string> | undefined;
  readonly logger: CliLogger;
  readonly progressIntervalMs: number;
  readonly signal: AbortSignal | undefined;
  /**
   * A COPY block's rows are shared with a second session once more than this many bytes of them
   * have passed (copy-sessions.ts); `Infinity` loads everything in one session.
   * @default 4 MiB
   */
  readonly helperAfterBytes?: number;
}

export interface LoadOutcome {
  /** The file's validation report, from the same pass. */
  readonly report: ValidationReport;
  /** Roles the dump names that the server does not have (empty when portable). */
  readonly missingRoles: readonly string[];
  /** psql's failure, when it did not load the whole file. */
  readonly loadFailure: KbDrError | undefined;
  /** Bytes of the (compressed) file read. */
  readonly bytesRead: number;
  /** Bytes of COPY rows each session loaded (the helper's are 0 when it was not needed). */
  readonly rowBytes: { readonly main: number; readonly helper: number };
}

/** Load `options.file` into `options.database`; see the module comment. */
export async function loadDump(options: LoadOptions): Promise<LoadOutcome> {
  const { conn, file, database, logger, signal } = options;
  const env = childEnv(conn, database);
  // The scratch database is dropped if anything fails and the swap commits synchronously, which
  // flushes all the WAL before it: waiting for each load statement's own flush buys nothing.
  env.PGOPTIONS = [env.PGOPTIONS, '-c synchronous_commit=off'].filter(Boolean).join(' ');
  const main = startSession(conn, database, env, { answers: true });
  const sessions = new CopySessions({
    main,
    startHelper: () => startSession(conn, database, env, { answers: true }),
    helperAfterBytes: options.helperAfterBytes ?? HELPER_AFTER_BYTES,
  });

  const hasher = new HashingStream();
  const gate = new DumpScanner({
    gate: true,
    pieces: true,
    observeAfterProblem: true,
    portable: options.portable,
    ...(options.knownRoles ? { knownRoles: options.knownRoles } : {}),
  });
  const progress = setInterval(
    () =>
      logger.info('restore in progress', {
        readMegabytes: Math.round(hasher.bytes / 1e5) / 10,
        rows: gate.rowsSoFar,
      }),
    options.progressIntervalMs,
  );
  progress.unref();
  let gzipError: Error | undefined;
  try {
    await pipeline(
      createReadStream(file, { highWaterMark: CHUNK_BYTES }),
      hasher,
      createGunzip({ chunkSize: CHUNK_BYTES }),
      new GcPacer(),
      gate,
      sessions,
      signal ? { signal } : {},
    );
  } catch (err) {
    // A damaged file or an interruption: psql runs what it already has at end of input, so stop
    // it before it sees an early EOF (the scratch database is dropped either way).
    sessions.stop();
    if (signal?.aborted) {
      await Promise.all([main.exited, sessions.helperSession?.exited]);
      throw new InterruptedError('the restore was interrupted while loading', {
        hint: 'run the restore again',
      });
    }
    gzipError = err as Error;
  } finally {
    clearInterval(progress);
  }
  const helper = sessions.helperSession;
  const [mainExit, helperExit] = await Promise.all([main.exited, helper?.exited]);
  logger.debug('rows loaded per session', {
    mainMegabytes: Math.round(sessions.rowBytes.main / 1e5) / 10,
    helperMegabytes: Math.round(sessions.rowBytes.helper / 1e5) / 10,
  });
  const spawnError = mainExit.spawnError ?? helperExit?.spawnError;
  if (spawnError) throw spawnError;
  // A broken gzip stream stopped the pass early; finish the checksum with a plain read.
  const sha256 = gzipError ? await sha256File(file) : hasher.digest();
  const summary = gate.summary();
  const report = validationReport(
    options.pre,
    { sha256, gzipError, summary },
    { trustedFile: options.trustedFile },
  );
  const known = options.knownRoles;
  const missingRoles = known && !options.portable ? summary.roles.filter((r) => !known.has(r)) : [];
  // The session that failed by itself says why; else whichever exited with an error.
  const failed =
    sessions.failure ??
    (mainExit.code !== 0 ? main : helper && helperExit && helperExit.code !== 0 ? helper : undefined);
  return {
    report,
    missingRoles,
    loadFailure:
      failed === undefined || gzipError
        ? undefined
        : translatePgFailure(conn, `loading the dump into ${database}`, failed.stderr()),
    bytesRead: hasher.bytes,
    rowBytes: { ...sessions.rowBytes },
  };
}

/** The restored database holds exactly the rows the dump holds (counted by the same pass). */
export async function verifyRestored(
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
