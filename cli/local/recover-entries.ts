/**
 * Targeted recovery: copy Knowledge Base entries that are missing from the live database back
 * from a recovery source, never overwriting or deleting anything in the live database.
 *
 * Sources: a local backup file (validated by the restore's checks, loaded into a scratch database
 * through the restore's gate, dropped afterwards) or a restored instance reached over TLS
 * (`connectKb`, as the restore verification connects). Both are read in one read-only,
 * repeatable-read transaction.
 *
 * An entry is identified by the primary key of `knowledge_entries`. For each selected entry of
 * the source: absent from live → missing (inserted with --confirm); present with the same content
 * (every shared column) → already present; present with other content → changed since the backup:
 * reported, never touched. `embedding_cache` rows (content-addressed, no link to entries) missing
 * from live are copied too unless told not to. The inserts run in ONE transaction with
 * `INSERT ... ON CONFLICT DO NOTHING`, so a row the application writes meanwhile wins and a kill
 * leaves nothing half-done; the id sequence is moved ahead of every inserted id if it was behind.
 * Only inserts: the application keeps running.
 *
 * Schema drift: a column added to live since the backup is mapped (it gets its default, or NULL)
 * when it has a default or accepts NULL; a column the backup has and live lacks, a changed type, or
 * a new NOT NULL column without default refuses the recovery with the reason (nothing changed).
 */
// Types only: pg (and the undici it pulls in) loads when a recovery connects, not at every CLI start.
import type { Client, ClientConfig } from 'pg';
import { GuardRailError, KbDrError, ValidationError } from '../../core/errors';
import type { KbConnectionConfig } from '../../lambda/shared/kb-data-checks';
import type { CliLogger } from '../shared/logger';
import { parseLocalBackupName } from './backup-files';
import { LOCAL_ENV, describeConnection, quoteIdent, type PgConnection } from './connection';
import { dropDatabase } from './databases';
import { acquireRestoreLock } from './lock';
import { InterruptedError } from './psql';
import { describeSelection, selectionColumns, selectionWhere, type Selection } from './recovery-selection';
import {
  createScratchDatabase,
  dropLeftoverScratchDatabases,
  loadBackupInto,
  recoverScratchName,
} from './scratch-database';
import { validateBackup } from './validate';

const ENTRIES = 'public.knowledge_entries';
const CACHE = 'public.embedding_cache';
const DAY_MS = 86_400_000;
const BATCH = 2000;
/** Database names kb-dr gives to the copies it keeps or works in: never a recovery target by default. */
const KB_DR_COPY = /_(pre_restore|rolled_back|restoring|recover)_\d/;

export type RecoverSource =
  | {
      readonly kind: 'backup-file';
      readonly file: string;
      readonly allowSmall?: boolean;
      readonly trustedFile?: boolean;
    }
  | {
      readonly kind: 'instance';
      /** The restored instance's id (kb-restore-...), for messages. */
      readonly instanceId: string;
      readonly config: KbConnectionConfig;
      /** The point in time the instance holds (its snapshot or PITR target), when known. */
      readonly sourceTime?: Date;
    };

export interface RecoverOptions {
  /** The configured live database (KB_DB_*). */
  readonly conn: PgConnection;
  /** Write into this database instead of `conn.database` (needs `allowOtherTarget`). */
  readonly targetDatabase?: string;
  readonly allowOtherTarget?: boolean;
  readonly source: RecoverSource;
  readonly selection: Selection;
  /** Insert; without it, a dry run that changes nothing. */
  readonly confirm: boolean;
  /** Accept a source older than the retention window. */
  readonly force?: boolean;
  readonly retentionDays: number;
  /** Copy the embedding_cache rows missing from live. @default true */
  readonly includeCache?: boolean;
  readonly logger: CliLogger;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  /** Titles shown in the sample. @default 10 */
  readonly sampleSize?: number;
  /** Test hooks: after the plan is made / after the inserts, before COMMIT. */
  readonly hooks?: {
    readonly afterPlan?: () => Promise<void>;
    readonly beforeCommit?: () => Promise<void>;
  };
}

