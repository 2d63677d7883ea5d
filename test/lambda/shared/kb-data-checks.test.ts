import { createServer, type AddressInfo, type Socket } from 'node:net';
import {
  DATA_CHECKS,
  formatCheckLine,
  verifyKbData,
  type KbConnectionConfig,
  type KbDataReport,
} from '../../../lambda/shared/kb-data-checks';
import { freePort } from '../../../harness/moto';
import { makeTestCa, type TestCa } from '../../../harness/test-tls';
import { KB_SCHEMA_SQL, seedSql, startPostgres, type TestPostgres } from '../../../harness/postgres';

let pg: TestPostgres;
const conn = (database: string, extra: Partial<KbConnectionConfig> = {}): KbConnectionConfig => ({
  host: pg.host,
  port: pg.port,
  database,
  user: pg.user,
  password: pg.password,
  ...extra,
});
const line = (r: KbDataReport, check: string): string =>
  r.report.find((l) => l.slice(5).startsWith(`${check}:`)) ?? `(no ${check} line in ${r.report.join(' | ')})`;

beforeAll(async () => {
  pg = await startPostgres();
  await pg.sql('postgres', 'CREATE DATABASE kb_normal');
  await pg.sql('kb_normal', KB_SCHEMA_SQL + seedSql(40));
  // seedSql dates entries in 2026-01 but cache rows now(); date the cache before the entries too.
  await pg.sql('kb_normal', "UPDATE embedding_cache SET created_at = '2026-01-01 00:00:00+00'");
  await pg.sql('postgres', 'CREATE DATABASE kb_empty');
  await pg.sql('kb_empty', KB_SCHEMA_SQL);
  await pg.sql('postgres', 'CREATE DATABASE kb_no_cache');
  await pg.sql(
    'kb_no_cache',
    `${KB_SCHEMA_SQL} DROP TABLE embedding_cache; ${seedSql(5, { withCache: false })}`,
  );
  await pg.sql('postgres', 'CREATE DATABASE not_kb');
}, 120_000);
afterAll(async () => {
  await pg?.stop();
});

