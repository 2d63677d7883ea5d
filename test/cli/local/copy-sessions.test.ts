/**
 * The restore's load over two sessions (cli/local/copy-sessions.ts), on a real PostgreSQL: the
 * rows of a large COPY block are shared, the data read back is exactly the dump's, statements
 * after a block see every row, the helper reads rows with the dump's own settings, and either
 * session failing stops both and says why.
 */
import { spawn, execFileSync } from 'node:child_process';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CopySessions, SessionInput, sessionCommand, startSession } from '../../../cli/local/copy-sessions';
import { childEnv, pgBinary, type PgConnection } from '../../../cli/local/connection';
import { DumpScanner } from '../../../cli/local/dump-scanner';
import { createKbDatabase, kbFingerprint, type TestPostgres } from '../../../harness/postgres';
import { connectionTo, tempDir } from '../../support/cli-fixtures';
import { useSharedPostgres } from '../../support/local-cluster';

let pg: TestPostgres;
let dir: string;

useSharedPostgres(async (started) => {
  pg = started;
  dir = tempDir(pg, 'copy-sessions');
});

/** pg_dump of `database` into a plain SQL file; `extra` are more pg_dump flags. */
function dumpOf(database: string, name: string, extra: string[] = []): string {
  const conn = connectionTo(pg, database);
  const file = join(dir, `${name}.sql`);
  execFileSync(pgBinary(conn, 'pg_dump'), ['-f', file, ...extra], { env: childEnv(conn, database) });
  return file;
}

