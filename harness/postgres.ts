/**
 * A throwaway PostgreSQL 15 cluster per test file: initdb into a temp dir (under jest, in memory:
 * see clusterRoot), postgres listening on 127.0.0.1 on a free port (password auth, so the CLI's
 * password handling is exercised) with its socket in the same temp dir, stopped by its
 * postmaster PID in afterAll. Runs the server as the
 * `postgres` user when we are root (initdb refuses root). fsync is off: test data is disposable.
 * The programs are found by harness/toolchain.ts (KB_PG_BIN_DIR, pg_config, PATH, Debian,
 * Homebrew, Postgres.app); a missing one fails with the command to install it.
 *
 * Also the Knowledge Base fixture: schema (`knowledge_entries` with text, tags text[],
 * timestamps and a `real[]` embedding; `embedding_cache`) and N realistic entries seeded with
 * generate_series in one statement.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client, QueryArrayResult } from 'pg';
import { clusterRoot, writableTmpfs } from './cluster-root';
import { connectTo, initdbArgs } from './pg-cluster';
import { describeFailure, runTool } from './process';
import { findPostgres, pgClientEnv, pgTool, requirePostgres, type PgInstallation } from './toolchain';
import { freePort } from './moto';

const serverAtImport = findPostgres('server');
/**
 * Folder of the server programs found at import (see harness/toolchain.ts for the order), or
 * Debian's PostgreSQL 15 folder when none was found (startPostgres then fails with the fix).
 */
export const PG_BIN = serverAtImport.ok ? serverAtImport.value.dir : '/usr/lib/postgresql/15/bin';
const SUPERUSER = 'postgres';
export const TEST_PASSWORD = 'kb-test-Secr3t!';

export interface TestPostgres {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** Temporary folder of this cluster; tests may create their own subfolders in it. */
  readonly dir: string;
  /** The PostgreSQL installation the server runs from (version, folder, how it was found). */
  readonly server?: PgInstallation;
  /** Environment for the CLI (KB_DB_*, and KB_PG_BIN_DIR when pg_dump is off the PATH) pointing at `database`. */
  env(database: string): Record<string, string>;
  /** Run SQL on `database`; returns the unaligned, tuples-only output, trimmed. */
  sql(database: string, sql: string): Promise<string>;
  /** Names of all databases. */
  databases(): Promise<string[]>;
  stop(): Promise<void>;
}

function asServerUser(cmd: string, args: string[]): { cmd: string; args: string[] } {
  return process.getuid?.() === 0
    ? { cmd: 'runuser', args: ['-u', SUPERUSER, '--', cmd, ...args] }
    : { cmd, args };
}

function run(cmd: string, args: string[]): void {
  const wrapped = asServerUser(cmd, args);
  const failure = describeFailure(runTool(wrapped.cmd, wrapped.args));
  if (failure) throw new Error(failure);
}

/** Every value as the server's text, as psql prints it (no parsing into numbers, dates, arrays). */
const TEXT_VALUES = { getTypeParser: () => (value: string) => value };

/**
 * Run `text` (one or more statements, sent as one simple query, as `psql -c` does) on `database`
 * over a connection of its own, and return what `psql -X -q -A -t` prints, trimmed: the rows of
 * every result, one line each, values separated by `|`, NULL as nothing. A client in this process
 * instead of a psql per call, over the cluster's Unix socket in `socketDir` (trusted, no password
 * exchange; the code under test connects over TCP with its password): the suite runs this
 * thousands of times. A failure names the database and the statement.
 */
async function runSql(port: number, socketDir: string, database: string, text: string): Promise<string> {
  let client: Client | undefined;
  try {
    client = await connectTo(port, TEST_PASSWORD, database, { types: TEXT_VALUES, socketDir });
    const answer = (await client.query({ text, rowMode: 'array' })) as unknown as
      QueryArrayResult<unknown[]> | QueryArrayResult<unknown[]>[];
    const results = Array.isArray(answer) ? answer : [answer];
    return results
      .flatMap((result) =>
        result.rows.map((row) => row.map((value) => (value === null ? '' : String(value))).join('|')),
      )
      .join('\n')
      .trim();
  } catch (err) {
    const statement = text.trim().replace(/\s+/g, ' ');
    throw new Error(
      `SQL on database "${database}" failed: ${(err as Error).message} (${statement.length > 200 ? `${statement.slice(0, 200)}...` : statement})`,
      { cause: err },
    );
  } finally {
    await client?.end().catch(() => undefined);
  }
}

