import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ConfigurationError } from '../../../core/errors';
import { pruneBackups, retentionDaysFrom } from '../../../cli/local/prune';
import { silentLogger } from '../../../cli/shared/logger';

const NOW = new Date('2026-11-22T12:00:00Z');
const GOOD_SQL = [
  '--',
  '-- PostgreSQL database dump',
  '--',
  '\\restrict abc',
  'CREATE TABLE public.knowledge_entries (',
  ');',
  'CREATE TABLE public.embedding_cache (',
  ');',
  '--',
  '-- PostgreSQL database dump complete',
  '--',
  '',
  '\\unrestrict abc',
  '',
].join('\n');

function writeBackup(dir: string, name: string, options: { corrupt?: boolean } = {}): string {
  const file = join(dir, name);
  const content = gzipSync(GOOD_SQL);
  writeFileSync(file, options.corrupt ? content.subarray(0, 10) : content);
  writeFileSync(
    `${file}.sha256`,
    `${createHash('sha256').update(content).digest('hex')}  ${basename(file)}\n`,
  );
  return file;
}

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'kb-prune-'));
}

describe('pruneBackups', () => {
  it('deletes backups (and checksums) older than the retention period and keeps newer ones', async () => {
    const dir = freshDir();
    writeBackup(dir, 'kb-backup-20261001-020000.sql.gz');
    writeBackup(dir, 'kb-backup-20261020-020000.sql.gz');
    writeBackup(dir, 'kb-backup-20261121-020000.sql.gz');
    writeFileSync(join(dir, 'notes.txt'), 'not a backup');

    const result = await pruneBackups({ dir, retentionDays: 30, logger: silentLogger, now: () => NOW });

    expect(result.deleted.map((f) => basename(f))).toEqual([
      'kb-backup-20261001-020000.sql.gz',
      'kb-backup-20261020-020000.sql.gz',
    ]);
    expect(readdirSync(dir).sort()).toEqual([
      'kb-backup-20261121-020000.sql.gz',
      'kb-backup-20261121-020000.sql.gz.sha256',
      'notes.txt',
    ]);
  });

  it('never deletes the newest backup, even when every backup is past retention', async () => {
    const dir = freshDir();
    writeBackup(dir, 'kb-backup-20260101-020000.sql.gz');
    writeBackup(dir, 'kb-backup-20260201-020000.sql.gz');

    const result = await pruneBackups({ dir, retentionDays: 30, logger: silentLogger, now: () => NOW });

    expect(basename(result.newestValid ?? '')).toBe('kb-backup-20260201-020000.sql.gz');
    expect(readdirSync(dir).filter((f) => f.endsWith('.sql.gz'))).toEqual([
      'kb-backup-20260201-020000.sql.gz',
    ]);
  });

  it('deletes nothing when the newest backup is corrupt', async () => {
    const dir = freshDir();
    writeBackup(dir, 'kb-backup-20260101-020000.sql.gz');
    writeBackup(dir, 'kb-backup-20260201-020000.sql.gz');
    writeBackup(dir, 'kb-backup-20260301-020000.sql.gz', { corrupt: true });

    const result = await pruneBackups({ dir, retentionDays: 30, logger: silentLogger, now: () => NOW });

    expect(result.deleted).toEqual([]);
    expect(result.refusedBecause).toMatch(/kb-backup-20260301-020000\.sql\.gz is not valid/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.sql.gz'))).toHaveLength(3);
  });

  it('removes temporary files of interrupted backups older than a day or of dead processes, not live recent ones', async () => {
    const dir = freshDir();
    const sleeper = spawn('sleep', ['60']);
    const stale = join(dir, `.kb-backup-20261120-020000.sql.gz.partial-${sleeper.pid}`);
    const recent = join(dir, `.kb-backup-20261122-115900.sql.gz.partial-${sleeper.pid}-0badf00d`);
    const dead = join(dir, '.kb-backup-20261122-115901.sql.gz.partial-999999-0badf00d');
    for (const f of [stale, recent, dead]) writeFileSync(f, 'x');
    const twoDaysAgo = new Date(NOW.getTime() - 2 * 24 * 3600 * 1000);
    utimesSync(stale, twoDaysAgo, twoDaysAgo);
    utimesSync(recent, NOW, NOW);
    utimesSync(dead, NOW, NOW);

    await pruneBackups({ dir, retentionDays: 30, logger: silentLogger, now: () => NOW });

    expect(readdirSync(dir)).toEqual([`.kb-backup-20261122-115900.sql.gz.partial-${sleeper.pid}-0badf00d`]);
    sleeper.kill();
  });
});

describe('retentionDaysFrom', () => {
  it('defaults to 30 days and reads KB_BACKUP_RETENTION_DAYS', () => {
    expect(retentionDaysFrom({})).toBe(30);
    expect(retentionDaysFrom({ KB_BACKUP_RETENTION_DAYS: '7' })).toBe(7);
  });

  it.each(['0', '-1', '1.5', 'week'])('rejects %s with the variable name', (value) => {
    expect(() => retentionDaysFrom({ KB_BACKUP_RETENTION_DAYS: value })).toThrow(ConfigurationError);
    expect(() => retentionDaysFrom({ KB_BACKUP_RETENTION_DAYS: value })).toThrow(/KB_BACKUP_RETENTION_DAYS/);
  });
});