export interface RecoverReport {
  readonly mode: 'dry-run' | 'confirmed';
  readonly source: {
    readonly kind: RecoverSource['kind'];
    readonly name: string;
    /** The point in time the source holds, ISO UTC. */
    readonly time: string;
    /** Where that time was read from. */
    readonly timeFrom: string;
    readonly ageDays: number;
  };
  readonly target: string;
  readonly selection: string;
  /** Live columns absent from the source; they get their default (or NULL). */
  readonly mappedColumns: readonly string[];
  /** Selected entries in the source. */
  readonly selected: number;
  /** Selected entries absent from live: inserted with --confirm. */
  readonly missing: number;
  readonly inserted: number;
  /** Present in live with the same content. */
  readonly alreadyPresent: number;
  /** Present in live with other content: reported, untouched. */
  readonly skippedChanged: number;
  /** Missing when planned, written by someone else before the insert (kept as they wrote it). */
  readonly raced: number;
  readonly missingIds: readonly string[];
  readonly changedIds: readonly string[];
  readonly sample: readonly { readonly id: string; readonly title: string }[];
  readonly cache: { readonly included: boolean; readonly missing: number; readonly inserted: number };
  /** The id sequence, when it had to be moved ahead of the inserted ids. */
  readonly sequenceAdvancedTo: string | undefined;
  readonly scratchDatabase: { readonly name: string; readonly dropped: boolean } | undefined;
  readonly leftoversDropped: readonly string[];
  readonly durationMs: number;
}

interface Column {
  readonly name: string;
  readonly type: string;
  readonly notNull: boolean;
  readonly hasDefault: boolean;
  readonly generated: boolean;
}

interface TableShape {
  readonly columns: readonly Column[];
  readonly primaryKey: readonly string[];
}

interface TablePlan {
  readonly table: string;
  /** Columns copied. */
  readonly shared: readonly string[];
  readonly mapped: readonly string[];
  readonly primaryKey: readonly string[];
  /** The first primary-key column and its type: lookups go through its index. */
  readonly lookup: { readonly column: string; readonly type: string };
  readonly excludeLive: readonly string[];
  readonly excludeSource: readonly string[];
}

/** Connection settings for node-postgres from the CLI's connection (password never logged). */
export function pgClientConfig(conn: PgConnection, database: string): ClientConfig {
  const password = conn.password ?? conn.baseEnv.PGPASSWORD;
  return {
    ...(conn.host !== undefined ? { host: conn.host } : {}),
    ...(conn.port !== undefined ? { port: conn.port } : {}),
    ...(conn.user !== undefined ? { user: conn.user } : {}),
    ...(password !== undefined ? { password } : {}),
    database,
    application_name: 'kb-dr-recover',
    connectionTimeoutMillis: 10_000,
  };
}

async function openClient(config: ClientConfig, what: string): Promise<Client> {
  const { Client: PgClient } = await import('pg');
  const client = new PgClient(config);
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new KbDrError(`could not connect to ${what}: ${(err as Error).message}`, {
      cause: err,
      hint: `check ${LOCAL_ENV.host}, ${LOCAL_ENV.port}, ${LOCAL_ENV.user} and the password; nothing was changed`,
    });
  }
  return client;
}

/** Same text output on both sides, so content hashes and keys compare across servers. */
async function normaliseSession(client: Client): Promise<void> {
  await client.query(
    "SET TIME ZONE 'UTC'; SET extra_float_digits = 1; SET bytea_output = 'hex'; SET DateStyle = 'ISO'",
  );
}