/** A psql session (with answers) that starts reading its input only after `delaySeconds`. */
function delayedHelper(conn: PgConnection, database: string, delaySeconds: number): SessionInput {
  const { binary, args } = sessionCommand(conn, database, { answers: true });
  const child = spawn('sh', ['-c', `sleep ${delaySeconds}; exec "$0" "$@"`, binary, ...args], {
    env: childEnv(conn, database),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new SessionInput(child, binary);
}

interface Loaded {
  readonly sessions: CopySessions;
  readonly main: SessionInput;
  readonly mainExit: { code: number | null };
  readonly helperExit: { code: number | null } | undefined;
}

/** Feed `file` through the gate (pieces mode) into two sessions on `database`, as the restore does. */
async function load(
  file: string,
  database: string,
  options: {
    readonly helperAfterBytes?: number;
    readonly startHelper?: (conn: PgConnection) => SessionInput;
    readonly startMain?: (conn: PgConnection) => SessionInput;
    readonly signal?: AbortSignal;
  } = {},
): Promise<Loaded> {
  const conn = connectionTo(pg, database);
  const main =
    options.startMain?.(conn) ?? startSession(conn, database, childEnv(conn, database), { answers: true });
  const sessions = new CopySessions({
    main,
    startHelper: () =>
      options.startHelper?.(conn) ??
      startSession(conn, database, childEnv(conn, database), { answers: true }),
    helperAfterBytes: options.helperAfterBytes ?? 0,
  });
  try {
    await pipeline(
      createReadStream(file, { highWaterMark: 16 * 1024 }),
      new DumpScanner({ gate: true, pieces: true }),
      sessions,
      options.signal ? { signal: options.signal } : {},
    );
  } catch (err) {
    sessions.stop();
    await Promise.all([main.exited, sessions.helperSession?.exited]);
    throw err;
  }
  const [mainExit, helperExit] = await Promise.all([main.exited, sessions.helperSession?.exited]);
  return { sessions, main, mainExit, helperExit };
}

/**
 * Sessions connected to `database`, once the server has noticed its killed clients: a killed
 * psql's backend goes away a moment later, so this asks again (up to 10 s) while any remain.
 */
async function sessionsOn(database: string): Promise<number> {
  const count = async () =>
    Number(await pg.sql('postgres', `SELECT count(*) FROM pg_stat_activity WHERE datname = '${database}'`));
  for (let i = 0; i < 100; i += 1) {
    if ((await count()) === 0) return 0;
    await new Promise((r) => setTimeout(r, 100));
  }
  return count();
}

describe('CopySessions', () => {
  it('shares the rows of a large block with a second session, and the data read back is exactly the dump', async () => {
    // Prepare
    await createKbDatabase(pg, 'cs_src', 3000);
    const file = dumpOf('cs_src', 'plain');
    await pg.sql('postgres', 'CREATE DATABASE cs_two');

    // Act
    const { sessions, mainExit, helperExit } = await load(file, 'cs_two');

    // Assess
    expect(mainExit.code).toBe(0);
    expect(helperExit?.code).toBe(0);
    expect(sessions.rowBytes.helper).toBeGreaterThan(0);
    expect(sessions.rowBytes.main).toBeGreaterThan(0);
    expect(sessions.failure).toBeUndefined();
    expect(await kbFingerprint(pg, 'cs_two')).toBe(await kbFingerprint(pg, 'cs_src'));
    // Both sessions have gone: nothing stays connected to the loaded database.
    expect(await sessionsOn('cs_two')).toBe(0);
  });

  it('loads a block below the threshold in the main session alone (no second psql)', async () => {
    await createKbDatabase(pg, 'cs_small_src', 40);
    const file = dumpOf('cs_small_src', 'small');
    await pg.sql('postgres', 'CREATE DATABASE cs_small');
    const startHelper = jest.fn((conn: PgConnection) =>
      startSession(conn, 'cs_small', childEnv(conn, 'cs_small'), { answers: true }),
    );

    const { sessions, mainExit } = await load(file, 'cs_small', {
      helperAfterBytes: 4 * 1024 * 1024,
      startHelper,
    });

    expect(mainExit.code).toBe(0);
    expect(startHelper).not.toHaveBeenCalled();
    expect(sessions.rowBytes.helper).toBe(0);
    expect(await kbFingerprint(pg, 'cs_small')).toBe(await kbFingerprint(pg, 'cs_small_src'));
  });

  it('runs a statement after a block only once the helper committed its share (a refreshed materialized view counts every row)', async () => {
    // Prepare: pg_dump refreshes materialized views after the data; a refresh that ran before
    // the helper's rows were committed would count fewer.
    await createKbDatabase(pg, 'cs_mv_src', 2000);
    await pg.sql(
      'cs_mv_src',
      'CREATE MATERIALIZED VIEW entry_total AS SELECT count(*) AS n FROM knowledge_entries',
    );
    const file = dumpOf('cs_mv_src', 'matview');
    expect(readFileSync(file, 'utf8')).toMatch(/REFRESH MATERIALIZED VIEW public\.entry_total;/);
    await pg.sql('postgres', 'CREATE DATABASE cs_mv');

    // Act: the helper starts reading 1.5 s late, long after the main session finished its rows.
    const { sessions, mainExit, helperExit } = await load(file, 'cs_mv', {
      startHelper: (conn) => delayedHelper(conn, 'cs_mv', 1.5),
    });

    // Assess
    expect(mainExit.code).toBe(0);
    expect(helperExit?.code).toBe(0);
    expect(sessions.rowBytes.helper).toBeGreaterThan(0);
    expect(await pg.sql('cs_mv', 'SELECT n FROM entry_total')).toBe('2000');
    expect(await kbFingerprint(pg, 'cs_mv')).toBe(await kbFingerprint(pg, 'cs_mv_src'));
  });

  it('never lets the helper COPY before the main session has created the table (a slow main session)', async () => {
    await createKbDatabase(pg, 'cs_slow_src', 3000);
    const file = dumpOf('cs_slow_src', 'slow-main');
    await pg.sql('postgres', 'CREATE DATABASE cs_slow');

    // The main session starts reading 1.5 s late: a helper that did not wait for it would run
    // its COPY into a table that does not exist yet.
    const { sessions, mainExit, helperExit } = await load(file, 'cs_slow', {
      startMain: (conn) => delayedHelper(conn, 'cs_slow', 1.5),
    });

    expect(mainExit.code).toBe(0);
    expect(helperExit?.code).toBe(0);
    expect(sessions.rowBytes.helper).toBeGreaterThan(0);
    expect(await kbFingerprint(pg, 'cs_slow')).toBe(await kbFingerprint(pg, 'cs_slow_src'));
  });

  it("repeats the dump's session settings in the helper: a LATIN1 dump's rows arrive as written", async () => {
    await createKbDatabase(pg, 'cs_latin_src', 1500);
    await pg.sql('cs_latin_src', "UPDATE knowledge_entries SET title = 'café crème ü ' || id");
    const file = dumpOf('cs_latin_src', 'latin1', ['-E', 'LATIN1']);
    // The file is LATIN1: é is one byte (0xE9), not UTF-8's two.
    expect(readFileSync(file).includes(Buffer.from([0x63, 0x61, 0x66, 0xe9]))).toBe(true);
    await pg.sql('postgres', 'CREATE DATABASE cs_latin');

    const { sessions, mainExit, helperExit } = await load(file, 'cs_latin');

    expect(mainExit.code).toBe(0);
    expect(helperExit?.code).toBe(0);
    expect(sessions.rowBytes.helper).toBeGreaterThan(0);
    expect(await kbFingerprint(pg, 'cs_latin')).toBe(await kbFingerprint(pg, 'cs_latin_src'));
    expect(
      await pg.sql('cs_latin', "SELECT count(*) FROM knowledge_entries WHERE title LIKE 'café crème ü %'"),
    ).toBe('1500');
  });

  it('a helper that fails stops the main session too, and is named as the failure', async () => {
    await createKbDatabase(pg, 'cs_hfail_src', 1500);
    const file = dumpOf('cs_hfail_src', 'hfail');
    await pg.sql('postgres', 'CREATE DATABASE cs_hfail');

    // The helper connects to a database that does not exist: psql exits 2 at once.
    const { sessions, main, mainExit, helperExit } = await load(file, 'cs_hfail', {
      startHelper: (conn) =>
        startSession(conn, 'cs_no_such_db', childEnv(conn, 'cs_no_such_db'), { answers: true }),
    });

    expect(helperExit?.code).toBe(2);
    expect(sessions.failure).toBe(sessions.helperSession);
    expect(sessions.failure?.stderr()).toMatch(/cs_no_such_db/);
    // The main session was killed, not left loading.
    expect(mainExit.code).toBeNull();
    expect(main.closed).toBe(true);
    expect(await sessionsOn('cs_hfail')).toBe(0);
  });

  it('a main session that fails on a row stops the helper too', async () => {
    await createKbDatabase(pg, 'cs_mfail_src', 1500);
    const good = readFileSync(dumpOf('cs_mfail_src', 'mfail-good'), 'utf8');
    // The dump's first row (the first rows of the first block go to the main session: the
    // helper has just started, nothing waits in either pipe, and the main session goes first)
    // gets an impossible timestamp.
    const copyAt = good.indexOf('\nCOPY ');
    const rowStart = good.indexOf('\n', copyAt + 1) + 1;
    const rowEnd = good.indexOf('\n', rowStart);
    const bad = good.slice(rowStart, rowEnd).replace(/\t\d{4}-\d\d-\d\d [^\t]+/, '\t2026-02-30 00:00:00+00');
    expect(bad).not.toBe(good.slice(rowStart, rowEnd));
    const file = join(dir, 'mfail.sql');
    writeFileSync(file, good.slice(0, rowStart) + bad + good.slice(rowEnd));
    await pg.sql('postgres', 'CREATE DATABASE cs_mfail');

    const { sessions, main, mainExit, helperExit } = await load(file, 'cs_mfail', {
      // A slow helper: it is still waiting when the main session fails.
      startHelper: (conn) => delayedHelper(conn, 'cs_mfail', 3),
    });

    expect(mainExit.code).toBe(3);
    expect(sessions.failure).toBe(main);
    expect(main.stderr()).toMatch(/date\/time field value out of range/);
    // The helper was killed rather than left to load its share.
    if (helperExit) expect(helperExit.code).toBeNull();
    expect(await sessionsOn('cs_mfail')).toBe(0);
    expect(await pg.sql('cs_mfail', 'SELECT count(*) FROM knowledge_entries')).toBe('0');
  });

  it('an abort mid-load kills both sessions and leaves none connected', async () => {
    await createKbDatabase(pg, 'cs_abort_src', 3000);
    const file = dumpOf('cs_abort_src', 'abort');
    await pg.sql('postgres', 'CREATE DATABASE cs_abort');
    const controller = new AbortController();
    let helper: SessionInput | undefined;

    const outcome = load(file, 'cs_abort', {
      startHelper: (conn) => {
        helper = delayedHelper(conn, 'cs_abort', 2);
        setImmediate(() => controller.abort());
        return helper;
      },
      signal: controller.signal,
    });

    await expect(outcome).rejects.toThrow(/abort/i);
    expect(helper).toBeDefined();
    expect((await helper!.exited).code).toBeNull();
    expect(await sessionsOn('cs_abort')).toBe(0);
  });
});
