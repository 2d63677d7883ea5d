/**
 * The Knowledge Base data checks: does a database (a restored RDS instance, a local restore, an
 * emulated restore) hold the Knowledge Base, with the entries we expect? One module for the local
 * restore's verification, the RDS verification function, the drill and the weekly restore test.
 *
 * Each check reports PASS, FAIL or SKIP with its figures, one line per check in validate-backup's
 * format (`PASS entry counts: ...`). A check that cannot run because an earlier one failed is SKIP;
 * SKIP never passes a database on its own. A database we could not connect to is a FAIL with the
 * reason and what to do (refused, authentication, TLS, timeout): never a PASS.
 *
 * Queries are parameterized; the only identifiers in SQL text are the fixed, schema-qualified
 * table names below. No process.env: the caller passes a connected client or a connection config.
 */
// pg loads when a check connects (restore-status uses only this file's formatting, and pg costs
// tens of milliseconds at a cold start).
import type { Client, ClientConfig } from 'pg';

export type CheckStatus = 'PASS' | 'FAIL' | 'SKIP';
/** One check's outcome, as validate-backup reports it. */
export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  readonly detail: string;
}

/** `PASS entry counts: knowledge_entries 2,000; embedding_cache 500` (validate-backup's line format). */
export function formatCheckLine(c: CheckResult): string {
  return `${c.status} ${c.check}: ${c.detail}`;
}

export const KB_SCHEMA = 'public';
/** The Knowledge Base tables, schema-qualified as they appear in SQL and in RDS exports. */
export const KB_TABLES = {
  entries: `${KB_SCHEMA}.knowledge_entries`,
  cache: `${KB_SCHEMA}.embedding_cache`,
} as const;

/** The check names, in report order. */
export const DATA_CHECKS = {
  connect: 'database accessible',
  tables: 'Knowledge Base tables present',
  counts: 'entry counts',
  recorded: 'counts match the backup record',
  expectedEntries: 'entry count matches the expected count',
  newest: 'newest entry',
  sampleById: 'sample entry readable by id',
  textSearch: 'text search returns rows',
  targetTime: 'no entry newer than the target time',
} as const;

/** TLS for the connection: verify the server against `ca` (e.g. the RDS certificate bundle). */
export interface KbTlsOptions {
  /** PEM certificate(s) to trust; when omitted, Node's default trust store (plus NODE_EXTRA_CA_CERTS). */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Always true: an unverified TLS connection is not offered. */
  readonly rejectUnauthorized: true;
  /** Host name to verify the certificate against, when it differs from `host`. */
  readonly servername?: string;
}

/** How to reach the database. */
export interface KbConnectionConfig {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** A password, or a function returning one (e.g. an IAM auth token from @aws-sdk/rds-signer). */
  readonly password?: string | (() => string | Promise<string>);
  /** @default no TLS */
  readonly ssl?: KbTlsOptions;
  /** @default 10000 */
  readonly connectTimeoutMs?: number;
  /** Per-query limit. @default 30000 */
  readonly queryTimeoutMs?: number;
}

/** What to compare the database with. Every field is optional. */
export interface KbDataCheckOptions {
  /** Counts recorded at backup (manifest); a difference FAILs. */
  readonly expectedCounts?: {
    readonly knowledgeEntries?: number;
    readonly embeddingCache?: number;
    /** Where the counts come from, for the report, e.g. `backup kb-snapshot-20261122-020000`. */
    readonly source?: string;
  };
  /** An operator-given entry count (e.g. the count at the target time of a point-in-time restore). */
  readonly expectedEntries?: number;
  /** Point-in-time restore target: an entry created or updated after it FAILs. ISO string keeps microseconds. */
  readonly targetTime?: Date | string;
  /** Entry to read by id; @default the lowest id. */
  readonly sampleEntryId?: string | number;
  /** Text to search titles and bodies for; @default a word of the sample entry's title. */
  readonly searchText?: string;
  /** An empty knowledge_entries table passes the count check. @default false (a restore with no entries is a FAIL) */
  readonly allowEmpty?: boolean;
}

/** The figures the checks read, for metrics and records. Undefined when not read. */
export interface KbDataFigures {
  readonly knowledgeEntries?: number;
  readonly embeddingCache?: number;
  /** ISO 8601 with microseconds, UTC. */
  readonly newestCreatedAt?: string;
  readonly newestUpdatedAt?: string;
}

