/**
 * The emulated RDS data plane on real PostgreSQL: snapshot, restore, point-in-time restore and
 * export, verified with the Knowledge Base data checks. One data plane for the file (CPU is
 * scarce); the tests run in order and share it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_CHECKS, verifyKbData, type KbConnectionConfig } from '../../lambda/shared/kb-data-checks';
import {
  FOOTER_FETCH_BYTES,
  exportRowCounts,
  exportedTableOf,
  parquetRowCount,
  type ReadRange,
} from '../../lambda/shared/parquet-counts';
import { alive, withClient } from '../../harness/pg-cluster';
import { startRdsDataPlane, type EmulatedInstance, type RdsDataPlane } from '../../harness/rds-data-plane';
import { KB_SCHEMA_SQL, seedSql } from '../../harness/postgres';

const SEEDED = 2000;
const lines: string[] = [];
const figures: Record<string, number> = {};
let plane: RdsDataPlane;
let t1: Date;

const connOf = (i: EmulatedInstance): KbConnectionConfig => ({
  host: i.host,
  port: i.port,
  database: i.database,
  user: i.user,
  password: i.password,
});
const sql = <T extends Record<string, unknown>>(i: EmulatedInstance, text: string): Promise<T[]> =>
  withClient(i.port, i.password, i.database, async (c) => (await c.query<T>(text)).rows);
const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
  const started = Date.now();
  const out = await fn();
  figures[name] = Date.now() - started;
  return out;
};

beforeAll(async () => {
  plane = await timed('start protected instance + seed 2,000 entries (ms)', () =>
    startRdsDataPlane({ log: (l) => lines.push(l), initSql: KB_SCHEMA_SQL + seedSql(SEEDED) }),
  );
}, 120_000);
afterAll(async () => {
  await plane?.stopAll();
  console.log(`emulated RDS figures (2,000-entry KB, this machine):\n${JSON.stringify(figures, null, 2)}`);
});

describe('emulated RDS data plane', () => {
  it('refuses a point-in-time restore before any base backup, changing nothing', async () => {
    await expect(plane.restoreToPointInTime(new Date(), 'kb-restore-too-early')).rejects.toThrow(
      /emulated RDS: no base backup yet, so no point in time is restorable; take a snapshot first/,
    );
    expect(() => plane.instance('kb-restore-too-early')).toThrow(/no instance kb-restore-too-early/);
  });

  it('a restored snapshot has exactly the snapshot entries, not the writes made after it', async () => {
    await timed('snapshot (pg_basebackup) (ms)', () => plane.snapshot('kb-snapshot-20261127-020000'));
    const prod = plane.protectedInstance;
    // after the snapshot: 500 more seeded entries (dated 2026-01), then batch A (now), T1, batch B
    await sql(prod, seedSql(500, { from: SEEDED + 1 }));
    await sql(
      prod,
      `INSERT INTO knowledge_entries (title, body) SELECT 'Batch A ' || g, 'before T1' FROM generate_series(1, 100) g`,
    );
    t1 = new Date();
    await new Promise((r) => setTimeout(r, 20));
    await sql(
      prod,
      `INSERT INTO knowledge_entries (title, body) SELECT 'Batch B ' || g, 'after T1' FROM generate_series(1, 100) g`,
    );
    await sql(
      prod,
      `UPDATE knowledge_entries SET body = body || ' edited after T1', updated_at = now() WHERE id = 7`,
    );

    const restored = await timed('restore snapshot (ms)', () =>
      plane.restoreSnapshot('kb-snapshot-20261127-020000', 'kb-restore-snap'),
    );

    const r = await verifyKbData(connOf(restored), {
      expectedCounts: {
        knowledgeEntries: SEEDED,
        embeddingCache: SEEDED / 4,
        source: 'backup kb-snapshot-20261127-020000',
      },
    });
    expect(r.report).toContain(
      'PASS counts match the backup record: knowledge_entries 2,000 (recorded 2,000); embedding_cache 500 (recorded 500): as recorded in backup kb-snapshot-20261127-020000',
    );
    expect(r.result).toBe('PASS');
    expect(
      await sql(
        restored,
        'SELECT min(id)::int AS lo, max(id)::int AS hi, count(*)::int AS n FROM knowledge_entries',
      ),
    ).toEqual([{ lo: 1, hi: SEEDED, n: SEEDED }]);
    expect(await sql(restored, `SELECT body FROM knowledge_entries WHERE id = 7`)).toEqual([
      { body: expect.not.stringContaining('edited after T1') },
    ]);
    // and the protected instance does have the later writes
    expect(await sql(prod, 'SELECT count(*)::int AS n FROM knowledge_entries')).toEqual([
      { n: SEEDED + 700 },
    ]);
    await plane.stopInstance('kb-restore-snap');
  });

  it('a point-in-time restore to T1 has exactly the entries committed by T1 and none written after', async () => {
    const restored = await timed('point-in-time restore (base backup + WAL replay) (ms)', () =>
      plane.restoreToPointInTime(t1, 'kb-restore-pitr'),
    );
    expect(restored.origin).toEqual({
      kind: 'point-in-time',
      targetTime: t1,
      baseSnapshotId: 'kb-snapshot-20261127-020000',
    });

    const r = await verifyKbData(connOf(restored), { targetTime: t1, expectedEntries: SEEDED + 600 });
    expect(r.checks.find((c) => c.check === DATA_CHECKS.targetTime)?.status).toBe('PASS');
    expect(r.checks.find((c) => c.check === DATA_CHECKS.expectedEntries)?.detail).toBe(
      'knowledge_entries 2,600, expected 2,600',
    );
    expect(r.result).toBe('PASS');
    expect(
      await sql(
        restored,
        `SELECT count(*) FILTER (WHERE title LIKE 'Batch A %')::int AS a, count(*) FILTER (WHERE title LIKE 'Batch B %')::int AS b,
                count(*) FILTER (WHERE body LIKE '%edited after T1')::int AS edited FROM knowledge_entries`,
      ),
    ).toEqual([{ a: 100, b: 0, edited: 0 }]);

    // The same checks on production, which has the writes after T1, FAIL with the figures.
    const prod = await verifyKbData(connOf(plane.protectedInstance), { targetTime: t1 });
    expect(prod.result).toBe('FAIL');
    expect(prod.checks.find((c) => c.check === DATA_CHECKS.targetTime)?.detail).toMatch(
      /: 101 entries created or updated after it/,
    );
    await plane.stopInstance('kb-restore-pitr');
  });

  it('refuses targets before the first base backup or after the latest archived WAL', async () => {
    const first = plane.listSnapshots()[0]!;
    await expect(
      plane.restoreToPointInTime(new Date(first.takenAt.getTime() - 1000), 'kb-restore-before'),
    ).rejects.toThrow(
      /is before the earliest restorable time .* \(the first base backup\); choose a later target/,
    );
    await expect(
      plane.restoreToPointInTime(new Date(Date.now() + 3_600_000), 'kb-restore-future'),
    ).rejects.toThrow(
      /is after the latest restorable time .* \(the last archived WAL\); choose an earlier target/,
    );
    expect(plane.pids()).toHaveLength(1); // only the protected instance runs
    await expect(plane.restoreSnapshot('kb-snapshot-nope', 'kb-restore-x')).rejects.toThrow(
      /snapshot kb-snapshot-nope not found \(DBSnapshotNotFound\); snapshots: kb-snapshot-20261127-020000/,
    );
  });

  it("exports the snapshot as Parquet in RDS's layout; footer row counts equal the table counts", async () => {
    const bucket = new Map<string, Uint8Array>();
    const task = 'kb-export-20261127-020000';
    const result = await timed('export snapshot to Parquet (ms)', () =>
      plane.exportSnapshot('kb-snapshot-20261127-020000', task, async (key, body) => {
        bucket.set(key, body);
      }),
    );

    const keys = [...bucket.keys()].sort();
    expect(keys).toEqual([
      expect.stringMatching(new RegExp(`^exports/${task}/export_info_${task}\\.json$`)),
      expect.stringMatching(new RegExp(`^exports/${task}/export_tables_info_${task}_from_1_to_2\\.json$`)),
      expect.stringMatching(
        new RegExp(
          `^exports/${task}/knowledge_base/public\\.embedding_cache/1/part-00000-[0-9a-f-]{36}-c000\\.gz\\.parquet$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^exports/${task}/knowledge_base/public\\.knowledge_entries/1/part-00000-[0-9a-f-]{36}-c000\\.gz\\.parquet$`,
        ),
      ),
    ]);
    const tablesInfo = JSON.parse(new TextDecoder().decode(bucket.get(keys[1]!)!)) as {
      perTableStatus: {
        target: string;
        status: string;
        schemaMetadata: { originalTypeMappings: { columnName: string }[] };
      }[];
    };
    expect(tablesInfo.perTableStatus.map((t) => [t.target, t.status])).toEqual([
      ['knowledge_base.public.knowledge_entries', 'COMPLETE'],
      ['knowledge_base.public.embedding_cache', 'COMPLETE'],
    ]);
    expect(
      tablesInfo.perTableStatus[0]!.schemaMetadata.originalTypeMappings.map((m) => m.columnName),
    ).toContain('embedding');
    const info = JSON.parse(new TextDecoder().decode(bucket.get(keys[0]!)!)) as Record<string, unknown>;
    expect(info).toMatchObject({ exportTaskIdentifier: task, status: 'COMPLETE', percentProgress: 100 });

    const ranges: [string, number, number][] = [];
    const readRange: ReadRange = async (key, start, end) => {
      ranges.push([key, start, end]);
      return bucket.get(key)!.subarray(start, end);
    };
    const counts = await exportRowCounts(
      keys.map((key) => ({ key, size: bucket.get(key)!.byteLength })),
      `exports/${task}/`,
      readRange,
    );
    expect(counts.map(({ table, rows, files }) => ({ table, rows, files }))).toEqual([
      { table: 'public.embedding_cache', rows: SEEDED / 4, files: 1 },
      { table: 'public.knowledge_entries', rows: SEEDED, files: 1 },
    ]);
    expect(result.tables.map((t) => t.rows)).toEqual([SEEDED, SEEDED / 4]);
    // footers only: the entries file is larger than the footer window, and far from all of it was read
    const entriesKey = keys[3]!;
    const size = bucket.get(entriesKey)!.byteLength;
    figures['knowledge_entries Parquet size (bytes)'] = size;
    figures['knowledge_entries bytes read for the row count'] = counts[1]!.bytesRead;
    expect(size).toBeGreaterThan(FOOTER_FETCH_BYTES);
    expect(counts[1]!.bytesRead).toBeLessThanOrEqual(FOOTER_FETCH_BYTES);
    // never from byte 0: no whole-file read
    expect(ranges.filter(([key]) => key === entriesKey).every(([, start]) => start > 0)).toBe(true);
    // the temporary export cluster is gone
    expect(plane.pids()).toHaveLength(1);
  });

  it('row counts fail clearly on an object that is not Parquet', async () => {
    const junk = new TextEncoder().encode('PAR1 not really a parquet file PAR1');
    await expect(
      parquetRowCount('exports/x/db/public.t/1/part-0.gz.parquet', junk.byteLength, async (_k, s, e) =>
        junk.subarray(s, e),
      ),
    ).rejects.toThrow(
      /exports\/x\/db\/public\.t\/1\/part-0\.gz\.parquet \(35 bytes\) is not a readable Parquet file/,
    );
    await expect(parquetRowCount('k.parquet', 100, async () => new Uint8Array(10))).rejects.toThrow(
      /returned 10 bytes instead of/,
    );
  });

  it('tells exported tables from the JSON files by key', () => {
    const p = 'exports/kb-export-1/';
    expect(exportedTableOf(`${p}kb/public.knowledge_entries/1/part-00000-a.gz.parquet`, p)).toEqual({
      database: 'kb',
      table: 'public.knowledge_entries',
    });
    expect(exportedTableOf(`${p}export_info_kb-export-1.json`, p)).toBeUndefined();
    expect(exportedTableOf(`exports/other/kb/public.t/1/part-0.gz.parquet`, p)).toBeUndefined();
  });

  it('maps the endpoint moto reports to the local cluster', async () => {
    const restored = await plane.restoreSnapshot('kb-snapshot-20261127-020000', 'kb-restore-ep');
    plane.mapEndpoint('kb-restore-ep.abcdefghij.us-east-1.rds.amazonaws.com', 5432, 'kb-restore-ep');
    expect(plane.resolve('KB-RESTORE-EP.abcdefghij.us-east-1.rds.amazonaws.com', 5432)).toEqual({
      host: '127.0.0.1',
      port: restored.port,
      instanceId: 'kb-restore-ep',
    });
    expect(() => plane.resolve('kb-other.abcdefghij.us-east-1.rds.amazonaws.com', 5432)).toThrow(
      /emulated RDS: no cluster behind endpoint kb-other\.abcdefghij\.us-east-1\.rds\.amazonaws\.com:5432/,
    );
    await expect(plane.restoreSnapshot('kb-snapshot-20261127-020000', 'kb-restore-ep')).rejects.toThrow(
      /instance kb-restore-ep already exists/,
    );
    await plane.stopInstance('kb-restore-ep');
    expect(() => plane.resolve('kb-restore-ep.abcdefghij.us-east-1.rds.amazonaws.com', 5432)).toThrow(
      /no cluster behind/,
    );
  });

  it('stopAll leaves no postgres process and no folder behind; every line says it is emulated', async () => {
    await plane.restoreSnapshot('kb-snapshot-20261127-020000', 'kb-restore-last');
    const pids = plane.pids();
    expect(pids).toHaveLength(2);
    expect(pids.every(alive)).toBe(true);

    await plane.stopAll();

    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(plane.root)).toBe(false);
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.filter((l) => !l.startsWith('emulated RDS: '))).toEqual([]);
    await expect(plane.snapshot('kb-snapshot-late')).rejects.toThrow(/the data plane was stopped/);
  });
  it('a process that exits without stopAll still stops its clusters', async () => {
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `require('./harness/rds-data-plane').startRdsDataPlane({ log: () => undefined })
           .then((p) => { console.log(JSON.stringify({ pids: p.pids(), root: p.root })); process.exit(0); })`,
      ],
      { cwd: join(__dirname, '../..'), encoding: 'utf8', timeout: 90_000 },
    );
    expect(child.stderr).toBe('');
    const { pids, root } = JSON.parse(child.stdout) as { pids: number[]; root: string };
    expect(pids).toHaveLength(1);
    for (let i = 0; i < 100 && pids.some(alive); i += 1) await new Promise((r) => setTimeout(r, 50));
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(root)).toBe(false);
  });
});
