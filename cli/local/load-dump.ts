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
 */
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { KbDrError } from '../../core/errors';
import type { CliLogger } from '../shared/logger';
import { sha256File } from './backup-files';
import { childEnv, conninfo, pgBinary, quoteIdent, type PgConnection } from './connection';
import { DumpScanner, HashingStream, KB_SCHEMA } from './dump-scanner';
import { GcPacer } from './gc-pacer';
import { translatePgFailure, translateSpawnError } from './pg-errors';
import { InterruptedError, psqlQuery } from './psql';
import { validationReport, type FileChecks, type ValidationReport } from './validate';

/** Read and gunzip in pieces this big: fewer, larger writes into psql. */
const CHUNK_BYTES = 256 * 1024;

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
}

/**
 * psql's standard input as the end of a pipeline that never fails: once psql has exited (it
 * stopped at an error), the rest of the file is still read, hashed and scanned, and discarded,
 * so the validation report is complete; psql's exit code tells what happened to the load.
 */
class ChildInput extends Writable {
  private psqlGone = false;

  constructor(private readonly child: ChildProcess) {
    super({ highWaterMark: CHUNK_BYTES });
    const stdin = child.stdin!;
    const close = () => {
      this.psqlGone = true;
      stdin.emit('drain');
    };
    stdin.on('error', close);
    stdin.on('close', close);
    child.on('exit', close);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const stdin = this.child.stdin!;
    if (this.psqlGone || stdin.write(chunk)) {
      callback();
      return;
    }
    stdin.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.psqlGone) this.child.stdin!.end();
    callback();
  }
}

export interface PsqlLoader {
  readonly child: ChildProcessByStdio<Writable, null, Readable>;
  /** psql's exit; a failure to start it is translated, not thrown. */
  readonly exited: Promise<{ code: number | null; spawnError: KbDrError | undefined }>;
  /** The start of psql's standard error (up to 64 KiB). */
  readonly stderr: () => string;
}

/** Start psql reading statements for `database` from its standard input (stopping at the first error). */
export function spawnPsqlLoader(
  conn: PgConnection,
  database: string,
  env: NodeJS.ProcessEnv = childEnv(conn, database),
): PsqlLoader {
  const binary = pgBinary(conn, 'psql');
  const child = spawn(
    binary,
    ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', conninfo(conn, database), '-f', '-'],
    {
      env,
      stdio: ['pipe', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 65536) stderr += d;
  });
  const exited = new Promise<{ code: number | null; spawnError: KbDrError | undefined }>((resolveExit) => {
    child.on('error', (err) => resolveExit({ code: null, spawnError: translateSpawnError(binary, err) }));
    child.on('close', (code) => resolveExit({ code, spawnError: undefined }));
  });
  return { child, exited, stderr: () => stderr };
}

/** Load `options.file` into `options.database`; see the module comment. */
export async function loadDump(options: LoadOptions): Promise<LoadOutcome> {
  const { conn, file, database, logger, signal } = options;
  const env = childEnv(conn, database);
  // The scratch database is dropped if anything fails and the swap commits synchronously, which
  // flushes all the WAL before it: waiting for each load statement's own flush buys nothing.
  env.PGOPTIONS = [env.PGOPTIONS, '-c synchronous_commit=off'].filter(Boolean).join(' ');
  const { child, exited, stderr } = spawnPsqlLoader(conn, database, env);

  const hasher = new HashingStream();
  const gate = new DumpScanner({
    gate: true,
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
      new ChildInput(child),
      signal ? { signal } : {},
    );
  } catch (err) {
    // A damaged file or an interruption: psql runs what it already has at end of input, so stop
    // it before it sees an early EOF (the scratch database is dropped either way).
    child.kill('SIGKILL');
    if (signal?.aborted) {
      await exited;
      throw new InterruptedError('the restore was interrupted while loading', {
        hint: 'run the restore again',
      });
    }
    gzipError = err as Error;
  } finally {
    clearInterval(progress);
  }
  const { code, spawnError } = await exited;
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
  return {
    report,
    missingRoles,
    loadFailure:
      code === 0 || gzipError
        ? undefined
        : translatePgFailure(conn, `loading the dump into ${database}`, stderr()),
    bytesRead: hasher.bytes,
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