async function readShape(client: Client, table: string): Promise<TableShape | undefined> {
  const cols = await client.query<{
    name: string;
    type: string;
    notnull: boolean;
    hasdef: boolean;
    generated: boolean;
  }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
            (a.atthasdef OR a.attidentity <> '') AS hasdef, a.attgenerated <> '' AS generated
       FROM pg_attribute a
      WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [table],
  );
  if (cols.rows.length === 0) return undefined;
  const pk = await client.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_index i
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = to_regclass($1) AND i.indisprimary
      ORDER BY array_position(i.indkey::int2[], a.attnum)`,
    [table],
  );
  return {
    columns: cols.rows.map((r) => ({
      name: r.name,
      type: r.type,
      notNull: r.notnull,
      hasDefault: r.hasdef,
      generated: r.generated,
    })),
    primaryKey: pk.rows.map((r) => r.name),
  };
}

function refuseSchema(detail: string): GuardRailError {
  return new GuardRailError(
    `the backup and the live database differ in a way recover-entries does not map: ${detail}; nothing was changed`,
    {
      hint: 'restore the backup to a new database (scripts/restore-kb.sh) and copy what you need by hand, or recover from a backup taken after the schema change',
    },
  );
}

/** Compare the two shapes of one table: which columns are copied, which are mapped, or refuse. */
export function planTable(table: string, live: TableShape, source: TableShape): TablePlan {
  const problems: string[] = [];
  const liveByName = new Map(live.columns.map((c) => [c.name, c]));
  const sourceByName = new Map(source.columns.map((c) => [c.name, c]));
  for (const s of source.columns) {
    if (s.generated) continue;
    const l = liveByName.get(s.name);
    if (!l) problems.push(`${table}.${s.name} (${s.type}) is in the backup but not in the live table`);
    else if (l.type !== s.type)
      problems.push(`${table}.${s.name} is ${s.type} in the backup but ${l.type} in the live table`);
  }
  const mapped: string[] = [];
  for (const l of live.columns) {
    if (l.generated || sourceByName.has(l.name)) continue;
    if (l.notNull && !l.hasDefault)
      problems.push(
        `${table}.${l.name} (${l.type}) was added since the backup as NOT NULL without a default, so the backup has no value for it`,
      );
    else mapped.push(l.name);
  }
  if (live.primaryKey.length === 0)
    problems.push(`the live ${table} has no primary key, so missing rows cannot be told apart`);
  const missingKey = live.primaryKey.filter((k) => !sourceByName.has(k));
  if (missingKey.length > 0)
    problems.push(`the backup's ${table} lacks the primary-key column(s) ${missingKey.join(', ')}`);
  if (problems.length > 0) throw refuseSchema(problems.join('; '));
  const shared = live.columns.filter((l) => !l.generated && sourceByName.has(l.name)).map((l) => l.name);
  const lookupColumn = live.primaryKey[0]!;
  return {
    table,
    shared,
    mapped,
    primaryKey: live.primaryKey,
    lookup: { column: lookupColumn, type: liveByName.get(lookupColumn)!.type },
    excludeLive: live.columns.map((c) => c.name).filter((n) => !shared.includes(n)),
    excludeSource: source.columns.map((c) => c.name).filter((n) => !shared.includes(n)),
  };
}

const keyExpr = (plan: TablePlan, alias: string) =>
  `jsonb_build_array(${plan.primaryKey.map((k) => `${alias}.${quoteIdent(k)}`).join(', ')})::text`;
const hashExpr = (alias: string, excludeParam: string) =>
  `md5((to_jsonb(${alias}) - ${excludeParam}::text[])::text)`;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

interface SourceRow {
  readonly key: string;
  readonly lookup: string;
  readonly hash: string;
  readonly id: string;
  readonly title: string;
}

/** Selected rows of the source: key, lookup value, content hash (and id/title for entries). */
async function readSourceRows(
  source: Client,
  plan: TablePlan,
  where: { sql: string; params: unknown[] },
): Promise<SourceRow[]> {
  const exclude = `$${where.params.length + 1}`;
  const res = await source.query<SourceRow>(
    `SELECT ${keyExpr(plan, 't')} AS key, t.${quoteIdent(plan.lookup.column)}::text AS lookup,
            ${hashExpr('t', exclude)} AS hash,
            coalesce(to_jsonb(t)->>'id', '') AS id, left(coalesce(to_jsonb(t)->>'title', ''), 200) AS title
       FROM ${plan.table} t WHERE ${where.sql} ORDER BY 1`,
    [...where.params, plan.excludeSource],
  );
  return res.rows;
}

