/**
 * find-backup and recover-entries as the operator runs them (a real `kb-dr` process), and
 * recover-entries killed in the middle of its transaction: kill -9 and SIGTERM leave nothing
 * half-inserted; the scratch database is dropped (SIGTERM) or left marked and dropped by the
 * next run (kill -9).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { createLocalBackup } from '../../cli/local/backup';
import { silentLogger } from '../../cli/shared/logger';
import { connectionTo, tempDir } from '../support/cli-fixtures';
import { createKbDatabase, kbFingerprint, type TestPostgres } from '../../harness/postgres';
import { sharedPostgres } from '../support/shared-services';

const ROOT = resolve(__dirname, '../..');
/**
 * The built CLI as the scripts run it (rebuilt first when a source is newer): node on
 * dist/kb-dr.js, in the process started here (exec), so a signal to it reaches the CLI.
 */
const RUN_CLI = join(ROOT, 'scripts', 'lib', 'run-cli.sh');

let pg: TestPostgres;
let backupFile: string;
let backupDir: string;
const BASE = 'kb_rp_base';
let n = 0;

interface Run {
  readonly child: ChildProcess;
  readonly done: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>;
}

function kbDr(args: string[], database: string): Run {
  const child = spawn('bash', [RUN_CLI, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'WARN', ...pg.env(database) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return {
    child,
    done: new Promise((r) => child.on('close', (code, signal) => r({ code, signal, stdout, stderr }))),
  };
}

async function waitFor(what: string, condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2400; i += 1) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never saw: ${what}`);
}

beforeAll(async () => {
  pg = await sharedPostgres();
  await createKbDatabase(pg, BASE, 2000);
  backupDir = tempDir(pg, 'rp');
  backupFile = (
    await createLocalBackup({
      conn: connectionTo(pg, BASE),
      dir: backupDir,
      logger: silentLogger,
      now: () => new Date(Date.now() - 600_000),
    })
  ).path;
}, 120_000);

afterAll(async () => {
  await pg?.stop();
});

async function liveCopy(): Promise<string> {
  const name = `kb_rp_${++n}`;
  await pg.sql('postgres', `CREATE DATABASE ${name} TEMPLATE ${BASE}`);
  // A deletion by mistake: one tag's entries, and some cache rows.
  await pg.sql(
    name,
    "DELETE FROM knowledge_entries WHERE 'topic-3' = ANY(tags); DELETE FROM embedding_cache WHERE content_hash IN (SELECT content_hash FROM embedding_cache ORDER BY 1 LIMIT 10)",
  );
  return name;
}

const scratch = async (db: string) => (await pg.databases()).filter((d) => d.startsWith(`${db}_recover_`));
const topic3 = "SELECT count(*) FROM knowledge_entries WHERE 'topic-3' = ANY(tags)";

/** Hold a SHARE lock on embedding_cache: the recovery's entry inserts run, its cache insert waits. */
async function blockCacheInserts(db: string): Promise<Client> {
  const holder = new Client({
    host: pg.host,
    port: pg.port,
    user: pg.user,
    password: pg.password,
    database: db,
  });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE embedding_cache IN SHARE MODE');
  return holder;
}

async function recoveryWaitingOnLock(db: string): Promise<boolean> {
  return (
    (await pg.sql(
      'postgres',
      `SELECT count(*) FROM pg_stat_activity WHERE datname = '${db}' AND application_name = 'kb-dr-recover' AND wait_event_type = 'Lock'`,
    )) === '1'
  );
}

async function noRecoverSessions(): Promise<boolean> {
  return (
    (await pg.sql(
      'postgres',
      "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'kb-dr%'",
    )) === '0'
  );
}

describe('kb-dr find-backup and recover-entries (process)', () => {
  it('find-backup names the backup taken before the time, with its counts and the commands', async () => {
    const run = kbDr(
      ['find-backup', `--before=${new Date().toISOString()}`, `--dir=${backupDir}`, '--check', '--json'],
      BASE,
    );
    const out = await run.done;
    expect(out.code).toBe(0);
    const json = JSON.parse(out.stdout) as {
      points: { id: string; entries: number; status: string; commands: string[] }[];
    };
    expect(json.points).toHaveLength(1);
    expect(json.points[0]).toMatchObject({ id: backupFile, entries: 2000, status: 'valid' });
    expect(json.points[0]?.commands[0]).toBe(`npx kb-dr recover-entries --backup-file=${backupFile}`);
    const earlier = await kbDr(['find-backup', '--before=2020-01-01T00:00:00Z', `--dir=${backupDir}`], BASE)
      .done;
    expect(earlier.stdout).toMatch(/none/);
  });

  it('dry run, then --confirm; exit 0; a refused filter exits 2 and changes nothing', async () => {
    const db = await liveCopy();
    const before = await kbFingerprint(pg, db);
    const dry = await kbDr(['recover-entries', `--backup-file=${backupFile}`, '--tag=topic-3'], db).done;
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^DRY RUN/);
    expect(dry.stdout).toMatch(/missing: {3}118 would be inserted/);
    expect(await kbFingerprint(pg, db)).toBe(before);
    const bad = await kbDr(
      ['recover-entries', `--backup-file=${backupFile}`, '--created-after=2026-02-30T00:00:00Z'],
      db,
    ).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/February 2026 has 28 days/);
    const done = await kbDr(
      ['recover-entries', `--backup-file=${backupFile}`, '--tag=topic-3', '--confirm', '--json'],
      db,
    ).done;
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ inserted: 118, alreadyPresent: 0, skippedChanged: 0 });
    expect(await pg.sql(db, topic3)).toBe('118');
    expect(await scratch(db)).toEqual([]);
  });

  it('kill -9 in the middle of the transaction inserts nothing; the next run drops the scratch database left behind', async () => {
    const db = await liveCopy();
    const before = await kbFingerprint(pg, db);
    const holder = await blockCacheInserts(db);
    const run = kbDr(['recover-entries', `--backup-file=${backupFile}`, '--confirm'], db);
    try {
      await waitFor('the recovery waiting on the cache insert', () => recoveryWaitingOnLock(db));
      run.child.kill('SIGKILL');
      expect((await run.done).signal).toBe('SIGKILL');
    } finally {
      await holder.query('COMMIT');
      await holder.end();
    }
    await waitFor('the killed sessions to end', noRecoverSessions);
    expect(await kbFingerprint(pg, db)).toBe(before);
    const left = await scratch(db);
    expect(left).toHaveLength(1);
    const next = await kbDr(['recover-entries', `--backup-file=${backupFile}`, '--json'], db).done;
    expect(next.code).toBe(0);
    expect(JSON.parse(next.stdout)).toMatchObject({ leftoversDropped: left, missing: 118 });
    expect(await scratch(db)).toEqual([]);
  });

  it('SIGTERM in the middle of the transaction rolls back, drops the scratch database and exits 130', async () => {
    const db = await liveCopy();
    const before = await kbFingerprint(pg, db);
    const holder = await blockCacheInserts(db);
    const run = kbDr(['recover-entries', `--backup-file=${backupFile}`, '--confirm'], db);
    try {
      await waitFor('the recovery waiting on the cache insert', () => recoveryWaitingOnLock(db));
      run.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await holder.query('COMMIT');
      await holder.end();
    }
    const out = await run.done;
    expect(out.code).toBe(130);
    expect(out.stderr).toMatch(/interrupted before it committed; nothing was inserted/);
    expect(await kbFingerprint(pg, db)).toBe(before);
    expect(await scratch(db)).toEqual([]);
  });
});