export interface KbDataReport {
  readonly ok: boolean;
  readonly result: 'PASS' | 'FAIL';
  readonly checks: readonly CheckResult[];
  /** One line per check (formatCheckLine). */
  readonly report: readonly string[];
  readonly figures: KbDataFigures;
}

const pass = (check: string, detail: string): CheckResult => ({ check, status: 'PASS', detail });
const fail = (check: string, detail: string): CheckResult => ({ check, status: 'FAIL', detail });
const skip = (check: string, detail: string): CheckResult => ({ check, status: 'SKIP', detail });

const n = (v: number): string => v.toLocaleString('en-US');
const tableName = (qualified: string): string => qualified.split('.')[1] ?? qualified;

/** The report for a list of checks: FAIL when any check failed. */
export function kbDataReport(checks: readonly CheckResult[], figures: KbDataFigures = {}): KbDataReport {
  const failed = checks.some((c) => c.status === 'FAIL');
  return {
    ok: !failed,
    result: failed ? 'FAIL' : 'PASS',
    checks,
    report: checks.map(formatCheckLine),
    figures,
  };
}

/** The checks after `connect`, all SKIP with `reason` (used when the connection failed). */
function skippedAfterConnect(options: KbDataCheckOptions, reason: string): CheckResult[] {
  return applicableChecks(options)
    .filter((c) => c !== DATA_CHECKS.connect)
    .map((c) => skip(c, reason));
}

function applicableChecks(options: KbDataCheckOptions): string[] {
  const out: string[] = [DATA_CHECKS.connect, DATA_CHECKS.tables, DATA_CHECKS.counts];
  if (options.expectedCounts) out.push(DATA_CHECKS.recorded);
  if (options.expectedEntries !== undefined) out.push(DATA_CHECKS.expectedEntries);
  out.push(DATA_CHECKS.newest, DATA_CHECKS.sampleById, DATA_CHECKS.textSearch);
  if (options.targetTime !== undefined) out.push(DATA_CHECKS.targetTime);
  return out;
}

interface PgLikeError {
  readonly code?: string;
  readonly message?: string;
}

/**
 * One sentence for a failed connection: what happened and what to do. Recognizes refused and
 * unreachable hosts, timeouts, authentication and authorization failures, TLS failures and a
 * missing database; anything else is reported with its message.
 */
export function describeConnectionFailure(err: unknown, where: string, tls: boolean): string {
  const e = (err ?? {}) as PgLikeError;
  const code = e.code ?? '';
  const message = e.message ?? String(err);
  if (code === 'ECONNREFUSED')
    return `connection to ${where} refused (ECONNREFUSED): nothing listens there; check that the instance is available and that the endpoint and port are the instance's (DescribeDBInstances Endpoint)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `host of ${where} not found (${code}): check the endpoint address; a restored instance's DNS name can take minutes to appear`;
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || /timeout/i.test(message))
    return `connection to ${where} timed out (${code || message}): the network path is closed; check that the function runs in the instance's VPC and that the database's security group allows inbound 5432 from the verifier's security group`;
  if (code === '28P01')
    return `authentication failed for ${where} (28P01 invalid password): check the user and password or IAM token (for IAM authentication the instance needs IAM database authentication enabled and the role rds-db:connect on this user)`;
  if (code === '28000')
    return `${where} refused the login (28000: ${message}): check pg_hba/rds.force_ssl (a server requiring TLS refuses plain connections) and that the user may connect`;
  if (code === '3D000')
    return `database missing on ${where} (3D000: ${message}): check the database name; the restored instance holds the databases of its snapshot`;
  if (/does not support SSL/i.test(message))
    return `TLS required but ${where} does not offer TLS (${message}): the verification does not fall back to an unencrypted connection; enable TLS on the server or check that this is the right endpoint`;
  if (
    /^(SELF_SIGNED_CERT|DEPTH_ZERO|UNABLE_TO_|CERT_|ERR_TLS_|ERR_SSL)/.test(code) ||
    /certificate|SSL|TLS/i.test(message)
  )
    return `TLS failure with ${where} (${code || 'TLS'}: ${message}): the server certificate could not be verified${tls ? " against the configured CA bundle; pass the RDS certificate bundle for the instance's region as the CA" : ''}`;
  return `could not connect to ${where} (${code ? `${code}: ` : ''}${message}): check the endpoint, network path and credentials`;
}