/** Key → content hash of the live rows whose lookup value is among `lookups`. */
async function readLiveHashes(
  live: Client,
  plan: TablePlan,
  lookups: readonly string[],
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const batch of chunks([...new Set(lookups)], BATCH)) {
    const res = await live.query<{ key: string; hash: string }>(
      `SELECT ${keyExpr(plan, 't')} AS key, ${hashExpr('t', '$2')} AS hash
         FROM ${plan.table} t WHERE t.${quoteIdent(plan.lookup.column)} = ANY($1::${plan.lookup.type}[])`,
      [batch, plan.excludeLive],
    );
    for (const r of res.rows) found.set(r.key, r.hash);
  }
  return found;
}

/** Copy the rows with `keys` from source to live (inside the caller's transaction); returns the keys inserted. */
async function copyRows(
  source: Client,
  live: Client,
  plan: TablePlan,
  rows: readonly SourceRow[],
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const inserted: string[] = [];
  const cols = plan.shared.map(quoteIdent).join(', ');
  for (const batch of chunks(rows, BATCH)) {
    if (signal?.aborted) throw interruptedBeforeCommit();
    const wanted = new Set(batch.map((r) => r.key));
    const docs = await source.query<{ key: string; doc: string }>(
      `SELECT ${keyExpr(plan, 't')} AS key, to_jsonb(t)::text AS doc FROM ${plan.table} t
        WHERE t.${quoteIdent(plan.lookup.column)} = ANY($1::${plan.lookup.type}[])`,
      [[...new Set(batch.map((r) => r.lookup))]],
    );
    const json = `[${docs.rows
      .filter((d) => wanted.has(d.key))
      .map((d) => d.doc)
      .join(',')}]`;
    const res = await live.query<{ key: string }>(
      `INSERT INTO ${plan.table} (${cols}) OVERRIDING SYSTEM VALUE
       SELECT ${plan.shared.map((c) => `r.${quoteIdent(c)}`).join(', ')}
         FROM jsonb_populate_recordset(NULL::${plan.table}, $1::jsonb) r
       ON CONFLICT DO NOTHING
       RETURNING ${keyExpr(plan, plan.table)} AS key`,
      [json],
    );
    inserted.push(...res.rows.map((r) => r.key));
  }
  return inserted;
}

function interruptedBeforeCommit(): InterruptedError {
  return new InterruptedError('the recovery was interrupted before it committed; nothing was inserted', {
    hint: 'the transaction was rolled back; run the recovery again',
  });
}

/**
 * Move the id sequence ahead of `maxId` if it is behind. Under a SHARE ROW EXCLUSIVE lock (taken
 * only then, until COMMIT) no INSERT can draw a value meanwhile, so it never moves backwards.
 */
async function advanceSequence(live: Client, maxId: bigint): Promise<string | undefined> {
  const seq = (
    await live.query<{ seq: string | null }>(`SELECT pg_get_serial_sequence($1, 'id') AS seq`, [ENTRIES])
  ).rows[0]?.seq;
  if (!seq) return undefined;
  // pg_sequence_last_value fails without privilege on the sequence (pg_sequences would show NULL,
  // read as "never used", and setval would then move a busy sequence backwards); NULL here means
  // the sequence was never used.
  const last = async () =>
    BigInt(
      (
        await live.query<{ v: string | null }>('SELECT pg_sequence_last_value($1::regclass)::text AS v', [
          seq,
        ])
      ).rows[0]?.v ?? '0',
    );
  if ((await last()) > maxId) return undefined;
  await live.query(`LOCK TABLE ${ENTRIES} IN SHARE ROW EXCLUSIVE MODE`);
  if ((await last()) > maxId) return undefined;
  await live.query('SELECT setval($1::regclass, $2::bigint, true)', [seq, maxId.toString()]);
  return maxId.toString();
}

