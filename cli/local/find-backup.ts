/**
 * Local recovery points for `find-backup`: the backups in the backup folder taken before a time,
 * newest first. The time a backup holds is the one in its name (`kb-backup-YYYYMMDD-HHMMSS`,
 * UTC): taken just before pg_dump starts, whose snapshot then holds every transaction committed
 * before it. Entry counts are not written beside a local backup (its `.sha256` carries only the
 * digest), so they are read only with `check`: the full validation, which counts the rows in the
 * dump without touching any database.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliLogger } from '../shared/logger';
import { listLocalBackups, readChecksumFile } from './backup-files';
import { shellQuote, validateBackup } from './validate';

/** One place data can be recovered from, with the commands that use it. */
export interface RecoveryPoint {
  readonly kind: 'local-backup' | 'rds-snapshot' | 'pitr';
  /** The file, the snapshot id, or `point-in-time`. */
  readonly id: string;
  /** The point in time it holds, ISO UTC. */
  readonly time: string;
  /** Where `time` was read from. */
  readonly timeFrom: string;
  readonly entries?: number;
  readonly embeddingCache?: number;
  /** Where the counts come from, or why there are none. */
  readonly counts: string;
  /** Valid / recorded / status words, as read. */
  readonly status: string;
  /** The exact commands, first the targeted recovery's dry run. */
  readonly commands: readonly string[];
}

export interface LocalPointsOptions {
  readonly dir: string;
  readonly before: Date;
  /** Validate each listed backup (reads it whole) to show its counts and validity. @default false */
  readonly check?: boolean;
  /** @default 5 */
  readonly limit?: number;
  readonly logger: CliLogger;
}

/** The local backups taken before `before`, newest first (at most `limit`). */
export async function findLocalRecoveryPoints(options: LocalPointsOptions): Promise<RecoveryPoint[]> {
  const all = await listLocalBackups(resolve(options.dir));
  const candidates = all
    .filter((b) => b.takenAt.getTime() < options.before.getTime())
    .reverse()
    .slice(0, options.limit ?? 5);
  const points: RecoveryPoint[] = [];
  for (const b of candidates) {
    const s = await stat(b.path).catch(() => undefined);
    if (!s?.isFile()) continue;
    const file = shellQuote(b.path);
    const commands = [
      `npx kb-dr recover-entries --backup-file=${file}`,
      `npx kb-dr recover-entries --backup-file=${file} --confirm`,
      `scripts/restore-kb.sh --local --backup-file=${file}`,
    ];
    const base = {
      kind: 'local-backup' as const,
      id: b.path,
      time: b.takenAt.toISOString(),
      timeFrom: 'file name (UTC, taken as pg_dump started)',
      commands,
    };
    if (options.check) {
      const report = await validateBackup({ file: b.path, logger: options.logger });
      const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
      points.push({
        ...base,
        ...(report.entryCount !== undefined ? { entries: report.entryCount } : {}),
        ...(report.embeddingCacheCount !== undefined ? { embeddingCache: report.embeddingCacheCount } : {}),
        counts: 'counted in the dump by validation',
        status: report.valid ? 'valid' : `INVALID (${failed.join(', ')})`,
      });
    } else {
      const checksum = await readChecksumFile(b.path).catch(() => 'unreadable' as const);
      points.push({
        ...base,
        counts: 'not recorded for local backups (add --check to count them)',
        status:
          checksum === undefined
            ? 'no .sha256'
            : typeof checksum === 'string'
              ? `.sha256 ${checksum}`
              : 'not checked',
      });
    }
  }
  return points;
}
