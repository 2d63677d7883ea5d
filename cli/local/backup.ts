/**
 * Local backup: pg_dump (plain SQL) → scanner → gzip → SHA-256 → temporary file, in one
 * streaming pass, then rename. gzip runs on every core (parallel-gzip.ts: one ordinary gzip
 * member, as pigz writes it). Memory stays flat whatever the database size (gc-pacer.ts).
 *
 * Owners and privileges are kept in the dump (ALTER ... OWNER TO, GRANT): a restore gives the
 * database back as it was, the application role's grants included, and checks first that every
 * role the dump names exists. `restore --portable` leaves them out for another server.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, link, mkdir, open, rename, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AlreadyExistsError, KbDrError } from '../../core/errors';
import type { CliLogger } from '../shared/logger';
import { LOCAL_ENV, childEnv, conninfo, describeConnection, pgBinary, type PgConnection } from './connection';
import { checksumLine, checksumPathFor, localBackupName } from './backup-files';
import { DumpScanner, HashingStream, isCompleteKbDump, kbRowCount, type DumpSummary } from './dump-scanner';
import { BACKUP_PACE, GcPacer } from './gc-pacer';
import { ParallelGzip } from './parallel-gzip';
import { PgCommandError, translatePgFailure, translateSpawnError } from './pg-errors';
import { contentCheck } from './validate';
import { removeLeftoverPartials } from './prune';

export const PG_DUMP_ARGS = ['--format=plain'] as const;

/** The disk filled up while writing. Nothing partial was left behind. */
export class DiskFullError extends KbDrError {
  override readonly name = 'DiskFullError';
}

export interface LocalBackupOptions {
  readonly conn: PgConnection;
  /** Folder for backups (created if missing). */
  readonly dir: string;
  readonly logger: CliLogger;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Log progress this often. @default 5000 */
  readonly progressIntervalMs?: number;
  /** Abort (Ctrl-C): the dump stops and the temporary file is removed. */
  readonly signal?: AbortSignal;
}

