/**
 * Names and side files of local backups: `kb-backup-YYYYMMDD-HHMMSS.sql.gz` (UTC) with
 * `<name>.sha256` beside it in `sha256sum` format, so `sha256sum -c <name>.sha256` verifies it.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compactUtcTimestamp } from '../../core/naming';
import { HashingStream } from './dump-scanner';

export const LOCAL_BACKUP_PREFIX = 'kb-backup-';
export const LOCAL_BACKUP_SUFFIX = '.sql.gz';
export const CHECKSUM_SUFFIX = '.sha256';
const NAME_RE = /^kb-backup-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})\.sql\.gz$/;

/** `kb-backup-YYYYMMDD-HHMMSS.sql.gz` for a backup taken at `date` (UTC). */
export function localBackupName(date: Date): string {
  return `${LOCAL_BACKUP_PREFIX}${compactUtcTimestamp(date)}${LOCAL_BACKUP_SUFFIX}`;
}

/** The time encoded in a backup file name, or undefined for other names. */
export function parseLocalBackupName(name: string): Date | undefined {
  const m = NAME_RE.exec(basename(name));
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function checksumPathFor(backupPath: string): string {
  return `${backupPath}${CHECKSUM_SUFFIX}`;
}

/** One line in `sha256sum` format: digest, two spaces, file name. */
export function checksumLine(sha256: string, backupPath: string): string {
  return `${sha256}  ${basename(backupPath)}\n`;
}

export interface ChecksumEntry {
  readonly sha256: string;
  readonly fileName: string;
}

/** Parse a `sha256sum` line (text or binary mode marker); undefined if malformed. */
export function parseChecksumLine(text: string): ChecksumEntry | undefined {
  const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(text.split('\n')[0]?.trim() ?? '');
  return m ? { sha256: m[1]!.toLowerCase(), fileName: m[2]! } : undefined;
}

/** Read and parse the checksum file of `backupPath`; undefined when it does not exist. */
export async function readChecksumFile(backupPath: string): Promise<ChecksumEntry | 'malformed' | undefined> {
  let text: string;
  try {
    text = await readFile(checksumPathFor(backupPath), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseChecksumLine(text) ?? 'malformed';
}

/** SHA-256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hasher = new HashingStream();
  await pipeline(createReadStream(path), hasher, new Writable({ write: (_chunk, _enc, cb) => cb() }));
  return hasher.digest();
}

export interface LocalBackupFile {
  readonly name: string;
  readonly path: string;
  readonly takenAt: Date;
}

/** The backups in `dir`, oldest first (by the time in their names). Missing folder → []. */
export async function listLocalBackups(dir: string): Promise<LocalBackupFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .map((name) => ({ name, path: join(dir, name), takenAt: parseLocalBackupName(name) }))
    .filter((f): f is LocalBackupFile => f.takenAt !== undefined)
    .sort((a, b) => a.takenAt.getTime() - b.takenAt.getTime() || a.name.localeCompare(b.name));
}