interface SourceTime {
  readonly time: Date;
  readonly from: string;
}

function ageDays(time: Date, now: Date): number {
  return Math.floor(((now.getTime() - time.getTime()) / DAY_MS) * 10) / 10;
}

function checkRetention(t: SourceTime, now: Date, options: RecoverOptions, name: string): void {
  const age = now.getTime() - t.time.getTime();
  if (age <= options.retentionDays * DAY_MS || options.force) return;
  throw new GuardRailError(
    `${name} holds the data of ${t.time.toISOString()} (${t.from}), ${ageDays(t.time, now)} days ago: older than the ${options.retentionDays}-day retention window (${LOCAL_ENV.retentionDays}); entries deleted on purpose since then would come back; nothing was changed`,
    {
      hint: 'pick a newer backup (`npx kb-dr find-backup --before=TIME`), narrow the selection, or pass --force if you mean it',
    },
  );
}

function checkTarget(options: RecoverOptions): string {
  const configured = options.conn.database;
  const target = options.targetDatabase ?? configured;
  if (target === options.conn.maintenanceDatabase) {
    throw new GuardRailError(
      `refusing to recover into the maintenance database ${target}; nothing was changed`,
      {
        hint: `set ${LOCAL_ENV.database} to the live Knowledge Base database`,
      },
    );
  }
  if (options.allowOtherTarget) return target;
  if (target !== configured) {
    throw new GuardRailError(
      `--target-database=${target} is not the configured live database ${configured} (${LOCAL_ENV.database}); nothing was changed`,
      { hint: 'add --allow-other-target if you mean to write into another database' },
    );
  }
  if (KB_DR_COPY.test(target)) {
    throw new GuardRailError(
      `${target} looks like a copy kb-dr keeps or works in, not a live database; nothing was changed`,
      { hint: `point ${LOCAL_ENV.database} at the live database, or add --allow-other-target` },
    );
  }
  return target;
}