describe('Knowledge Base data checks on a real PostgreSQL', () => {
  it('passes a normal KB with the figures: counts, newest timestamps, sample read, text search', async () => {
    const r = await verifyKbData(conn('kb_normal'));

    expect(r.result).toBe('PASS');
    expect(r.checks.every((c) => c.status === 'PASS')).toBe(true);
    expect(r.figures).toEqual({
      knowledgeEntries: 40,
      embeddingCache: 10,
      // seedSql: created_at = 2026-01-01 + g minutes, updated_at = + 2g minutes
      newestCreatedAt: '2026-01-01T00:40:00.000000Z',
      newestUpdatedAt: '2026-01-01T01:20:00.000000Z',
    });
    expect(r.report).toEqual(r.checks.map(formatCheckLine));
    expect(line(r, DATA_CHECKS.counts)).toBe('PASS entry counts: knowledge_entries 40; embedding_cache 10');
    expect(line(r, DATA_CHECKS.connect)).toMatch(
      /^PASS database accessible: connected to database kb_normal \(PostgreSQL 1\d\.\d+.*\) without TLS$/,
    );
    expect(line(r, DATA_CHECKS.sampleById)).toMatch(
      /^PASS sample entry readable by id: lowest entry 1 read by id: "How to /,
    );
    expect(line(r, DATA_CHECKS.textSearch)).toMatch(
      /^PASS text search returns rows: "[0-9a-f]+" found in 1 entries$/,
    );
  });

  it('reads a caller-given entry by id, and FAILs when that entry is absent', async () => {
    const found = await verifyKbData(conn('kb_normal'), { sampleEntryId: 17, searchText: 'second line' });
    expect(line(found, DATA_CHECKS.sampleById)).toMatch(/^PASS sample entry readable by id: entry 17 read/);
    expect(line(found, DATA_CHECKS.textSearch)).toBe(
      'PASS text search returns rows: "second line" found in 40 entries',
    );

    const missing = await verifyKbData(conn('kb_normal'), { sampleEntryId: 4000 });
    expect(missing.result).toBe('FAIL');
    expect(line(missing, DATA_CHECKS.sampleById)).toMatch(
      /^FAIL sample entry readable by id: entry 4000 not found/,
    );
  });

  it('FAILs a text search that returns no rows', async () => {
    const r = await verifyKbData(conn('kb_normal'), { searchText: 'no such words 100%_' });
    expect(r.result).toBe('FAIL');
    expect(line(r, DATA_CHECKS.textSearch)).toBe(
      'FAIL text search returns rows: "no such words 100%_" found in no entry',
    );
  });

  it('FAILs an empty KB by default, with the count, and skips the reads; passes it when empty is allowed', async () => {
    const r = await verifyKbData(conn('kb_empty'));
    expect(r.result).toBe('FAIL');
    expect(line(r, DATA_CHECKS.counts)).toMatch(
      /^FAIL entry counts: knowledge_entries 0; embedding_cache 0: the Knowledge Base is empty/,
    );
    expect(line(r, DATA_CHECKS.sampleById)).toBe('SKIP sample entry readable by id: no entries to read');

    const allowed = await verifyKbData(conn('kb_empty'), { allowEmpty: true });
    expect(allowed.result).toBe('PASS');
    expect(allowed.checks.filter((c) => c.status === 'FAIL')).toEqual([]);
    expect(line(allowed, DATA_CHECKS.textSearch)).toMatch(/^SKIP /);
  });

  it('FAILs a database without the KB tables, naming them, and skips the entry checks', async () => {
    const none = await verifyKbData(conn('not_kb'), { targetTime: new Date() });
    expect(none.result).toBe('FAIL');
    expect(line(none, DATA_CHECKS.tables)).toMatch(
      /^FAIL Knowledge Base tables present: missing public\.knowledge_entries and public\.embedding_cache/,
    );
    expect(line(none, DATA_CHECKS.counts)).toBe(
      'FAIL entry counts: knowledge_entries missing; embedding_cache missing',
    );
    for (const c of [
      DATA_CHECKS.newest,
      DATA_CHECKS.sampleById,
      DATA_CHECKS.textSearch,
      DATA_CHECKS.targetTime,
    ])
      expect(line(none, c)).toMatch(/^SKIP .*knowledge_entries is missing/);

    const noCache = await verifyKbData(conn('kb_no_cache'));
    expect(noCache.result).toBe('FAIL');
    expect(line(noCache, DATA_CHECKS.tables)).toMatch(
      /^FAIL Knowledge Base tables present: missing public\.embedding_cache:/,
    );
    expect(line(noCache, DATA_CHECKS.counts)).toBe(
      'FAIL entry counts: knowledge_entries 5; embedding_cache missing',
    );
  });

  it('FAILs a table dropped before verification (a damaged restore) with the figures', async () => {
    await pg.sql('postgres', 'CREATE DATABASE kb_damaged');
    await pg.sql('kb_damaged', KB_SCHEMA_SQL + seedSql(8));
    await pg.sql('kb_damaged', 'DROP TABLE knowledge_entries');
    const r = await verifyKbData(conn('kb_damaged'), {
      expectedCounts: { knowledgeEntries: 8, embeddingCache: 2 },
    });
    expect(r.result).toBe('FAIL');
    expect(line(r, DATA_CHECKS.recorded)).toBe(
      'FAIL counts match the backup record: knowledge_entries missing (recorded 8); embedding_cache 2 (recorded 2): differs from the backup record',
    );
  });

  it('compares with the counts recorded at backup and with expectedEntries', async () => {
    const same = await verifyKbData(conn('kb_normal'), {
      expectedCounts: {
        knowledgeEntries: 40,
        embeddingCache: 10,
        source: 'backup kb-snapshot-20261122-020000',
      },
      expectedEntries: 40,
    });
    expect(same.result).toBe('PASS');
    expect(line(same, DATA_CHECKS.recorded)).toBe(
      'PASS counts match the backup record: knowledge_entries 40 (recorded 40); embedding_cache 10 (recorded 10): as recorded in backup kb-snapshot-20261122-020000',
    );
    expect(line(same, DATA_CHECKS.expectedEntries)).toBe(
      'PASS entry count matches the expected count: knowledge_entries 40, expected 40',
    );

    const differ = await verifyKbData(conn('kb_normal'), {
      expectedCounts: { knowledgeEntries: 2000, embeddingCache: 10 },
      expectedEntries: 39,
    });
    expect(differ.result).toBe('FAIL');
    expect(line(differ, DATA_CHECKS.recorded)).toBe(
      'FAIL counts match the backup record: knowledge_entries 40 (recorded 2,000); embedding_cache 10 (recorded 10): differs from the backup record',
    );
    expect(line(differ, DATA_CHECKS.expectedEntries)).toBe(
      'FAIL entry count matches the expected count: knowledge_entries 40, expected 39',
    );
  });

  describe('point-in-time boundary', () => {
    // seedSql(40): newest created_at 00:40, newest updated_at 01:20 on 2026-01-01.
    it('PASSes when the newest entry is exactly at the target time', async () => {
      const r = await verifyKbData(conn('kb_normal'), { targetTime: '2026-01-01T01:20:00Z' });
      expect(r.result).toBe('PASS');
      expect(line(r, DATA_CHECKS.targetTime)).toBe(
        'PASS no entry newer than the target time: target 2026-01-01T01:20:00Z: no entry created or updated after it (newest created_at 2026-01-01T00:40:00.000000Z, updated_at 2026-01-01T01:20:00.000000Z)',
      );
    });

    it('FAILs with the figures when entries were created or updated after the target', async () => {
      const r = await verifyKbData(conn('kb_normal'), { targetTime: new Date('2026-01-01T01:19:59.999Z') });
      expect(r.result).toBe('FAIL');
      expect(line(r, DATA_CHECKS.targetTime)).toMatch(
        /^FAIL no entry newer than the target time: target 2026-01-01T01:19:59\.999Z: 1 entries created or updated after it \(newest created_at 2026-01-01T00:40:00\.000000Z, updated_at 2026-01-01T01:20:00\.000000Z\)/,
      );

      const earlier = await verifyKbData(conn('kb_normal'), { targetTime: '2026-01-01T00:30:00Z' });
      // entries 16..40 were updated (at 2g minutes) after 00:30; 31..40 were also created after it
      expect(line(earlier, DATA_CHECKS.targetTime)).toMatch(/: 25 entries created or updated after it/);
      expect(line(earlier, DATA_CHECKS.targetTime)).not.toMatch(/embedding_cache/);
    });

    it('FAILs when embedding_cache rows were created after the target', async () => {
      await pg.sql('postgres', 'CREATE DATABASE kb_cache_late');
      await pg.sql('kb_cache_late', KB_SCHEMA_SQL + seedSql(8)); // cache rows created now()
      const r = await verifyKbData(conn('kb_cache_late'), { targetTime: '2026-06-01T00:00:00Z' });
      expect(line(r, DATA_CHECKS.targetTime)).toMatch(
        /^FAIL .*: 0 entries created or updated after it .*, 2 embedding_cache rows created after it;/,
      );
    });

    it('compares with microsecond precision when the target is given as text', async () => {
      await pg.sql('postgres', 'CREATE DATABASE kb_micro');
      await pg.sql(
        'kb_micro',
        `${KB_SCHEMA_SQL} INSERT INTO knowledge_entries (title, body, created_at, updated_at)
          VALUES ('Micro entry', 'body', '2026-02-01 00:00:00.000500+00', '2026-02-01 00:00:00.000500+00')`,
      );
      const before = await verifyKbData(conn('kb_micro'), { targetTime: '2026-02-01T00:00:00.000499Z' });
      expect(line(before, DATA_CHECKS.targetTime)).toMatch(/^FAIL .*: 1 entries created or updated after it/);
      const at = await verifyKbData(conn('kb_micro'), { targetTime: '2026-02-01T00:00:00.000500Z' });
      expect(line(at, DATA_CHECKS.targetTime)).toMatch(/^PASS /);
    });
  });

  describe('never PASS without a connection', () => {
    const expectConnectFailure = (r: KbDataReport, pattern: RegExp): void => {
      expect(r.ok).toBe(false);
      expect(r.result).toBe('FAIL');
      expect(r.checks[0]).toEqual({
        check: DATA_CHECKS.connect,
        status: 'FAIL',
        detail: expect.stringMatching(pattern),
      });
      expect(r.checks.slice(1).every((c) => c.status === 'SKIP')).toBe(true);
      expect(r.checks.map((c) => c.check)).toContain(DATA_CHECKS.counts);
      expect(r.figures).toEqual({});
    };

    it('connection refused', async () => {
      const port = await freePort(); // nothing listens there
      const r = await verifyKbData(conn('kb_normal', { port }), { expectedEntries: 40 });
      expectConnectFailure(
        r,
        /refused \(ECONNREFUSED\): nothing listens there; check that the instance is available/,
      );
      expect(r.checks.map((c) => c.check)).toContain(DATA_CHECKS.expectedEntries);
    });

    it('authentication failure (wrong password)', async () => {
      const r = await verifyKbData(conn('kb_normal', { password: 'not-the-password' }));
      expectConnectFailure(
        r,
        /authentication failed for .* \(28P01 invalid password\): check the user and password or IAM token/,
      );
    });

    it('password from a function (an IAM token provider) is used', async () => {
      const r = await verifyKbData(conn('kb_normal', { password: async () => pg.password }));
      expect(r.result).toBe('PASS');
    });

    it('TLS required but the server offers none: FAIL, no fallback to plain text', async () => {
      const r = await verifyKbData(conn('kb_normal', { ssl: { rejectUnauthorized: true } }));
      expectConnectFailure(
        r,
        /TLS required but .* over TLS does not offer TLS .*does not fall back to an unencrypted connection/,
      );
    });

    it('missing database', async () => {
      const r = await verifyKbData(conn('kb_nowhere'));
      expectConnectFailure(r, /database missing on .* \(3D000: database "kb_nowhere" does not exist\)/);
    });

    it('timeout: a server that accepts TCP but never answers', async () => {
      const sockets: Socket[] = [];
      const silent = createServer((s) => sockets.push(s));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as AddressInfo).port;
      try {
        const r = await verifyKbData(conn('kb_normal', { port, connectTimeoutMs: 500 }));
        expectConnectFailure(r, /timed out .*security group allows inbound 5432/);
      } finally {
        sockets.forEach((s) => s.destroy());
        await new Promise((resolve) => silent.close(resolve));
      }
    });
  });
  // Last: these turn TLS on for the shared cluster.
  describe('TLS verified against a CA bundle', () => {
    let ca: string;
    let otherCa: string;
    let tls: TestCa | undefined;
    beforeAll(async () => {
      // A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated CA.
      tls = makeTestCa([]);
      ca = tls.ca;
      otherCa = tls.otherCa;
      for (const stmt of tls.enableSql) await pg.sql('postgres', stmt);
      await pg.sql('postgres', 'SELECT pg_reload_conf()');
    }, 60_000);
    afterAll(() => tls?.remove());

    it('connects over verified TLS with the right CA and runs the checks', async () => {
      const r = await verifyKbData(conn('kb_normal', { ssl: { ca, rejectUnauthorized: true } }));
      expect(line(r, DATA_CHECKS.connect)).toMatch(/^PASS database accessible: .* over TLS \(TLSv1\.[23]\)$/);
      expect(r.result).toBe('PASS');
    });

    it('FAILs, without connecting in plain text, when the certificate does not chain to the CA given', async () => {
      const r = await verifyKbData(conn('kb_normal', { ssl: { ca: otherCa, rejectUnauthorized: true } }));
      expect(r.result).toBe('FAIL');
      expect(r.checks[0]?.detail).toMatch(
        /^TLS failure with .* over TLS \(\w+: .*\): the server certificate could not be verified against the configured CA bundle; pass the RDS certificate bundle/,
      );
      expect(r.checks.slice(1).every((c) => c.status === 'SKIP')).toBe(true);
    });

    it("FAILs with Node's default trust store when the server's CA is not in it", async () => {
      const r = await verifyKbData(conn('kb_normal', { ssl: { rejectUnauthorized: true } }));
      expect(r.result).toBe('FAIL');
      expect(r.checks[0]?.detail).toMatch(/^TLS failure with .*could not be verified/);
    });
  });
});