/** Start a new cluster. */
export async function startPostgres(): Promise<TestPostgres> {
  const server = requirePostgres('server');
  // The CLI runs pg_dump/psql: fail here, with the fix, when they are missing; by name, so point it
  // at the found ones when they are not on the PATH.
  requirePostgres('client');
  const clientEnv = pgClientEnv();
  const root = clusterRoot();
  const dir = mkdtempSync(join(root, 'kb-pg-'));
  // In memory, keep the WAL small (checkpoints are cheap there): 128 MB, not up to 1 GB.
  const walLimit = writableTmpfs(root) ? ' -c max_wal_size=128MB -c min_wal_size=32MB' : '';
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${TEST_PASSWORD}\n`);
  if (process.getuid?.() === 0) {
    const pw = spawnSync('id', ['-u', SUPERUSER], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', SUPERUSER], { encoding: 'utf8' });
    if (pw.error || gid.error) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `running as root, could not look up the "${SUPERUSER}" user: ${describeFailure(runTool('id', ['-u', SUPERUSER]))}`,
      );
    }
    if (pw.status !== 0 || gid.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `running as root, the test cluster runs as the "${SUPERUSER}" user (initdb refuses root), but \`id -u ${SUPERUSER}\` found no such user; create it (useradd --system ${SUPERUSER}) or run as a normal user`,
      );
    }
    chownSync(dir, Number(pw.stdout.trim()), Number(gid.stdout.trim()));
    chownSync(pwfile, Number(pw.stdout.trim()), Number(gid.stdout.trim()));
  }
  chmodSync(dir, 0o755);
  try {
    run(pgTool(server, 'initdb'), initdbArgs(data, pwfile));
  } catch (err) {
    rmSync(dir, { recursive: true, force: true }); // nothing runs from it yet
    throw err;
  }
  let port = 0;
  for (let attempt = 1; ; attempt += 1) {
    port = await freePort();
    try {
      run(pgTool(server, 'pg_ctl'), [
        '-D',
        data,
        '-l',
        join(dir, 'server.log'),
        '-w',
        '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off${walLimit}`,
        'start',
      ]);
      break;
    } catch (err) {
      if (attempt >= 3) throw err; // another process took the port between freePort() and start
    }
  }
  const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);

  const sql = (database: string, text: string): Promise<string> => runSql(port, dir, database, text);

  return {
    host: '127.0.0.1',
    port,
    user: SUPERUSER,
    password: TEST_PASSWORD,
    dir,
    server,
    env: (database) => ({
      KB_DB_HOST: '127.0.0.1',
      KB_DB_PORT: String(port),
      KB_DB_USER: SUPERUSER,
      KB_DB_PASSWORD: TEST_PASSWORD,
      KB_DB_NAME: database,
      ...clientEnv,
    }),
    sql,
    databases: async () => (await sql('postgres', 'SELECT datname FROM pg_database ORDER BY 1')).split('\n'),
    stop: async () => {
      try {
        process.kill(pid, 'SIGQUIT'); // immediate shutdown of this postmaster only
        for (let i = 0; i < 100; i += 1) {
          process.kill(pid, 0);
          await new Promise((r) => setTimeout(r, 50));
        }
      } catch {
        // gone
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const KB_SCHEMA_SQL = `
CREATE TABLE knowledge_entries (
  id bigserial PRIMARY KEY,
  title text NOT NULL,
  body text NOT NULL,
  tags text[] NOT NULL DEFAULT '{}',
  source_url text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  embedding real[]
);
CREATE INDEX knowledge_entries_tags_idx ON knowledge_entries USING gin (tags);
CREATE TABLE embedding_cache (
  content_hash text PRIMARY KEY,
  model text NOT NULL,
  embedding real[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);`;

/** SQL inserting `count` entries numbered from `from` (and one cache row per 4 entries). */
export function seedSql(
  count: number,
  options: { from?: number; dimensions?: number; withCache?: boolean } = {},
): string {
  const from = options.from ?? 1;
  const to = from + count - 1;
  const dims = options.dimensions ?? 16;
  return `
INSERT INTO knowledge_entries (title, body, tags, source_url, created_at, updated_at, embedding)
SELECT 'How to ' || md5(g::text),
       'Entry ' || g || E' first line\\nsecond line with a tab\\t, ''quotes'' and ünïcode. ' || repeat(md5((g * 7)::text), 3),
       ARRAY['topic-' || (g % 17), 'team-' || (g % 5)],
       CASE WHEN g % 10 = 0 THEN NULL ELSE 'https://kb.example.com/articles/' || g END,
       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute',
       timestamptz '2026-01-01 00:00:00+00' + g * interval '2 minutes',
       ARRAY(SELECT ${sixDecimals('random() * 2 - 1')}::real FROM generate_series(1, ${dims}) d WHERE g > 0)
FROM generate_series(${from}, ${to}) g;
${options.withCache === false ? '' : cacheSql(from, to, dims)}`;
}

/**
 * `x` (a double precision expression) rounded to 6 decimals in double precision: the same values
 * as `round(x::numeric, 6)`, about ten times cheaper (64-dimension seeds spent most of their time
 * in numeric rounding). `+ 0` turns a negative zero into 0.
 */
function sixDecimals(x: string): string {
  return `(round((${x}) * 1e6) / 1e6 + 0)`;
}

function cacheSql(from: number, to: number, dims: number): string {
  return `
INSERT INTO embedding_cache (content_hash, model, embedding)
SELECT md5('cache' || g), 'text-embedding-3-small',
       ARRAY(SELECT ${sixDecimals('random()')}::real FROM generate_series(1, ${dims}) d WHERE g > 0)
FROM generate_series(${from}, ${to}) g WHERE g % 4 = 0;`;
}

/** Create `database` with the Knowledge Base schema and `entries` seeded entries. */
export async function createKbDatabase(
  pg: TestPostgres,
  database: string,
  entries: number,
  options: { dimensions?: number } = {},
): Promise<void> {
  await pg.sql('postgres', `CREATE DATABASE "${database}"`);
  await pg.sql(database, KB_SCHEMA_SQL + (entries > 0 ? seedSql(entries, options) : ''));
}

/** A fingerprint of all Knowledge Base rows (every column), to compare databases exactly. */
export async function kbFingerprint(pg: TestPostgres, database: string): Promise<string> {
  return pg.sql(
    database,
    `SELECT (SELECT count(*) FROM knowledge_entries) || ':' ||
            coalesce((SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM knowledge_entries t), '-') || ':' ||
            (SELECT count(*) FROM embedding_cache) || ':' ||
            coalesce((SELECT md5(string_agg(c::text, '|' ORDER BY content_hash)) FROM embedding_cache c), '-')`,
  );
}

/** Number of knowledge entries in `database`. */
export async function entryCount(pg: TestPostgres, database: string): Promise<number> {
  return Number(await pg.sql(database, 'SELECT count(*) FROM knowledge_entries'));
}
