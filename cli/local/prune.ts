/**
 * Retention of local backups: delete backups (and their `.sha256`) taken more than
 * KB_BACKUP_RETENTION_DAYS ago, judged by the time in the file name. Nothing is deleted unless the
 * newest backup passes full validation (size check included), and it is never deleted itself;
 * only regular files with their matching `.sha256` (what kb-dr writes) are deleted, never
 * symlinks, directories or files without a checksum. Temporary files of interrupted backups whose
 * process is gone (or older than a day) are removed too.
 */
import { lstat, readdir, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigurationError } from '../../core/errors';
import type { CliLogger } from '../shared/logger';
import { checksumPathFor, listLocalBackups, readChecksumFile, type LocalBackupFile } from './backup-files';
import { LOCAL_ENV, type EnvSource } from './connection';
import { validateBackup } from './validate';

export const DEFAULT_RETENTION_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/** KB_BACKUP_RETENTION_DAYS as a positive integer (default 30). */
export function retentionDaysFrom(env: EnvSource): number {
  const text = env[LOCAL_ENV.retentionDays]?.trim();
  if (!text) return DEFAULT_RETENTION_DAYS;
  const days = Number(text);
  if (!Number.isInteger(days) || days < 1) {
    throw new ConfigurationError(`${LOCAL_ENV.retentionDays}=${text} is not a whole number of days`, {
      hint: `set it to 1 or more, e.g. ${LOCAL_ENV.retentionDays}=30`,
    });
  }
  return days;
}

export interface PruneOptions {
  readonly dir: string;
  readonly retentionDays: number;
  readonly logger: CliLogger;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export interface PruneResult {
  readonly deleted: readonly string[];
  readonly kept: readonly string[];
  /** The newest backup, which passed full validation; never deleted. */
  readonly newestValid: string | undefined;
  /** Old enough but not deleted: kb-dr did not write them (symlink, directory, no .sha256). */
  readonly skipped: readonly string[];
  /** Set when nothing was deleted because the newest backup failed validation. */
  readonly refusedBecause?: string;
}

/** Whether `pid` is a live process on this machine. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const PARTIAL_RE = /^\.kb-backup-.*\.partial-(\d+)(-[0-9a-f]+)?(\.sha256)?$/;

/**
 * Remove temporary files of backups that cannot finish: their process is gone (same machine), or
 * they are older than a day. Returns the paths removed.
 */
export async function removeLeftoverPartials(
  dir: string,
  logger: CliLogger,
  now = Date.now(),
): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = PARTIAL_RE.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    const s = await lstat(path).catch(() => undefined);
    if (!s?.isFile()) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && (!processAlive(pid) || now - s.mtimeMs > DAY_MS)) {
      await unlink(path).catch(() => undefined);
      removed.push(path);
      logger.info('removed leftover temporary file of an interrupted backup', { file: path, pid });
    }
  }
  return removed;
}

/** Whether kb-dr wrote `b`: a regular file (not a symlink) with a regular `.sha256` naming it. */
async function writtenByUs(b: LocalBackupFile): Promise<boolean> {
  const [file, sum] = await Promise.all([
    lstat(b.path).catch(() => undefined),
    lstat(checksumPathFor(b.path)).catch(() => undefined),
  ]);
  if (!file?.isFile() || !sum?.isFile()) return false;
  const entry = await readChecksumFile(b.path).catch(() => undefined);
  return entry !== undefined && entry !== 'malformed' && entry.fileName === b.name;
}

/** Prune `options.dir`; see the module comment. */
export async function pruneBackups(options: PruneOptions): Promise<PruneResult> {
  const dir = resolve(options.dir);
  const now = (options.now ?? (() => new Date()))().getTime();
  const cutoff = now - options.retentionDays * DAY_MS;
  const backups = await listLocalBackups(dir);
  await removeLeftoverPartials(dir, options.logger, now);

  // The newest backup must pass FULL validation (size check on) before anything is deleted: a
  // backup of an emptied database must never count as the one to keep.
  const newest = backups[backups.length - 1];
  if (!newest) return { deleted: [], kept: [], newestValid: undefined, skipped: [] };
  const report = await validateBackup({ file: newest.path, logger: options.logger });
  if (!report.valid) {
    const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
    options.logger.warn('the newest backup is not valid; nothing was pruned', { file: newest.path, failed });
    return {
      deleted: [],
      kept: backups.map((b) => b.path),
      newestValid: undefined,
      skipped: [],
      refusedBecause: `the newest backup ${newest.path} is not valid (${failed.join('; ')})`,
    };
  }

  const deleted: string[] = [];
  const kept: string[] = [];
  const skipped: string[] = [];
  for (const b of backups) {
    if (b.takenAt.getTime() >= cutoff || b.path === newest.path) {
      kept.push(b.path);
      continue;
    }
    if (!(await writtenByUs(b))) {
      skipped.push(b.path);
      options.logger.warn(
        'not deleting a file kb-dr did not write (not a regular file, or no matching .sha256)',
        {
          file: b.path,
        },
      );
      continue;
    }
    await unlink(b.path);
    await unlink(checksumPathFor(b.path)).catch(() => undefined);
    deleted.push(b.path);
    options.logger.info('pruned backup', { file: b.path, takenAt: b.takenAt.toISOString() });
  }
  return { deleted, kept, newestValid: newest.path, skipped };
}
