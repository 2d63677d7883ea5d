/**
 * recover-entries on real PostgreSQL: a backup of a Knowledge Base, then the live copy damaged the
 * way people damage it (a tag deleted, rows edited, columns added), and the recovery checked by
 * reading the databases back.
 */
import { PassThrough } from 'node:stream';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { Client } from 'pg';
import { planRecoverEntries, runRecoverEntries } from '../../../cli/commands/recover-entries';
import type { CliContext } from '../../../cli/shared/context';
import { GuardRailError, ValidationError } from '../../../core/errors';
import { recoverEntries, type RecoverOptions } from '../../../cli/local/recover-entries';
import { InterruptedError } from '../../../cli/local/psql';
import { acquireRestoreLock } from '../../../cli/local/lock';
import { silentLogger } from '../../../cli/shared/logger';
import { connectionTo } from '../../support/cli-fixtures';
import { kbFingerprint, type TestPostgres } from '../../../harness/postgres';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { seededBackup, useSharedPostgres } from '../../support/local-cluster';

let pg: TestPostgres;
let backupFile: string;
const BASE = 'kb_re_base';
const NOW = new Date();
let n = 0;

useSharedPostgres(async (started) => {
  pg = started;
  backupFile = await seededBackup(pg, BASE, 300, {
    label: 'recover',
    now: () => new Date(NOW.getTime() - 3600_000),
  });
}, 120_000);

/** A fresh live database holding exactly what the backup holds. */
async function liveCopy(): Promise<string> {
  const name = `kb_re_${++n}`;
  await pg.sql('postgres', `CREATE DATABASE ${name} TEMPLATE ${BASE}`);
  return name;
}

function options(db: string, extra: Partial<RecoverOptions> = {}): RecoverOptions {
  return {
    conn: connectionTo(pg, db),
    source: { kind: 'backup-file', file: backupFile },
    selection: {},
    confirm: false,
    retentionDays: 30,
    logger: silentLogger,
    now: () => NOW,
    ...extra,
  };
}

const scratchLeft = async (db: string) =>
  (await pg.databases()).filter((d) => d.startsWith(`${db}_recover_`));
const topic3 = "SELECT count(*) FROM knowledge_entries WHERE 'topic-3' = ANY(tags)";

