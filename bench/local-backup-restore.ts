/**
 * `npm run bench:local`: our local backup and restore against the plain pipelines, side by side,
 * on a throwaway PostgreSQL seeded with ≥100,000 Knowledge Base entries, at two sizes to show that
 * our memory stays flat as the database grows.
 *
 *   backup:  ours (pg_dump → scan → gzip → SHA-256 → temp file → rename, validated structure)
 *            vs `pg_dump | gzip > f && sha256sum f`
 *   restore: ours (validation + new database + verification + swap)
 *            vs `createdb fresh && gunzip -c f | psql -v ON_ERROR_STOP=1`
 *
 * Each of ours runs in a child process (as a developer runs it) that reports its own peak RSS
 * (process.resourceUsage().maxRSS: the Node process only; pg_dump/psql are the same binaries in
 * both columns). Wall times include the child's start-up. Each pair runs REPS times, alternating,
 * and the best of each is kept. Settings: BENCH_SIZES (default 100000,200000), BENCH_DIMS
 * (embedding dimensions, default 64), BENCH_REPS (default 2).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLocalBackup } from '../cli/local/backup';
import { resolveConnection } from '../cli/local/connection';
import { restoreLocalBackup } from '../cli/local/restore';
import { silentLogger } from '../cli/shared/logger';
import { createKbDatabase, startPostgres, type TestPostgres } from '../harness/postgres';

const ROOT = resolve(__dirname, '..');

interface ChildReport {
  readonly ms: number;
  readonly maxRssMiB: number;
  readonly path?: string;
}

/** Child mode: run one operation of ours and print a JSON report on stdout. */
async function child(operation: string, arg: string): Promise<void> {
  const conn = resolveConnection(process.env);
  const started = Date.now();
  let path: string | undefined;
  if (operation === 'backup') {
    path = (await createLocalBackup({ conn, dir: arg, logger: silentLogger })).path;
  } else {
    await restoreLocalBackup({ conn, file: arg, logger: silentLogger, confirm: async () => true });
  }
  const report: ChildReport = {
    ms: Date.now() - started,
    maxRssMiB: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
    ...(path ? { path } : {}),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

function sh(command: string, env: Record<string, string>): Promise<number> {
  const started = Date.now();
  return new Promise((resolveRun, reject) => {
    const p = spawn('bash', ['-c', `set -euo pipefail; ${command}`], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    p.on('close', (code) =>
      code === 0 ? resolveRun(Date.now() - started) : reject(new Error(`${command} → ${code}`)),
    );
  });
}

function ours(
  operation: string,
  arg: string,
  env: Record<string, string>,
): Promise<{ wallMs: number; report: ChildReport }> {
  const started = Date.now();
  return new Promise((resolveRun, reject) => {
    const p = spawn(join(ROOT, 'node_modules/.bin/tsx'), [__filename, '--child', operation, arg], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.on('close', (code) =>
      code === 0
        ? resolveRun({
            wallMs: Date.now() - started,
            report: JSON.parse(out.trim().split('\n').pop()!) as ChildReport,
          })
        : reject(new Error(`ours ${operation} → ${code}`)),
    );
  });
}

interface Row {
  entries: number;
  sqlMiB: number;
  gzMiB: number;
  backupPlain: number;
  backupOurs: number;
  backupRss: number;
  backupInProcess: number;
  restoreInProcess: number;
  restorePlain: number;
  restoreOurs: number;
  restoreRss: number;
}

const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
const s = (ms: number) => (ms / 1000).toFixed(2);

async function measure(pg: TestPostgres, entries: number, dims: number, reps: number): Promise<Row> {
  const db = `kb_bench_${entries}`;
  process.stderr.write(`seeding ${entries} entries (${dims}-dimension embeddings)...\n`);
  await createKbDatabase(pg, db, entries, { dimensions: dims });
  await pg.sql(db, 'VACUUM ANALYZE');
  const env = pg.env(db);
  const pgEnv = {
    PGHOST: pg.host,
    PGPORT: String(pg.port),
    PGUSER: pg.user,
    PGPASSWORD: pg.password,
    PGDATABASE: db,
  };
  const work = mkdtempSync(join(pg.dir, 'bench-'));
  let backupPlain = Infinity;
  let backupOurs = Infinity;
  let backupRss = 0;
  let backupInProcess = Infinity;
  let restoreInProcess = Infinity;
  let restorePlain = Infinity;
  let restoreOurs = Infinity;
  let restoreRss = 0;
  let file = '';
  for (let rep = 0; rep < reps; rep += 1) {
    const plainFile = join(work, `plain-${rep}.sql.gz`);
    backupPlain = Math.min(
      backupPlain,
      await sh(
        `pg_dump --no-owner --no-privileges | gzip > ${plainFile} && sha256sum ${plainFile} > ${plainFile}.sha256`,
        pgEnv,
      ),
    );
    const dir = join(work, `ours-${rep}`);
    const b = await ours('backup', dir, env);
    backupOurs = Math.min(backupOurs, b.wallMs);
    backupRss = Math.max(backupRss, b.report.maxRssMiB);
    backupInProcess = Math.min(backupInProcess, b.report.ms);
    file = b.report.path!;
    if (rep > 0) await new Promise((r) => setTimeout(r, 1100)); // distinct backup names
  }
  const sqlBytes = Number(await pg.sql('postgres', `SELECT pg_database_size('${db}')`));
  const gzBytes = statSync(file).size;
  for (let rep = 0; rep < reps; rep += 1) {
    const fresh = `${db}_plain_${rep}`;
    restorePlain = Math.min(
      restorePlain,
      await sh(
        `createdb ${fresh} && gunzip -c ${file} | psql -X -q -v ON_ERROR_STOP=1 -d ${fresh} >/dev/null`,
        pgEnv,
      ),
    );
    await pg.sql('postgres', `DROP DATABASE ${fresh}`);
    const r = await ours('restore', file, env);
    restoreOurs = Math.min(restoreOurs, r.wallMs);
    restoreRss = Math.max(restoreRss, r.report.maxRssMiB);
    restoreInProcess = Math.min(restoreInProcess, r.report.ms);
    for (const kept of (await pg.databases()).filter((d) => d.startsWith(`${db}_pre_restore_`))) {
      await pg.sql('postgres', `DROP DATABASE "${kept}"`);
    }
  }
  rmSync(work, { recursive: true, force: true });
  await pg.sql('postgres', `DROP DATABASE ${db}`);
  return {
    entries,
    sqlMiB: mib(sqlBytes),
    gzMiB: mib(gzBytes),
    backupPlain,
    backupOurs,
    backupRss,
    backupInProcess,
    restoreInProcess,
    restorePlain,
    restoreOurs,
    restoreRss,
  };
}

async function main(): Promise<void> {
  const sizes = (process.env.BENCH_SIZES ?? '100000,200000').split(',').map(Number);
  const dims = Number(process.env.BENCH_DIMS ?? 64);
  const reps = Number(process.env.BENCH_REPS ?? 2);
  const pg = await startPostgres();
  try {
    const rows: Row[] = [];
    for (const size of sizes) rows.push(await measure(pg, size, dims, reps));
    const header =
      '| entries | DB size MiB | backup .gz MiB | backup plain s | backup ours s (in-process) | ratio | restore plain s | restore ours s (in-process) | ratio | our peak RSS backup / restore MiB |';
    console.log(
      `\nLocal backup/restore benchmark (best of ${reps}, ${dims}-dim embeddings, ${process.env.HOSTNAME ?? 'this machine'})\n`,
    );
    console.log(header);
    console.log(
      `|${header
        .split('|')
        .slice(1, -1)
        .map(() => '---')
        .join('|')}|`,
    );
    for (const r of rows) {
      console.log(
        `| ${r.entries} | ${r.sqlMiB} | ${r.gzMiB} | ${s(r.backupPlain)} | ${s(r.backupOurs)} (${s(r.backupInProcess)}) | ${(r.backupOurs / r.backupPlain).toFixed(2)} | ${s(r.restorePlain)} | ${s(r.restoreOurs)} (${s(r.restoreInProcess)}) | ${(r.restoreOurs / r.restorePlain).toFixed(2)} | ${r.backupRss} / ${r.restoreRss} |`,
      );
    }
    console.log(
      '\nratio = ours wall time (child start-up included) / plain pipeline; lower is better. Ours also validates, verifies and swaps.',
    );
  } finally {
    await pg.stop();
  }
}

if (process.argv[2] === '--child') {
  child(process.argv[3]!, process.argv[4]!).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