export interface LocalBackupResult {
  readonly path: string;
  /** `user@host:port/database` actually dumped. */
  readonly connection: string;
  readonly checksumPath: string;
  readonly sha256: string;
  /** Compressed size on disk. */
  readonly bytes: number;
  /** Uncompressed SQL size. */
  readonly sqlBytes: number;
  readonly entryCount: number;
  readonly embeddingCacheCount: number;
  readonly durationMs: number;
  readonly summary: DumpSummary;
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/** fsync a file or a directory. */
async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Give `tmp` the name `final` only if nothing has it: create-exclusive, never an overwrite. */
async function claim(tmp: string, final: string): Promise<void> {
  const taken = (err: unknown) =>
    new AlreadyExistsError(`${final} already exists (another backup took this name in the same second)`, {
      cause: err,
      hint: 'nothing was overwritten; run the backup again',
    });
  try {
    await link(tmp, final);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw taken(err);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
  }
  // A file system without hard links: claim the name with an exclusive create, then move onto it.
  try {
    await (await open(final, 'wx')).close();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw taken(err);
    throw err;
  }
  await rename(tmp, final);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function writeError(err: unknown, dir: string): KbDrError {
  if (err instanceof KbDrError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new DiskFullError(`the disk holding ${dir} is full; the backup was not written`, {
      cause: err,
      hint: `free some space (e.g. \`scripts/backup-kb.sh --local --prune\`) or set ${LOCAL_ENV.backupPath} to a larger disk, then retry; no partial file was left`,
    });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new KbDrError(`cannot write to ${dir} (${code})`, {
      cause: err,
      hint: `set ${LOCAL_ENV.backupPath} to a writable folder`,
    });
  }
  if ((err as Error | undefined)?.name === 'AbortError') {
    return new KbDrError('the backup was interrupted; no partial file was left', {
      cause: err,
      hint: 'run the backup again',
    });
  }
  return new KbDrError(`writing the backup failed: ${err instanceof Error ? err.message : String(err)}`, {
    cause: err,
    hint: 'check the disk and retry',
  });
}

/** Dump the database in `conn` into `dir`; see the module comment. */
export async function createLocalBackup(options: LocalBackupOptions): Promise<LocalBackupResult> {
  const { conn, logger } = options;
  const started = Date.now();
  const dir = resolve(options.dir);
  const name = localBackupName((options.now ?? (() => new Date()))());
  const finalPath = join(dir, name);
  const finalChecksum = checksumPathFor(finalPath);
  // Dot-prefixed: never listed as a backup, never mistaken for a complete one.
  const tmpPath = join(dir, `.${name}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  const tmpChecksum = `${tmpPath}.sha256`;

  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw writeError(err, dir);
  }
  await removeLeftoverPartials(dir, logger);
  if ((await exists(finalPath)) || (await exists(finalChecksum))) {
    throw new AlreadyExistsError(`${finalPath} already exists`, {
      hint: 'wait one second and run the backup again',
    });
  }

  logger.info('backup started', { database: describeConnection(conn), file: finalPath });
  const binary = pgBinary(conn, 'pg_dump');
  const child = spawn(binary, [...PG_DUMP_ARGS, '-d', conninfo(conn, conn.database)], {
    env: childEnv(conn, conn.database),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 65536) stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolveExit, reject) => {
      child.on('error', (err) => reject(translateSpawnError(binary, err)));
      child.on('close', (code, signal) => resolveExit({ code, signal }));
    },
  );

  const scanner = new DumpScanner();
  const hasher = new HashingStream();
  const progress = setInterval(() => {
    logger.info('backup in progress', {
      sqlMegabytes: Math.round(scanner.bytesSoFar / 1e5) / 10,
      writtenMegabytes: Math.round(hasher.bytes / 1e5) / 10,
      rows: scanner.rowsSoFar,
    });
  }, options.progressIntervalMs ?? 5000);
  progress.unref();

  try {
    const written = pipeline(
      child.stdout,
      new GcPacer(BACKUP_PACE),
      scanner,
      new ParallelGzip(),
      hasher,
      createWriteStream(tmpPath, { flags: 'wx' }),
      options.signal ? { signal: options.signal } : {},
    ).catch((err: unknown) => {
      child.kill('SIGTERM');
      throw err;
    });
    const [writeOutcome, exitOutcome] = await Promise.allSettled([written, exited]);
    if (exitOutcome.status === 'rejected') throw exitOutcome.reason;
    const { code, signal } = exitOutcome.value;
    if (writeOutcome.status === 'rejected') throw writeError(writeOutcome.reason, dir);
    if (code !== 0) {
      throw stderr.trim()
        ? translatePgFailure(conn, 'pg_dump', stderr)
        : new PgCommandError(`pg_dump stopped (${signal ?? `exit code ${code}`})`, {
            hint: 'retry the backup',
          });
    }
    const summary = scanner.summary();
    if (!isCompleteKbDump(summary)) {
      throw new PgCommandError(
        `the dump of ${describeConnection(conn)} is not a complete Knowledge Base dump (tables found: ${summary.tables.map((t) => t.name).join(', ') || 'none'})`,
        { hint: `check that ${LOCAL_ENV.database} names the Knowledge Base database` },
      );
    }
    const content = contentCheck(summary, true);
    if (!content.ok) {
      throw new PgCommandError(
        `the dump of ${describeConnection(conn)} could not be restored: ${content.detail}`,
        {
          hint: 'report this dump to the kb-dr maintainers; no backup was written',
        },
      );
    }
    if (!summary.restrictGuard) {
      logger.warn(
        'pg_dump did not write the \\restrict guard; restoring this backup will need --trusted-file',
        {
          hint: 'install the PostgreSQL 15.14+ client tools or set KB_PG_BIN_DIR',
        },
      );
    }
    const sha256 = hasher.digest();
    await syncFile(tmpPath);
    await writeFile(tmpChecksum, checksumLine(sha256, finalPath), { flag: 'wx' });
    await syncFile(tmpChecksum);
    // Claim the final names create-exclusively (link fails with EEXIST, rename would overwrite):
    // two backups in the same second never overwrite each other; the second one fails.
    await claim(tmpPath, finalPath);
    try {
      await claim(tmpChecksum, finalChecksum);
    } catch (err) {
      await removeQuietly(finalPath); // ours: we just created it
      throw err;
    }
    await Promise.all([removeQuietly(tmpPath), removeQuietly(tmpChecksum)]);
    // The new directory entries reach the disk: a power cut cannot lose a backup reported written.
    await syncFile(dir);
    const result: LocalBackupResult = {
      path: finalPath,
      connection: describeConnection(conn),
      checksumPath: finalChecksum,
      sha256,
      bytes: hasher.bytes,
      sqlBytes: summary.bytes,
      entryCount: kbRowCount(summary, 'knowledge_entries') ?? 0,
      embeddingCacheCount: kbRowCount(summary, 'embedding_cache') ?? 0,
      durationMs: Date.now() - started,
      summary,
    };
    logger.info('backup written', {
      file: finalPath,
      sha256,
      bytes: result.bytes,
      entries: result.entryCount,
      durationMs: result.durationMs,
    });
    return result;
  } catch (err) {
    await Promise.all([removeQuietly(tmpPath), removeQuietly(tmpChecksum)]);
    throw writeError(err, dir);
  } finally {
    clearInterval(progress);
  }
}