describe('recoverEntries', () => {
  it('is a no-op when nothing is missing: everything already present, nothing inserted, scratch dropped', async () => {
    const db = await liveCopy();
    const before = await kbFingerprint(pg, db);
    const report = await recoverEntries(options(db, { confirm: true }));
    expect(report).toMatchObject({
      selected: 300,
      missing: 0,
      inserted: 0,
      alreadyPresent: 300,
      skippedChanged: 0,
    });
    expect(report.cache).toMatchObject({ missing: 0, inserted: 0 });
    expect(report.scratchDatabase).toMatchObject({ dropped: true });
    expect(await kbFingerprint(pg, db)).toBe(before);
    expect(await scratchLeft(db)).toEqual([]);
  });

  it('dry run reports the missing entries with a sample and changes nothing', async () => {
    const db = await liveCopy();
    const wanted = Number(await pg.sql(db, topic3));
    await pg.sql(db, "DELETE FROM knowledge_entries WHERE 'topic-3' = ANY(tags)");
    const before = await kbFingerprint(pg, db);
    const report = await recoverEntries(options(db, { selection: { tag: 'topic-3' } }));
    expect(report.mode).toBe('dry-run');
    expect(report.missing).toBe(wanted);
    expect(report.inserted).toBe(0);
    expect(report.sample.length).toBe(Math.min(10, wanted));
    expect(report.sample[0]?.title).toMatch(/^How to /);
    expect(report.missingIds.length).toBe(wanted);
    expect(await kbFingerprint(pg, db)).toBe(before);
    expect(await scratchLeft(db)).toEqual([]);
  });

  it('puts back the deleted entries of one tag and their cache rows, keeps later writes, duplicates nothing', async () => {
    const db = await liveCopy();
    const original = await pg.sql(
      db,
      'SELECT md5(string_agg(t::text, $$|$$ ORDER BY id)) FROM knowledge_entries t',
    );
    const wanted = Number(await pg.sql(db, topic3));
    await pg.sql(
      db,
      "DELETE FROM knowledge_entries WHERE 'topic-3' = ANY(tags); DELETE FROM embedding_cache WHERE content_hash IN (SELECT content_hash FROM embedding_cache ORDER BY 1 LIMIT 5)",
    );
    await pg.sql(
      db,
      "INSERT INTO knowledge_entries (title, body, tags) SELECT 'late ' || g, 'after', ARRAY['late'] FROM generate_series(1, 7) g",
    );
    const report = await recoverEntries(options(db, { selection: { tag: 'topic-3' }, confirm: true }));
    expect(report).toMatchObject({ mode: 'confirmed', missing: wanted, inserted: wanted, raced: 0 });
    expect(report.cache).toMatchObject({ missing: 5, inserted: 5 });
    // The sequence was ahead (later writes took 301-307): never moved, never backwards.
    expect(report.sequenceAdvancedTo).toBeUndefined();
    expect(Number(await pg.sql(db, topic3))).toBe(wanted);
    expect(Number(await pg.sql(db, "SELECT count(*) FROM knowledge_entries WHERE 'late' = ANY(tags)"))).toBe(
      7,
    );
    expect(
      await pg.sql(
        db,
        'SELECT md5(string_agg(t::text, $$|$$ ORDER BY id)) FROM knowledge_entries t WHERE id <= 300',
      ),
    ).toBe(original);
    expect(await pg.sql(db, 'SELECT count(*) - count(DISTINCT id) FROM knowledge_entries')).toBe('0');
    expect(await pg.sql(db, 'SELECT count(*) FROM embedding_cache')).toBe('75');
    expect(
      await pg.sql(db, "INSERT INTO knowledge_entries (title, body) VALUES ('next', 'x') RETURNING id"),
    ).toBe('308');
    // A second run finds nothing to do.
    const again = await recoverEntries(options(db, { selection: { tag: 'topic-3' }, confirm: true }));
    expect(again).toMatchObject({ missing: 0, inserted: 0, alreadyPresent: wanted });
  });

  it('leaves the id sequence ahead of every inserted id', async () => {
    const db = await liveCopy();
    await pg.sql(
      db,
      'DELETE FROM knowledge_entries WHERE id > 290; SELECT setval(pg_get_serial_sequence($$knowledge_entries$$, $$id$$), 290)',
    );
    const report = await recoverEntries(options(db, { confirm: true }));
    expect(report.inserted).toBe(10);
    expect(report.sequenceAdvancedTo).toBe('300');
    expect(
      await pg.sql(db, "INSERT INTO knowledge_entries (title, body) VALUES ('new', 'x') RETURNING id"),
    ).toBe('301');
  });

  it('reports entries changed since the backup and leaves them as they are', async () => {
    const db = await liveCopy();
    await pg.sql(
      db,
      "UPDATE knowledge_entries SET title = 'edited later' WHERE id IN (3, 20); DELETE FROM knowledge_entries WHERE id IN (37, 54)",
    );
    const report = await recoverEntries(options(db, { selection: { tag: 'topic-3' }, confirm: true }));
    expect([...report.changedIds].sort()).toEqual(['20', '3']);
    expect(report.skippedChanged).toBe(2);
    expect(report.inserted).toBe(2);
    expect(
      await pg.sql(
        db,
        'SELECT string_agg(title, $$,$$ ORDER BY id) FROM knowledge_entries WHERE id IN (3, 20)',
      ),
    ).toBe('edited later,edited later');
    expect(await pg.sql(db, 'SELECT count(*) FROM knowledge_entries WHERE id IN (37, 54)')).toBe('2');
  });

  it('selects by ids and by created-at range, bound as parameters', async () => {
    const db = await liveCopy();
    await pg.sql(db, 'DELETE FROM knowledge_entries WHERE id BETWEEN 100 AND 200');
    const byIds = await recoverEntries(options(db, { selection: { ids: ['100', '101', '250'] } }));
    expect(byIds).toMatchObject({ selected: 3, missing: 2, alreadyPresent: 1 });
    // seed: created_at = 2026-01-01 + id minutes
    const byTime = await recoverEntries(
      options(db, {
        selection: {
          createdFrom: new Date('2026-01-01T02:00:00Z'),
          createdBefore: new Date('2026-01-01T02:10:00Z'),
        },
        confirm: true,
      }),
    );
    expect(byTime).toMatchObject({ selected: 10, missing: 10, inserted: 10 });
    expect(
      await pg.sql(
        db,
        'SELECT min(id) || $$-$$ || max(id) FROM knowledge_entries WHERE id BETWEEN 100 AND 200',
      ),
    ).toBe('120-129');
  });

  it('maps a nullable column or one with a default added since the backup', async () => {
    const db = await liveCopy();
    await pg.sql(
      db,
      "ALTER TABLE knowledge_entries ADD COLUMN summary text, ADD COLUMN lang text NOT NULL DEFAULT 'en'; DELETE FROM knowledge_entries WHERE id IN (5, 6)",
    );
    const report = await recoverEntries(options(db, { confirm: true }));
    expect(report.mappedColumns).toEqual(['knowledge_entries.summary', 'knowledge_entries.lang']);
    expect(report).toMatchObject({ inserted: 2, alreadyPresent: 298 });
    expect(
      await pg.sql(
        db,
        'SELECT string_agg(coalesce(summary, $$<null>$$) || $$/$$ || lang, $$,$$) FROM knowledge_entries WHERE id IN (5, 6)',
      ),
    ).toBe('<null>/en,<null>/en');
  });

  it('refuses, with the reason, a NOT NULL column without default added since the backup; nothing changed', async () => {
    const db = await liveCopy();
    await pg.sql(
      db,
      "ALTER TABLE knowledge_entries ADD COLUMN owner text NOT NULL DEFAULT 'x'; ALTER TABLE knowledge_entries ALTER COLUMN owner DROP DEFAULT; DELETE FROM knowledge_entries WHERE id = 5",
    );
    const before = await kbFingerprint(pg, db);
    const err = await recoverEntries(options(db, { confirm: true })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GuardRailError);
    expect((err as Error).message).toMatch(
      /knowledge_entries\.owner \(text\) was added since the backup as NOT NULL without a default/,
    );
    expect(await kbFingerprint(pg, db)).toBe(before);
    expect(await scratchLeft(db)).toEqual([]);
  });

  it('refuses a backup holding a column the live table dropped since, naming it; nothing changed', async () => {
    const db = await liveCopy();
    await pg.sql(
      db,
      'ALTER TABLE knowledge_entries DROP COLUMN source_url; DELETE FROM knowledge_entries WHERE id = 5',
    );
    const before = await kbFingerprint(pg, db);
    const err = await recoverEntries(options(db, { confirm: true })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GuardRailError);
    expect((err as Error).message).toMatch(
      /knowledge_entries\.source_url \(text\) is in the backup but not in the live table/,
    );
    expect(await kbFingerprint(pg, db)).toBe(before);
    expect(await scratchLeft(db)).toEqual([]);
  });

  it('a row written by the application after the plan wins; the other missing rows go in', async () => {
    const db = await liveCopy();
    await pg.sql(db, 'DELETE FROM knowledge_entries WHERE id IN (10, 11, 12)');
    const report = await recoverEntries(
      options(db, {
        confirm: true,
        hooks: {
          afterPlan: async () => {
            await pg.sql(
              db,
              "INSERT INTO knowledge_entries (id, title, body) VALUES (11, 'written meanwhile', 'app')",
            );
          },
        },
      }),
    );
    expect(report).toMatchObject({ missing: 3, inserted: 2, raced: 1 });
    expect(await pg.sql(db, 'SELECT title FROM knowledge_entries WHERE id = 11')).toBe('written meanwhile');
    expect(await pg.sql(db, 'SELECT count(*) FROM knowledge_entries WHERE id IN (10, 12)')).toBe('2');
  });

  it('runs beside a concurrent writer: its rows and the recovered ones are all there, once', async () => {
    const db = await liveCopy();
    await pg.sql(db, "DELETE FROM knowledge_entries WHERE 'topic-5' = ANY(tags)");
    const writer = new Client({
      host: pg.host,
      port: pg.port,
      user: pg.user,
      password: pg.password,
      database: db,
    });
    await writer.connect();
    let written = 0;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        await writer.query(
          "INSERT INTO knowledge_entries (title, body, tags) VALUES ('concurrent', 'w', ARRAY['w'])",
        );
        written += 1;
      }
    })();
    try {
      const report = await recoverEntries(
        options(db, {
          selection: { tag: 'topic-5' },
          confirm: true,
          hooks: { beforeCommit: async () => void (await new Promise((r) => setTimeout(r, 200))) },
        }),
      );
      stop = true;
      await loop;
      expect(report.inserted).toBe(report.missing);
      expect(report.missing).toBeGreaterThan(0);
      expect(written).toBeGreaterThan(0);
      expect(Number(await pg.sql(db, "SELECT count(*) FROM knowledge_entries WHERE 'w' = ANY(tags)"))).toBe(
        written,
      );
      expect(await pg.sql(db, 'SELECT count(*) - count(DISTINCT id) FROM knowledge_entries')).toBe('0');
      expect(
        Number(await pg.sql(db, "SELECT count(*) FROM knowledge_entries WHERE 'topic-5' = ANY(tags)")),
      ).toBe(report.missing);
    } finally {
      stop = true;
      await loop.catch(() => undefined);
      await writer.end();
    }
  });

  it('an interruption before COMMIT rolls everything back and drops the scratch database', async () => {
    const db = await liveCopy();
    await pg.sql(db, 'DELETE FROM knowledge_entries WHERE id < 50');
    const before = await kbFingerprint(pg, db);
    const controller = new AbortController();
    const err = await recoverEntries(
      options(db, {
        confirm: true,
        signal: controller.signal,
        hooks: { beforeCommit: async () => controller.abort() },
      }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as Error).message).toMatch(/nothing was inserted/);
    expect(await kbFingerprint(pg, db)).toBe(before);
    expect(await scratchLeft(db)).toEqual([]);
  });

  it('waits for no one: refuses while a restore of the same database holds the lock, nothing changed', async () => {
    const db = await liveCopy();
    await pg.sql(db, 'DELETE FROM knowledge_entries WHERE id = 1');
    const held = await acquireRestoreLock(connectionTo(pg, db), db);
    try {
      const err = await recoverEntries(options(db, { confirm: true })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GuardRailError);
      expect((err as Error).message).toMatch(/another kb-dr restore or rollback of kb_re_\d+ is running/);
    } finally {
      await held.release();
    }
    expect(await pg.sql(db, 'SELECT count(*) FROM knowledge_entries')).toBe('299');
    expect(await scratchLeft(db)).toEqual([]);
  });

  it('refuses another database than the configured one unless told, before touching anything', async () => {
    const db = await liveCopy();
    const other = await liveCopy();
    await pg.sql(other, 'DELETE FROM knowledge_entries WHERE id = 1');
    const err = await recoverEntries(options(db, { targetDatabase: other, confirm: true })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GuardRailError);
    expect((err as Error).message).toMatch(/not the configured live database/);
    expect(await pg.sql(other, 'SELECT count(*) FROM knowledge_entries')).toBe('299');
    expect(await scratchLeft(other)).toEqual([]);
    const ok = await recoverEntries(
      options(db, { targetDatabase: other, allowOtherTarget: true, confirm: true }),
    );
    expect(ok.inserted).toBe(1);
  });

  it('refuses a backup older than the retention window unless forced', async () => {
    const db = await liveCopy();
    await pg.sql(db, 'DELETE FROM knowledge_entries WHERE id = 1');
    const old = join(dirname(backupFile), 'old', 'kb-backup-20200101-000000.sql.gz');
    mkdirSync(dirname(old), { recursive: true });
    copyFileSync(backupFile, old);
    const digest = createHash('sha256').update(readFileSync(old)).digest('hex');
    writeFileSync(`${old}.sha256`, `${digest}  ${basename(old)}\n`);
    const src = { kind: 'backup-file' as const, file: old };
    const err = await recoverEntries(options(db, { source: src, confirm: true })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GuardRailError);
    expect((err as Error).message).toMatch(/older than the 30-day retention window/);
    expect(await pg.sql(db, 'SELECT count(*) FROM knowledge_entries')).toBe('299');
    const forced = await recoverEntries(options(db, { source: src, confirm: true, force: true }));
    expect(forced.inserted).toBe(1);
  });

  it('refuses an invalid backup file before any database is touched', async () => {
    const db = await liveCopy();
    const bad = join(dirname(backupFile), 'bad', basename(backupFile));
    mkdirSync(dirname(bad), { recursive: true });
    writeFileSync(bad, 'not gzip');
    const err = await recoverEntries(options(db, { source: { kind: 'backup-file', file: bad } })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ValidationError);
    expect(await scratchLeft(db)).toEqual([]);
  });

  it('reads a restored instance (a PostgreSQL standing in) read-only', async () => {
    const db = await liveCopy();
    const restored = await liveCopy();
    await pg.sql(db, 'DELETE FROM knowledge_entries WHERE id IN (7, 8)');
    const sourceBefore = await kbFingerprint(pg, restored);
    const report = await recoverEntries(
      options(db, {
        confirm: true,
        source: {
          kind: 'instance',
          instanceId: 'kb-restore-test-1',
          config: { host: pg.host, port: pg.port, database: restored, user: pg.user, password: pg.password },
          sourceTime: new Date(NOW.getTime() - 7200_000),
        },
      }),
    );
    expect(report).toMatchObject({ inserted: 2, alreadyPresent: 298, scratchDatabase: undefined });
    expect(report.source).toMatchObject({
      kind: 'instance',
      name: 'kb-restore-test-1',
      timeFrom: 'given with --source-time',
    });
    expect(await pg.sql(db, 'SELECT count(*) FROM knowledge_entries')).toBe('300');
    expect(await kbFingerprint(pg, restored)).toBe(sourceBefore);
  });
});

