/**
 * Retention of local backups: delete backups (and their `.sha256`) taken more than
 * KB_BACKUP_RETENTION_DAYS ago, judged by the time in the file name, never the newest valid
 * backup — even when every backup is older than the retention period. Leftover temporary files
 * of interrupted backups older than a day are removed too.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigurationError } from '../../lambda/shared/errors';
import type { CliLogger } from '../shared/logger';
import { checksumPathFor, listLocalBackups } from './backup-files';
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
  /** The newest backup that passed validation; never deleted. */
  readonly newestValid: string | undefined;
}

/** Prune `options.dir`; see the module comment. */
export async function pruneBackups(options: PruneOptions): Promise<PruneResult> {
  const dir = resolve(options.dir);
  const now = (options.now ?? (() => new Date()))().getTime();
  const cutoff = now - options.retentionDays * DAY_MS;
  const backups = await listLocalBackups(dir);

  let newestValid: string | undefined;
  for (const b of [...backups].reverse()) {
    if ((await validateBackup({ file: b.path, logger: options.logger, allowSmall: true })).valid) {
      newestValid = b.path;
      break;
    }
  }

  const deleted: string[] = [];
  const kept: string[] = [];
  for (const b of backups) {
    if (b.takenAt.getTime() >= cutoff || b.path === newestValid) {
      kept.push(b.path);
      continue;
    }
    await unlink(b.path);
    await unlink(checksumPathFor(b.path)).catch(() => undefined);
    deleted.push(b.path);
    options.logger.info('pruned backup', { file: b.path, takenAt: b.takenAt.toISOString() });
  }

  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!/^\.kb-backup-.*\.partial-\d+(-[0-9a-f]+)?(\.sha256)?$/.test(name)) continue;
    const path = join(dir, name);
    const s = await stat(path).catch(() => undefined);
    if (s && now - s.mtimeMs > DAY_MS) {
      await unlink(path).catch(() => undefined);
      options.logger.info('removed leftover temporary file', { file: path });
    }
  }
  if (newestValid === undefined && backups.length > 0) {
    options.logger.warn('no valid backup found in the folder; take a new backup now', { dir });
  }
  return { deleted, kept, newestValid };
}
