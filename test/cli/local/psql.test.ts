import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConnection } from '../../../cli/local/connection';
import { PgCommandError, ServerUnreachableError } from '../../../cli/local/pg-errors';
import { InterruptedError, psqlQuery, psqlScalar } from '../../../cli/local/psql';
import { fakeTool } from '../../support/fake-tools';

// A fake psql in KB_PG_BIN_DIR: it records its arguments and stdin, then does what FAKE_PSQL says.
let bin: string;
beforeAll(() => {
  bin = mkdtempSync(join(tmpdir(), 'kb-fake-psql-'));
  fakeTool(
    join(bin, 'psql'),
    [
      'printf "%s\\n" "$@" > "$FAKE_PSQL_LOG.args"',
      'cat > "$FAKE_PSQL_LOG.stdin"',
      'env > "$FAKE_PSQL_LOG.env"',
      'case "$FAKE_PSQL" in',
      `  rows) printf 'a\\037b\\n\\037\\nc\\037d\\n' ;;`,
      '  empty) ;;',
      '  refused) echo \'psql: error: connection to server at "db", port 5432 failed: Connection refused\' >&2; exit 2 ;;',
      '  sqlerror) echo \'psql:<stdin>:1: ERROR:  relation "nope" does not exist\' >&2; exit 3 ;;',
      '  hang) exec sleep 30 ;;',
      'esac',
    ].join('\n'),
  );
});
afterAll(() => rmSync(bin, { recursive: true, force: true }));

function setup(mode: string, env: Record<string, string> = {}) {
  const log = join(bin, `call-${mode}-${Math.random().toString(36).slice(2)}`);
  const conn = resolveConnection({
    PATH: process.env.PATH,
    FAKE_PSQL: mode,
    FAKE_PSQL_LOG: log,
    KB_DB_HOST: 'db',
    KB_DB_PORT: '5432',
    KB_DB_NAME: 'kb',
    KB_DB_USER: 'kb_admin',
    KB_DB_PASSWORD: 's3cret',
    KB_PG_BIN_DIR: bin,
    ...env,
  });
  return { conn, log };
}

describe('psqlQuery', () => {
  it('feeds the SQL on stdin with ON_ERROR_STOP and returns rows of text fields (NULL as "")', async () => {
    // Prepare
    const { conn, log } = setup('rows');
    // Act
    const rows = await psqlQuery(conn, 'SELECT 1;', { operation: 'list things', database: 'other_db' });
    // Assess
    expect(rows).toEqual([
      ['a', 'b'],
      ['', ''],
      ['c', 'd'],
    ]);
    expect(readFileSync(`${log}.stdin`, 'utf8')).toBe('SELECT 1;');
    const args = readFileSync(`${log}.args`, 'utf8').split('\n');
    expect(args).toEqual(expect.arrayContaining(['-X', '-A', '-t', 'ON_ERROR_STOP=1', '-f', '-']));
    expect(args[args.indexOf('-d') + 1]).toBe("dbname='other_db' host='db' port=5432 user='kb_admin'");
    // The password travels in the environment, never on the command line.
    expect(args.join(' ')).not.toContain('s3cret');
    expect(readFileSync(`${log}.env`, 'utf8')).toMatch(/^PGPASSWORD=s3cret$/m);
  });

  it('maps a refused connection to ServerUnreachableError naming the operation and the server', async () => {
    const { conn } = setup('refused');
    const err = await psqlQuery(conn, 'SELECT 1', { operation: 'count entries' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerUnreachableError);
    expect((err as Error).message).toMatch(/^count entries failed: cannot reach PostgreSQL at db:5432/);
  });

  it('maps an SQL error to PgCommandError with the server line', async () => {
    const { conn } = setup('sqlerror');
    await expect(psqlQuery(conn, 'SELECT * FROM nope', { operation: 'read' })).rejects.toThrow(
      new PgCommandError('read failed: <stdin>:1: ERROR:  relation "nope" does not exist'),
    );
  });

  it('says how to install psql when the binary is missing', async () => {
    const { conn } = setup('rows', { KB_PG_BIN_DIR: join(bin, 'missing') });
    await expect(psqlQuery(conn, 'SELECT 1', { operation: 'read' })).rejects.toThrow(/psql was not found/);
  });

  it('kills psql and throws InterruptedError when the signal aborts', async () => {
    // Prepare
    const { conn } = setup('hang');
    const controller = new AbortController();
    // Act
    const pending = psqlQuery(conn, 'SELECT pg_sleep(30)', {
      operation: 'swap databases',
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    // Assess
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as Error).message).toBe('interrupted while trying to swap databases');
  });
});

describe('psqlScalar', () => {
  it('is the first field of the first row', async () => {
    const { conn } = setup('rows');
    await expect(psqlScalar(conn, 'SELECT 1', { operation: 'read' })).resolves.toBe('a');
  });

  it('is undefined when the query returns no rows', async () => {
    const { conn } = setup('empty');
    await expect(psqlScalar(conn, 'SELECT 1 WHERE false', { operation: 'read' })).resolves.toBeUndefined();
  });
});