/** A connected client, or the FAIL line saying why there is none. */
export type KbConnection =
  { readonly ok: true; readonly client: Client } | { readonly ok: false; readonly check: CheckResult };

/** Connect to the database; a failure is a FAIL check with an actionable message, never a throw. */
export async function connectKb(config: KbConnectionConfig): Promise<KbConnection> {
  const where = `${config.host}:${config.port}/${config.database} as ${config.user}${config.ssl ? ' over TLS' : ''}`;
  const pgConfig: ClientConfig = {
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    password: config.password,
    connectionTimeoutMillis: config.connectTimeoutMs ?? 10_000,
    query_timeout: config.queryTimeoutMs ?? 30_000,
    statement_timeout: config.queryTimeoutMs ?? 30_000,
    application_name: 'kb-dr-data-checks',
    ssl: config.ssl
      ? {
          rejectUnauthorized: true,
          ...(config.ssl.ca === undefined
            ? {}
            : { ca: config.ssl.ca as string | Buffer | (string | Buffer)[] }),
          ...(config.ssl.servername ? { servername: config.ssl.servername } : {}),
        }
      : false,
  };
  const { Client: PgClient } = await import('pg');
  const client = new PgClient(pgConfig);
  // A connection dropped later surfaces on the next query; without a listener it would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return { ok: true, client };
  } catch (err) {
    await client.end().catch(() => undefined);
    return {
      ok: false,
      check: fail(DATA_CHECKS.connect, describeConnectionFailure(err, where, !!config.ssl)),
    };
  }
}

/** Connect, run the checks, disconnect. A database we could not reach FAILs with the reason. */
export async function verifyKbData(
  config: KbConnectionConfig,
  options: KbDataCheckOptions = {},
): Promise<KbDataReport> {
  const conn = await connectKb(config);
  if (!conn.ok)
    return kbDataReport([conn.check, ...skippedAfterConnect(options, 'not run: could not connect')]);
  try {
    return await runKbDataChecks(conn.client, options);
  } finally {
    await conn.client.end().catch(() => undefined);
  }
}

/** A LIKE pattern matching `text` literally anywhere. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The word of a title to search for: its longest word of 4+ letters or digits, else the title. */
export function searchWordOf(title: string): string {
  const words = title.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 4);
  return words.sort((a, b) => b.length - a.length)[0] ?? title;
}

const ISO_US = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/**
 * Run the data checks on a connected client. A query error ends the run with a FAIL on the check
 * that hit it (and SKIP for the rest), so the report always says what was found.
 */
