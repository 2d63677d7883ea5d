/**
 * Step 6: the likeliest disaster, with the runbook's "Accidental deletion" commands: a backup,
 * entries written after it, the entries of one tag deleted by mistake, more entries written
 * since; `find-backup` names the backup from before the deletion; `recover-entries` dry run
 * (changes nothing), then --confirm: the deleted entries are back, the later writes intact,
 * nothing duplicated, and no database was replaced.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeStartError } from '../../harness/process';
import { KB_DATABASE, type DrillContext } from '../context';
import type { DrillStep } from '../runner';

const execFileAsync = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const LOADER = join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const TAG = 'topic-3';
const WRITTEN_BEFORE_DELETION = 15;
const WRITTEN_AFTER_DELETION = 10;

/** Run `kb-dr <args>` as the operator does (`npx kb-dr`), in its own process; returns stdout. */
async function kbDr(ctx: DrillContext, args: string[]): Promise<string> {
  const pg = ctx.pg;
  if (!pg) throw new Error('PostgreSQL is not running (the seed step did not pass)');
  try {
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--import', LOADER, join(ROOT, 'bin', 'kb-dr.ts'), ...args],
      {
        env: { ...process.env, ...pg.env(KB_DATABASE), LOG_LEVEL: 'WARN' },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string; signal?: string | null };
    const command = `npx kb-dr ${args.join(' ')}`;
    if (typeof e.code === 'string') throw new Error(describeStartError(command, e));
    const how = e.signal ? `was killed by signal ${e.signal}` : `exited with code ${e.code ?? 'unknown'}`;
    throw new Error(`${command} ${how}: ${(e.stderr || e.stdout || '').trim() || '(no output)'}`);
  }
}

async function backupScript(ctx: DrillContext, dir: string): Promise<string> {
  const { stdout } = await execFileAsync(join(ROOT, 'scripts', 'backup-kb.sh'), ['--local', `--dir=${dir}`], {
    env: { ...process.env, ...ctx.pg!.env(KB_DATABASE), LOG_LEVEL: 'WARN' },
    maxBuffer: 16 * 1024 * 1024,
  });
  const m = /^backup:\s+(.+)$/m.exec(stdout);
  if (!m?.[1]) throw new Error(`no "backup:" line in:\n${stdout}`);
  return m[1].trim();
}

export const recoverEntriesStep: DrillStep<DrillContext> = {
  id: 'recover',
  title: 'PostgreSQL: entries deleted by mistake, put back without a restore',
  needs: ['seed'],
  async run(ctx, log) {
    const pg = ctx.pg!;
    const q = (sql: string) => pg.sql(KB_DATABASE, sql);
    const tagged = `SELECT count(*) FROM knowledge_entries WHERE '${TAG}' = ANY(tags)`;
    const backupDir = join(ctx.options.outDir, 'backups');
    // A second apart from any earlier backup in the folder, so the names differ.
    await new Promise((r) => setTimeout(r, 1100));
    const file = await backupScript(ctx, backupDir);
    const taggedAtBackup = Number(await q(tagged));
    const fingerprintAtBackup = await q(
      `SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM knowledge_entries t WHERE '${TAG}' = ANY(tags)`,
    );
    log(`scripts/backup-kb.sh --local → ${file} (${taggedAtBackup} entries tagged ${TAG})`);

    await q(
      `INSERT INTO knowledge_entries (title, body, tags) SELECT 'written after the backup ' || g, 'kept', ARRAY['after-backup'] FROM generate_series(1, ${WRITTEN_BEFORE_DELETION}) g`,
    );
    await new Promise((r) => setTimeout(r, 1100));
    const deletedAt = new Date();
    const deleted = Number(
      await q(
        `WITH d AS (DELETE FROM knowledge_entries WHERE '${TAG}' = ANY(tags) RETURNING 1) SELECT count(*) FROM d`,
      ),
    );
    await q(
      `INSERT INTO knowledge_entries (title, body, tags) SELECT 'written after the deletion ' || g, 'kept', ARRAY['after-deletion'] FROM generate_series(1, ${WRITTEN_AFTER_DELETION}) g`,
    );
    const totalBefore = Number(await q('SELECT count(*) FROM knowledge_entries'));
    log(
      `mistake at ${deletedAt.toISOString()}: ${deleted} entries tagged ${TAG} deleted; ${WRITTEN_BEFORE_DELETION} entries written before it and ${WRITTEN_AFTER_DELETION} after it, all since the backup`,
    );

    const found = JSON.parse(
      await kbDr(ctx, [
        'find-backup',
        `--before=${deletedAt.toISOString()}`,
        `--dir=${backupDir}`,
        '--check',
        '--json',
      ]),
    ) as { points: { id: string; entries?: number; status: string }[] };
    const named = found.points[0];
    if (named?.id !== file)
      throw new Error(`find-backup named ${named?.id ?? 'nothing'}, not the backup ${file}`);
    log(
      `npx kb-dr find-backup --before=${deletedAt.toISOString()} → ${named.id} (${named.status}, ${named.entries} entries)`,
    );

    const t0 = performance.now();
    const dry = JSON.parse(
      await kbDr(ctx, ['recover-entries', `--backup-file=${file}`, `--tag=${TAG}`, '--json']),
    ) as { missing: number; sample: { title: string }[] };
    if (dry.missing !== deleted)
      throw new Error(`the dry run found ${dry.missing} missing entries, ${deleted} were deleted`);
    if (Number(await q(tagged)) !== 0) throw new Error('the dry run changed the database');
    log(
      `recover-entries --tag=${TAG} (dry run) → ${dry.missing} would be inserted, e.g. "${dry.sample[0]?.title ?? ''}"; nothing written`,
    );

    const done = JSON.parse(
      await kbDr(ctx, ['recover-entries', `--backup-file=${file}`, `--tag=${TAG}`, '--confirm', '--json']),
    ) as {
      inserted: number;
      alreadyPresent: number;
      skippedChanged: number;
      scratchDatabase?: { dropped: boolean };
    };
    const seconds = (performance.now() - t0) / 1000;
    if (done.inserted !== deleted) throw new Error(`inserted ${done.inserted}, ${deleted} were deleted`);

    const back = Number(await q(tagged));
    const fingerprint = await q(
      `SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM knowledge_entries t WHERE '${TAG}' = ANY(tags)`,
    );
    const later = Number(
      await q("SELECT count(*) FROM knowledge_entries WHERE tags && ARRAY['after-backup', 'after-deletion']"),
    );
    const duplicates = Number(await q('SELECT count(*) - count(DISTINCT id) FROM knowledge_entries'));
    const total = Number(await q('SELECT count(*) FROM knowledge_entries'));
    if (back !== taggedAtBackup || fingerprint !== fingerprintAtBackup)
      throw new Error(
        `${back} entries tagged ${TAG} after the recovery, ${taggedAtBackup} in the backup (or their content differs)`,
      );
    if (later !== WRITTEN_BEFORE_DELETION + WRITTEN_AFTER_DELETION)
      throw new Error(`only ${later} later writes remain`);
    if (duplicates !== 0 || total !== totalBefore + deleted)
      throw new Error(`${total} entries, ${duplicates} duplicated ids`);
    if (done.scratchDatabase && !done.scratchDatabase.dropped)
      throw new Error('the scratch database was not dropped');
    log(
      `recover-entries --confirm → ${done.inserted} inserted, identical to the backup; ${later} later writes intact; no duplicate; ${seconds.toFixed(1)} s`,
    );
    return {
      details: [],
      figures: { deleted, inserted: done.inserted, laterWritesKept: later, recoverSeconds: seconds },
    };
  },
};
