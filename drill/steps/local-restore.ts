/**
 * Step 5: the developer's disaster on PostgreSQL, with the exact commands the runbook gives:
 * backup, validate, writes after the backup (the data-loss window), the entries table dropped,
 * restore, counts verified, rollback shown and undone.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeStartError } from '../../harness/process';
import { KB_DATABASE, type DrillContext } from '../context';
import type { DrillStep } from '../runner';

const execFileAsync = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

/** Writes made after the backup; the restore cannot bring these back (the RPO at work). */
const LATE_WRITES = 25;

async function script(ctx: DrillContext, name: string, args: string[]): Promise<string> {
  const pg = ctx.pg;
  if (!pg) throw new Error('PostgreSQL is not running (the seed step did not pass)');
  try {
    const { stdout } = await execFileAsync(join(ROOT, 'scripts', name), args, {
      env: { ...process.env, ...pg.env(KB_DATABASE), LOG_LEVEL: 'WARN' },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string; signal?: string | null };
    const command = `scripts/${name} ${args.join(' ')}`;
    // execFile's error: a string code when the script could not start, a number when it exited,
    // a signal when it was killed; never print a missing one as "null".
    if (typeof e.code === 'string') throw new Error(describeStartError(command, e));
    const how = e.signal ? `was killed by signal ${e.signal}` : `exited with code ${e.code ?? 'unknown'}`;
    throw new Error(`${command} ${how}: ${(e.stderr || e.stdout || '').trim() || '(no output)'}`);
  }
}

function field(output: string, name: string): string {
  const m = new RegExp(`^${name}:\\s+(.+)$`, 'm').exec(output);
  if (!m?.[1]) throw new Error(`no "${name}:" line in:\n${output}`);
  return m[1].trim();
}

export const localRestoreStep: DrillStep<DrillContext> = {
  id: 'local',
  title: 'PostgreSQL: backup, validate, disaster, restore, rollback',
  needs: ['seed'],
  async run(ctx, log) {
    const pg = ctx.pg!;
    const count = async (): Promise<number> =>
      Number(await pg.sql(KB_DATABASE, 'SELECT count(*) FROM knowledge_entries'));
    const backupDir = join(ctx.options.outDir, 'backups');
    const before = await count();

    const backedUpAt = Date.now();
    const backup = await script(ctx, 'backup-kb.sh', ['--local', `--dir=${backupDir}`]);
    const file = field(backup, 'backup');
    log(`scripts/backup-kb.sh --local → ${file} (${field(backup, 'entries')})`);

    const validation = await script(ctx, 'validate-backup.sh', [`--backup-file=${file}`]);
    const checks = validation.split('\n').filter((l) => /^(PASS|FAIL)/.test(l.trim()));
    if (checks.length === 0 || checks.some((l) => l.trim().startsWith('FAIL'))) {
      throw new Error(`validation did not pass:\n${validation}`);
    }
    log(`scripts/validate-backup.sh → ${checks.length} checks PASS`);

    await pg.sql(
      KB_DATABASE,
      `INSERT INTO knowledge_entries (title, body, tags) SELECT 'late ' || g, 'written after the backup', ARRAY['late'] FROM generate_series(1, ${LATE_WRITES}) g`,
    );
    const disasterAt = Date.now();
    await pg.sql(KB_DATABASE, 'DROP TABLE knowledge_entries CASCADE');
    log(`disaster: ${LATE_WRITES} entries written after the backup, then DROP TABLE knowledge_entries`);

    const t0 = performance.now();
    const restore = await script(ctx, 'restore-kb.sh', ['--local', `--backup-file=${file}`, '--yes']);
    const restoreSeconds = (performance.now() - t0) / 1000;
    const after = await count();
    if (after !== before) throw new Error(`restored ${after} entries, the backup held ${before}`);
    log(
      `scripts/restore-kb.sh --local --yes → ${after} entries back (${restoreSeconds.toFixed(1)} s, ${field(restore, 'throughput')})`,
    );
    const kept = /_pre_restore_[\d_]+/.exec(restore)?.[0];
    if (kept) log(`the damaged database is kept as ${KB_DATABASE}${kept}`);

    await script(ctx, 'restore-kb.sh', ['--local', '--rollback', '--yes']);
    const rolledBack = await pg.sql(KB_DATABASE, "SELECT to_regclass('knowledge_entries') IS NULL");
    if (rolledBack !== 't') throw new Error('rollback did not bring back the pre-restore (damaged) database');
    log(
      'scripts/restore-kb.sh --local --rollback → the pre-restore database is back (table missing, as it was)',
    );
    // Undo the demonstration so the Knowledge Base ends restored.
    await script(ctx, 'restore-kb.sh', ['--local', `--backup-file=${file}`, '--yes']);
    const final = await count();
    if (final !== before) throw new Error(`final restore left ${final} entries, expected ${before}`);
    log(`restored again → ${final} entries; ${LATE_WRITES} late entries lost, as the RPO predicts`);

    ctx.measured.localRestoreSeconds = restoreSeconds;
    ctx.measured.localRestoreThroughput = field(restore, 'throughput');
    ctx.measured.localDataLossSeconds = (disasterAt - backedUpAt) / 1000;
    ctx.measured.localEntriesLost = LATE_WRITES;
    return { details: [], figures: { restoreSeconds, entries: after, entriesLost: LATE_WRITES } };
  },
};