/** Run a targeted recovery (dry run unless `confirm`); see the module comment. */
export async function recoverEntries(options: RecoverOptions): Promise<RecoverReport> {
  const started = Date.now();
  const now = (options.now ?? (() => new Date()))();
  const { logger, source, signal } = options;
  const target = checkTarget(options);
  const liveConn: PgConnection = { ...options.conn, database: target };

  // 1. The source, before any database: its time (retention) and, for a file, the full validation.
  let fileTime: SourceTime | undefined;
  let sha256: string | undefined;
  if (source.kind === 'backup-file') {
    const named = parseLocalBackupName(source.file);
    if (!named) {
      throw new ValidationError(
        `${source.file} is not named kb-backup-YYYYMMDD-HHMMSS.sql.gz, so the time it holds is unknown`,
        'backupFile',
        {
          hint: 'pass a backup written by `scripts/backup-kb.sh --local` (list them with `npx kb-dr find-backup --before=TIME`); nothing was changed',
        },
      );
    }
    fileTime = { time: named, from: 'the time pg_dump started, from the file name (UTC)' };
    checkRetention(fileTime, now, options, source.file);
    const report = await validateBackup({
      file: source.file,
      logger,
      allowSmall: source.allowSmall ?? false,
      trustedFile: source.trustedFile ?? false,
    });
    if (!report.valid) {
      const failed = report.checks.filter((c) => !c.ok);
      throw new ValidationError(
        `refusing to recover from ${source.file}: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`,
        'backupFile',
        { hint: 'no database was touched; pick another backup and check it with scripts/validate-backup.sh' },
      );
    }
    sha256 = report.sha256;
  } else if (source.sourceTime) {
    checkRetention(
      { time: source.sourceTime, from: 'given with --source-time' },
      now,
      options,
      source.instanceId,
    );
  }

  const scratchName = source.kind === 'backup-file' ? recoverScratchName(target, now) : undefined;
  const lock = await acquireRestoreLock(liveConn, target);
  let scratchCreated = false;
  let scratchDropped = false;
  let live: Client | undefined;
  let src: Client | undefined;
  let partial: Omit<RecoverReport, 'scratchDatabase' | 'durationMs'>;
  try {
    live = await openClient(
      pgClientConfig(liveConn, target),
      `the live database ${describeConnection(liveConn)}`,
    );
    await normaliseSession(live);
    const leftoversDropped = scratchName ? await dropLeftoverScratchDatabases(liveConn, target, logger) : [];

    // 2. The source database.
    let sourceName: string;
    if (source.kind === 'backup-file') {
      sourceName = source.file;
      logger.info('loading the backup into a scratch database', { database: scratchName, file: source.file });
      scratchCreated = true;
      await createScratchDatabase(liveConn, scratchName!);
      await loadBackupInto(liveConn, source.file, scratchName!, sha256!, signal);
      src = await openClient(pgClientConfig(liveConn, scratchName!), `the scratch database ${scratchName}`);
    } else {
      sourceName = source.instanceId;
      const sameServer =
        source.config.host === (liveConn.host ?? 'localhost') &&
        source.config.port === (liveConn.port ?? 5432) &&
        source.config.database === target;
      if (sameServer) {
        throw new GuardRailError(
          `the source ${source.instanceId} is the live database itself (${describeConnection(liveConn)}); nothing was changed`,
          {
            hint: 'point --source-host at the restored instance',
          },
        );
      }
      const { connectKb } = await import('../../lambda/shared/kb-data-checks');
      const connected = await connectKb({
        ...source.config,
        queryTimeoutMs: source.config.queryTimeoutMs ?? 300_000,
      });
      if (!connected.ok) {
        throw new KbDrError(`could not read ${source.instanceId}: ${connected.check.detail}`, {
          hint: 'nothing was changed; check the restored instance with restore-status and retry',
        });
      }
      src = connected.client;
    }
    await normaliseSession(src);
    await src.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');

    let time: SourceTime;
    if (fileTime) time = fileTime;
    else if (source.kind === 'instance' && source.sourceTime)
      time = { time: source.sourceTime, from: 'given with --source-time' };
    else {
      const newest = (
        await src.query<{ t: Date | null }>(
          `SELECT max(greatest(created_at, updated_at)) AS t FROM ${ENTRIES}`,
        )
      ).rows[0]?.t;
      time = {
        time: newest ? new Date(newest) : now,
        from: 'the newest created_at/updated_at in the source (pass --source-time for the exact point)',
      };
      checkRetention(time, now, options, sourceName);
    }

    // 3. Shapes, then the plan.
    const [liveEntries, srcEntries, liveCache, srcCache] = [
      await readShape(live, ENTRIES),
      await readShape(src, ENTRIES),
      await readShape(live, CACHE),
      await readShape(src, CACHE),
    ];
    if (!liveEntries) {
      throw new GuardRailError(`the live database ${target} has no ${ENTRIES} table; nothing was changed`, {
        hint: 'a dropped table is not a few missing entries: restore the database (scripts/restore-kb.sh --local) instead',
      });
    }
    if (!srcEntries) throw refuseSchema(`the source has no ${ENTRIES} table`);
    const entries = planTable(ENTRIES, liveEntries, srcEntries);
    if (!entries.shared.includes('id') || entries.lookup.column !== 'id') {
      throw refuseSchema(`${ENTRIES} is not keyed by id`);
    }
    const needed = selectionColumns(options.selection).filter((c) => !entries.shared.includes(c));
    if (needed.length > 0)
      throw refuseSchema(`the selection needs ${needed.join(', ')}, which the tables do not share`);
    const includeCache = (options.includeCache ?? true) && liveCache !== undefined && srcCache !== undefined;
    const cache = includeCache ? planTable(CACHE, liveCache, srcCache) : undefined;

    const selected = await readSourceRows(src, entries, selectionWhere(options.selection, 't'));
    const liveHashes = await readLiveHashes(
      live,
      entries,
      selected.map((r) => r.lookup),
    );
    const missing: SourceRow[] = [];
    const changed: SourceRow[] = [];
    let alreadyPresent = 0;
    for (const row of selected) {
      const h = liveHashes.get(row.key);
      if (h === undefined) missing.push(row);
      else if (h === row.hash) alreadyPresent += 1;
      else changed.push(row);
    }
    let cacheMissing: SourceRow[] = [];
    if (cache) {
      const cacheRows = await readSourceRows(src, cache, { sql: 'true', params: [] });
      const liveCacheHashes = await readLiveHashes(
        live,
        cache,
        cacheRows.map((r) => r.lookup),
      );
      cacheMissing = cacheRows.filter((r) => !liveCacheHashes.has(r.key));
    }
    logger.info('recovery plan', {
      selected: selected.length,
      missing: missing.length,
      alreadyPresent,
      changed: changed.length,
      cacheMissing: cacheMissing.length,
    });
    await options.hooks?.afterPlan?.();

    // 4. Insert (only with --confirm), one transaction.
    let insertedKeys: string[] = [];
    let cacheInserted = 0;
    let sequenceAdvancedTo: string | undefined;
    if (options.confirm && (missing.length > 0 || cacheMissing.length > 0)) {
      if (signal?.aborted) throw interruptedBeforeCommit();
      await live.query('BEGIN');
      try {
        insertedKeys = await copyRows(src, live, entries, missing, signal);
        if (cache) cacheInserted = (await copyRows(src, live, cache, cacheMissing, signal)).length;
        const insertedSet = new Set(insertedKeys);
        const ids = missing.filter((r) => insertedSet.has(r.key)).map((r) => BigInt(r.id));
        if (ids.length > 0)
          sequenceAdvancedTo = await advanceSequence(
            live,
            ids.reduce((a, b) => (a > b ? a : b)),
          );
        await options.hooks?.beforeCommit?.();
        if (signal?.aborted) throw interruptedBeforeCommit();
        await live.query('COMMIT');
      } catch (err) {
        await live.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
    await src.query('ROLLBACK').catch(() => undefined);

    partial = {
      mode: options.confirm ? 'confirmed' : 'dry-run',
      source: {
        kind: source.kind,
        name: sourceName,
        time: time.time.toISOString(),
        timeFrom: time.from,
        ageDays: ageDays(time.time, now),
      },
      target: describeConnection(liveConn),
      selection: describeSelection(options.selection),
      mappedColumns: [
        ...entries.mapped.map((c) => `knowledge_entries.${c}`),
        ...(cache?.mapped ?? []).map((c) => `embedding_cache.${c}`),
      ],
      selected: selected.length,
      missing: missing.length,
      inserted: insertedKeys.length,
      alreadyPresent,
      skippedChanged: changed.length,
      raced: options.confirm ? missing.length - insertedKeys.length : 0,
      missingIds: missing.map((r) => r.id),
      changedIds: changed.map((r) => r.id),
      sample: missing.slice(0, options.sampleSize ?? 10).map((r) => ({ id: r.id, title: r.title })),
      cache: { included: cache !== undefined, missing: cacheMissing.length, inserted: cacheInserted },
      sequenceAdvancedTo,
      leftoversDropped,
    };
  } finally {
    await src?.end().catch(() => undefined);
    await live?.end().catch(() => undefined);
    if (scratchCreated && scratchName) {
      try {
        await dropDatabase(liveConn, scratchName);
        scratchDropped = true;
      } catch (err) {
        logger.error('could not drop the scratch database; drop it by hand', {
          database: scratchName,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    await lock.release();
  }
  return {
    ...partial,
    scratchDatabase: scratchName ? { name: scratchName, dropped: scratchDropped } : undefined,
    durationMs: Date.now() - started,
  };
}