describe('kb-dr recover-entries --from-instance', () => {
  const rdsMock = mockClient(RDSClient);
  const rds = new RDSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  beforeEach(() => rdsMock.reset());

  function context(db: string): { ctx: CliContext; out: () => string } {
    let out = '';
    const stdout = new PassThrough();
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    return {
      ctx: {
        env: { PATH: process.env.PATH ?? '', ...pg.env(db) },
        logger: silentLogger,
        stdout,
        stderr: new PassThrough(),
        stdin: Object.assign(new PassThrough(), { isTTY: false }),
        signal: new AbortController().signal,
      },
      out: () => out,
    };
  }

  it('refuses an instance that is not available yet, before connecting to anything', async () => {
    const db = await liveCopy();
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceStatus: 'creating' }] });
    const { ctx } = context(db);
    const err = await runRecoverEntries(
      ctx,
      planRecoverEntries({ fromInstance: 'kb-restore-recover-1' }, ctx.env),
      { rds },
    ).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/kb-restore-recover-1 is creating without an endpoint yet/);
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBInstancesCommand, {
      DBInstanceIdentifier: 'kb-restore-recover-1',
    });
  });

  it('reads the endpoint RDS reports over TLS and never falls back to plain text', async () => {
    const db = await liveCopy();
    const restored = await liveCopy();
    await pg.sql(db, 'DELETE FROM knowledge_entries WHERE id = 9');
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceStatus: 'available', Endpoint: { Address: pg.host, Port: pg.port } }],
    });
    const { ctx } = context(db);
    const err = await runRecoverEntries(
      ctx,
      planRecoverEntries(
        { fromInstance: 'kb-restore-recover-1', sourceDatabase: restored, confirm: true },
        ctx.env,
      ),
      { rds },
    ).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/does not offer TLS/);
    expect(await pg.sql(db, 'SELECT count(*) FROM knowledge_entries WHERE id = 9')).toBe('0');
  });

  it('with a loopback --source-host and --source-no-tls (an emulator, a tunnel), recovers without asking RDS', async () => {
    const db = await liveCopy();
    const restored = await liveCopy();
    await pg.sql(db, 'DELETE FROM knowledge_entries WHERE id IN (9, 10)');
    const { ctx, out } = context(db);
    const code = await runRecoverEntries(
      ctx,
      planRecoverEntries(
        {
          fromInstance: 'kb-restore-recover-1',
          sourceHost: '127.0.0.1',
          sourcePort: String(pg.port),
          sourceNoTls: true,
          sourceDatabase: restored,
          sourceTime: new Date(NOW.getTime() - 60_000).toISOString(),
          ids: '9,10,11',
          confirm: true,
        },
        ctx.env,
      ),
      { rds },
    );
    expect(code).toBe(0);
    expect(out()).toMatch(/^RECOVERED/);
    expect(out()).toMatch(/inserted: {2}2/);
    expect(rdsMock.calls()).toHaveLength(0);
    expect(await pg.sql(db, 'SELECT count(*) FROM knowledge_entries WHERE id IN (9, 10, 11)')).toBe('3');
  });
});
