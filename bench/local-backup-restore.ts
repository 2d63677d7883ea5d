/**
 * Our local backup and restore, run as a user runs them (scripts/backup-kb.sh --local,
 * scripts/restore-kb.sh --local --yes: the built CLI), against the plain pipelines, side by side
 * on a throwaway PostgreSQL, alternating, median of BENCH_REPS (default 3):
 *
 *   backup:  ours (pg_dump -> scan -> parallel gzip -> SHA-256 -> temp file -> rename)
 *            vs `pg_dump | gzip > f && sha256sum f`
 *   restore: ours (one pass: checksum + structure + load into a new database, verify, swap)
 *            vs `createdb fresh && gunzip -c f | psql -v ON_ERROR_STOP=1`
 *
 * Settings: BENCH_ENTRIES (default 200000: the ratio rows), the peak-RSS curve's sizes
 * `--sizes 1000,50000,200000,500000` on the command line or BENCH_MEMORY_SIZES (default
 * 1000,50000,BENCH_ENTRIES; 500000 takes minutes), BENCH_DIMS (embedding dimensions, default
 * 64), BENCH_REPS (default 3). E.g. `npm run bench:local -- --sizes 1000,50000,200000,500000`.
 * Peak RSS is GNU time's maximum resident set of the command (ours: the node process; the
 * pg_dump/psql it starts are the same binaries as in the plain pipelines).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createKbDatabase, startPostgres, type TestPostgres } from '../harness/postgres';
import { median, secs, timed, type BenchModule, type BenchRow, type Run } from './measure';

const ROOT = resolve(__dirname, '..');

interface SizeResult {
  entries: number;
  sqlMiB: number;
  gzMiB: number;
  plainGzMiB: number;
  backupPlain: Run[];
  backupOurs: Run[];
  restorePlain: Run[];
  restoreOurs: Run[];
  dumpOnly: Run[];
  gzipOnly: Run[];
}

async function measureSize(
  pg: TestPostgres,
  entries: number,
  dims: number,
  reps: number,
): Promise<SizeResult> {
  const db = `kb_bench_${entries}`;
  process.stderr.write(`bench: seeding ${entries} entries (${dims}-dimension embeddings)...\n`);
  await createKbDatabase(pg, db, entries, { dimensions: dims });
  await pg.sql(db, 'VACUUM ANALYZE');
  const env = {
    ...pg.env(db),
    PGHOST: pg.host,
    PGPORT: String(pg.port),
    PGUSER: pg.user,
    PGPASSWORD: pg.password,
    PGDATABASE: db,
  };
  const work = mkdtempSync(join(pg.dir, 'bench-'));
  const r: SizeResult = {
    entries,
    sqlMiB: 0,
    gzMiB: 0,
    plainGzMiB: 0,
    backupPlain: [],
    backupOurs: [],
    restorePlain: [],
    restoreOurs: [],
    dumpOnly: [],
    gzipOnly: [],
  };
  let file = '';
  try {
    for (let rep = 0; rep < reps; rep += 1) {
      const plainFile = join(work, `plain-${rep}.sql.gz`);
      r.backupPlain.push(
        await timed(`pg_dump | gzip > ${plainFile} && sha256sum ${plainFile} > ${plainFile}.sha256`, env),
      );
      r.plainGzMiB = statSync(plainFile).size / 1048576;
      const dir = join(work, `ours-${rep}`);
      const ours = await timed(`${join(ROOT, 'scripts/backup-kb.sh')} --local --dir=${dir}`, env);
      r.backupOurs.push(ours);
      file = /^backup:\s+(\S+)/m.exec(ours.stdout)![1]!;
      rmSync(plainFile);
    }
    // The CPU-time floor: pg_dump alone, and gzip -6 of the same SQL alone.
    const sql = join(work, 'dump.sql');
    for (let rep = 0; rep < Math.min(reps, 2); rep += 1) {
      r.dumpOnly.push(await timed(`pg_dump > ${sql}`, env));
      r.gzipOnly.push(await timed(`gzip -6 -c ${sql} > /dev/null`, env));
    }
    r.sqlMiB = statSync(sql).size / 1048576;
    rmSync(sql);
    r.gzMiB = statSync(file).size / 1048576;
    for (let rep = 0; rep < reps; rep += 1) {
      const fresh = `${db}_plain_${rep}`;
      r.restorePlain.push(
        await timed(
          `createdb ${fresh} && gunzip -c ${file} | psql -X -q -v ON_ERROR_STOP=1 -d ${fresh} >/dev/null`,
          env,
        ),
      );
      await pg.sql('postgres', `DROP DATABASE ${fresh}`);
      r.restoreOurs.push(
        await timed(`${join(ROOT, 'scripts/restore-kb.sh')} --local --backup-file=${file} --yes`, env),
      );
      for (const kept of (await pg.databases()).filter((d) => d.startsWith(`${db}_pre_restore_`))) {
        await pg.sql('postgres', `DROP DATABASE "${kept}"`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    await pg.sql('postgres', `DROP DATABASE IF EXISTS ${db}`);
  }
  return r;
}

const wallMed = (runs: readonly Run[]) => median(runs.map((x) => x.wallMs));
const rssMax = (runs: readonly Run[]) => Math.max(...runs.map((x) => x.maxRssMiB));

export const localBench: BenchModule = {
  name: 'local',
  async run(): Promise<BenchRow[]> {
    const entries = Number(process.env.BENCH_ENTRIES ?? 200000);
    const sizesArg = process.argv.includes('--sizes')
      ? process.argv[process.argv.indexOf('--sizes') + 1]
      : process.env.BENCH_MEMORY_SIZES;
    const memorySizes = (sizesArg ?? `1000,50000,${entries}`).split(',').map(Number);
    if (memorySizes.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new Error(
        `--sizes takes entry counts separated by commas, e.g. 1000,50000,200000; got ${sizesArg}`,
      );
    }
    const dims = Number(process.env.BENCH_DIMS ?? 64);
    const reps = Number(process.env.BENCH_REPS ?? 3);
    const pg = await startPostgres();
    const rows: BenchRow[] = [];
    try {
      const sizes = [...new Set([...memorySizes, entries])].sort((a, b) => a - b);
      const results = new Map<number, SizeResult>();
      for (const n of sizes) results.set(n, await measureSize(pg, n, dims, n === entries ? reps : 1));
      const main = results.get(entries)!;
      const baseRss = (await timed('node -e 0')).maxRssMiB;
      const bo = wallMed(main.backupOurs);
      const bp = wallMed(main.backupPlain);
      const gzCpu = median(main.gzipOnly.map((x) => x.cpuMs));
      const dumpWall = median(main.dumpOnly.map((x) => x.wallMs));
      rows.push({
        area: 'backup',
        what: `${entries} entries (${main.sqlMiB.toFixed(0)} MiB SQL)`,
        measured: `ours ${secs(bo)} vs \`pg_dump | gzip > f && sha256sum f\` ${secs(bp)}; floor: pg_dump alone ${secs(dumpWall)}, gzip -6 CPU ${secs(gzCpu)}`,
        value: bo / bp,
        target: '<= 0.8x',
        ok: bo / bp <= 0.8,
      });
      rows.push({
        area: 'backup',
        what: 'output size vs gzip -6',
        measured: `${main.gzMiB.toFixed(1)} MiB vs ${main.plainGzMiB.toFixed(1)} MiB`,
        value: main.gzMiB / main.plainGzMiB,
        target: '<= 1.1x',
        ok: main.gzMiB / main.plainGzMiB <= 1.1,
      });
      const ro = wallMed(main.restoreOurs);
      const rp = wallMed(main.restorePlain);
      rows.push({
        area: 'restore',
        what: `${entries} entries, validation, verification and swap included`,
        measured: `ours ${secs(ro)} vs \`createdb && gunzip -c f | psql\` ${secs(rp)}; ${((main.gzMiB * 1.048576) / (ro / 1000)).toFixed(1)} MB/s of file`,
        value: ro / rp,
        target: '<= 1.0x',
        ok: ro / rp <= 1.0,
      });
      for (const op of ['backup', 'restore'] as const) {
        const curve = sizes.map((n) => {
          const s = results.get(n)!;
          return {
            n,
            rss: rssMax(op === 'backup' ? s.backupOurs : s.restoreOurs),
            plain: rssMax(op === 'backup' ? s.backupPlain : s.restorePlain),
          };
        });
        const peak = Math.max(...curve.map((c) => c.rss));
        // Flat: the largest size costs at most 10 MiB more than the smallest.
        const spread = peak - Math.min(...curve.map((c) => c.rss));
        rows.push({
          area: 'memory',
          what: `${op} peak RSS, ${sizes.join(' / ')} entries`,
          measured: `${curve.map((c) => `${c.rss}`).join(' / ')} MiB, spread ${spread.toFixed(1)} MiB (plain: ${curve.map((c) => `${c.plain}`).join(' / ')}; \`node -e 0\` ${baseRss} MiB)${curve.length < 2 ? '; one size: flatness not judged (--sizes 1000,50000,200000,500000)' : ''}`,
          value: peak,
          target: '<= 80 MiB, spread <= 10 MiB',
          // Flatness needs two sizes at least: one size is not judged "flat".
          ok: curve.length < 2 ? undefined : peak <= 80 && spread <= 10,
        });
      }
    } finally {
      await pg.stop();
    }
    return rows;
  },
};