export async function runKbDataChecks(
  client: Client,
  options: KbDataCheckOptions = {},
): Promise<KbDataReport> {
  const checks: CheckResult[] = [];
  const figures: { -readonly [K in keyof KbDataFigures]: KbDataFigures[K] } = {};
  let current: string = DATA_CHECKS.connect;
  try {
    const server = await client.query<{ db: string; version: string; tls: string | null }>(
      `SELECT current_database() AS db, current_setting($1) AS version,
              (SELECT CASE WHEN ssl THEN version END FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS tls`,
      ['server_version'],
    );
    const s = server.rows[0];
    checks.push(
      pass(
        DATA_CHECKS.connect,
        `connected to database ${s?.db} (PostgreSQL ${s?.version}) ${s?.tls ? `over TLS (${s.tls})` : 'without TLS'}`,
      ),
    );

    current = DATA_CHECKS.tables;
    const present = await client.query<{ name: string }>(
      `SELECT table_schema || '.' || table_name AS name FROM information_schema.tables
        WHERE table_schema || '.' || table_name = ANY($1::text[]) AND table_type = 'BASE TABLE'`,
      [[KB_TABLES.entries, KB_TABLES.cache]],
    );
    const names = new Set(present.rows.map((r) => r.name));
    const hasEntries = names.has(KB_TABLES.entries);
    const hasCache = names.has(KB_TABLES.cache);
    const missing = [KB_TABLES.entries, KB_TABLES.cache].filter((t) => !names.has(t));
    checks.push(
      missing.length === 0
        ? pass(DATA_CHECKS.tables, `${KB_TABLES.entries} and ${KB_TABLES.cache} present`)
        : fail(
            DATA_CHECKS.tables,
            `missing ${missing.join(' and ')}: this database does not hold the Knowledge Base (wrong database, or a damaged restore)`,
          ),
    );

    current = DATA_CHECKS.counts;
    const count = async (table: string): Promise<number> =>
      Number((await client.query<{ c: string }>(`SELECT count(*) AS c FROM ${table}`)).rows[0]?.c ?? 0);
    if (hasEntries) figures.knowledgeEntries = await count(KB_TABLES.entries);
    if (hasCache) figures.embeddingCache = await count(KB_TABLES.cache);
    const countText = [
      hasEntries ? `knowledge_entries ${n(figures.knowledgeEntries ?? 0)}` : 'knowledge_entries missing',
      hasCache ? `embedding_cache ${n(figures.embeddingCache ?? 0)}` : 'embedding_cache missing',
    ].join('; ');
    if (!hasEntries) checks.push(fail(DATA_CHECKS.counts, countText));
    else if (figures.knowledgeEntries === 0 && !options.allowEmpty)
      checks.push(
        fail(
          DATA_CHECKS.counts,
          `${countText}: the Knowledge Base is empty; a restore with no entries is not a recovery (pass allowEmpty if an empty KB is expected)`,
        ),
      );
    else checks.push((hasCache ? pass : fail)(DATA_CHECKS.counts, countText));

    if (options.expectedCounts) {
      current = DATA_CHECKS.recorded;
      const source = options.expectedCounts.source ?? 'the backup record';
      const pairs: [string, number | undefined, number | undefined][] = [
        [KB_TABLES.entries, options.expectedCounts.knowledgeEntries, figures.knowledgeEntries],
        [KB_TABLES.cache, options.expectedCounts.embeddingCache, figures.embeddingCache],
      ];
      const compared = pairs.filter(([, expected]) => expected !== undefined);
      const differing = compared.filter(([, expected, actual]) => actual !== expected);
      const text = compared
        .map(
          ([t, expected, actual]) =>
            `${tableName(t)} ${actual === undefined ? 'missing' : n(actual)} (recorded ${n(expected ?? 0)})`,
        )
        .join('; ');
      if (compared.length === 0) checks.push(skip(DATA_CHECKS.recorded, `${source} records no counts`));
      else if (differing.length > 0)
        checks.push(fail(DATA_CHECKS.recorded, `${text}: differs from ${source}`));
      else checks.push(pass(DATA_CHECKS.recorded, `${text}: as recorded in ${source}`));
    }

    if (options.expectedEntries !== undefined) {
      current = DATA_CHECKS.expectedEntries;
      const actual = figures.knowledgeEntries;
      if (actual === undefined)
        checks.push(skip(DATA_CHECKS.expectedEntries, 'not run: knowledge_entries is missing'));
      else
        checks.push(
          (actual === options.expectedEntries ? pass : fail)(
            DATA_CHECKS.expectedEntries,
            `knowledge_entries ${n(actual)}, expected ${n(options.expectedEntries)}`,
          ),
        );
    }

    if (!hasEntries) {
      const reason = 'not run: knowledge_entries is missing';
      checks.push(skip(DATA_CHECKS.newest, reason), skip(DATA_CHECKS.sampleById, reason));
      checks.push(skip(DATA_CHECKS.textSearch, reason));
      if (options.targetTime !== undefined) checks.push(skip(DATA_CHECKS.targetTime, reason));
      return kbDataReport(checks, figures);
    }

    current = DATA_CHECKS.newest;
    const newest = await client.query<{ created: string | null; updated: string | null }>(
      `SELECT to_char(max(created_at) AT TIME ZONE 'UTC', ${ISO_US}) AS created,
              to_char(max(updated_at) AT TIME ZONE 'UTC', ${ISO_US}) AS updated
         FROM ${KB_TABLES.entries}`,
    );
    const created = newest.rows[0]?.created ?? undefined;
    const updated = newest.rows[0]?.updated ?? undefined;
    if (created) figures.newestCreatedAt = created;
    if (updated) figures.newestUpdatedAt = updated;
    checks.push(
      created
        ? pass(DATA_CHECKS.newest, `newest created_at ${created}, newest updated_at ${updated ?? 'none'}`)
        : skip(DATA_CHECKS.newest, 'no entries'),
    );

    current = DATA_CHECKS.sampleById;
    let sampleTitle: string | undefined;
    if (options.sampleEntryId !== undefined) {
      const id = String(options.sampleEntryId);
      const row = await client.query<{ id: string; title: string }>(
        `SELECT id::text AS id, title FROM ${KB_TABLES.entries} WHERE id::text = $1`,
        [id],
      );
      sampleTitle = row.rows[0]?.title;
      checks.push(
        row.rows[0]
          ? pass(DATA_CHECKS.sampleById, `entry ${id} read: "${truncate(row.rows[0].title)}"`)
          : fail(
              DATA_CHECKS.sampleById,
              `entry ${id} not found: the restored data lacks an entry the caller knows`,
            ),
      );
    } else {
      const row = await client.query<{ id: string; title: string }>(
        `SELECT id::text AS id, title FROM ${KB_TABLES.entries} ORDER BY id LIMIT 1`,
      );
      const first = row.rows[0];
      if (!first) checks.push(skip(DATA_CHECKS.sampleById, 'no entries to read'));
      else {
        const again = await client.query<{ title: string }>(
          `SELECT title FROM ${KB_TABLES.entries} WHERE id::text = $1`,
          [first.id],
        );
        sampleTitle = again.rows[0]?.title;
        checks.push(
          sampleTitle !== undefined
            ? pass(DATA_CHECKS.sampleById, `lowest entry ${first.id} read by id: "${truncate(sampleTitle)}"`)
            : fail(DATA_CHECKS.sampleById, `lowest entry ${first.id} listed but not readable by id`),
        );
      }
    }

    current = DATA_CHECKS.textSearch;
    const term = options.searchText ?? (sampleTitle === undefined ? undefined : searchWordOf(sampleTitle));
    if (term === undefined) checks.push(skip(DATA_CHECKS.textSearch, 'no entry to take a search word from'));
    else {
      const found = await client.query<{ c: string }>(
        `SELECT count(*) AS c FROM (SELECT 1 FROM ${KB_TABLES.entries}
          WHERE title ILIKE $1 OR body ILIKE $1 LIMIT 100) s`,
        [containsPattern(term)],
      );
      const hits = Number(found.rows[0]?.c ?? 0);
      checks.push(
        hits > 0
          ? pass(
              DATA_CHECKS.textSearch,
              `"${truncate(term)}" found in ${hits === 100 ? '100+' : n(hits)} entries`,
            )
          : fail(DATA_CHECKS.textSearch, `"${truncate(term)}" found in no entry`),
      );
    }

    if (options.targetTime !== undefined) {
      current = DATA_CHECKS.targetTime;
      const target =
        options.targetTime instanceof Date ? options.targetTime.toISOString() : String(options.targetTime);
      const after = await client.query<{
        entries: string;
        cache: string | null;
        created: string | null;
        updated: string | null;
      }>(
        `SELECT count(*) AS entries,
                to_char(max(created_at) AT TIME ZONE 'UTC', ${ISO_US}) AS created,
                to_char(max(updated_at) AT TIME ZONE 'UTC', ${ISO_US}) AS updated,
                ${hasCache ? `(SELECT count(*) FROM ${KB_TABLES.cache} WHERE created_at > $1::timestamptz)` : 'NULL'} AS cache
           FROM ${KB_TABLES.entries} WHERE created_at > $1::timestamptz OR updated_at > $1::timestamptz`,
        [target],
      );
      const r = after.rows[0];
      const newerEntries = Number(r?.entries ?? 0);
      const newerCache = Number(r?.cache ?? 0);
      checks.push(
        newerEntries === 0 && newerCache === 0
          ? pass(
              DATA_CHECKS.targetTime,
              `target ${target}: no entry created or updated after it (newest created_at ${figures.newestCreatedAt ?? 'none'}, updated_at ${figures.newestUpdatedAt ?? 'none'})`,
            )
          : fail(
              DATA_CHECKS.targetTime,
              `target ${target}: ${n(newerEntries)} entries created or updated after it (newest created_at ${r?.created ?? 'n/a'}, updated_at ${r?.updated ?? 'n/a'})${newerCache > 0 ? `, ${n(newerCache)} embedding_cache rows created after it` : ''}; the restore is not the state at the target time`,
            ),
      );
    }
  } catch (err) {
    const e = err as PgLikeError;
    checks.push(
      fail(
        current,
        current === DATA_CHECKS.connect
          ? describeConnectionFailure(err, 'the database', false)
          : `query failed (${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)})`,
      ),
    );
    const done = new Set(checks.map((c) => c.check));
    for (const c of applicableChecks(options))
      if (!done.has(c)) checks.push(skip(c, `not run: "${current}" failed`));
  }
  return kbDataReport(checks, figures);
}

function truncate(s: string, max = 60): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
