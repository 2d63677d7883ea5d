import { ConfigurationError } from '../../../core/errors';
import { childEnv, describeConnection, resolveConnection } from '../../../cli/local/connection';
import { PG_DUMP_ARGS } from '../../../cli/local/backup';
import { ClientVersionError, ServerUnreachableError, translatePgFailure } from '../../../cli/local/pg-errors';
import { redact } from '../../../cli/shared/logger';

describe('resolveConnection', () => {
  it('prefers KB_DB_* over PG* variables', () => {
    const conn = resolveConnection({
      KB_DB_HOST: 'db',
      KB_DB_PORT: '5433',
      KB_DB_NAME: 'kb',
      KB_DB_USER: 'app',
      KB_DB_PASSWORD: 'secret-1',
      PGHOST: 'other',
      PGPORT: '1',
      PGDATABASE: 'other',
      PGUSER: 'other',
    });

    expect(conn).toMatchObject({ host: 'db', port: 5433, database: 'kb', user: 'app', password: 'secret-1' });
  });

  it('falls back to PG* variables', () => {
    const conn = resolveConnection({ PGHOST: 'h', PGPORT: '6000', PGDATABASE: 'd', PGUSER: 'u' });

    expect(conn).toMatchObject({ host: 'h', port: 6000, database: 'd', user: 'u', password: undefined });
  });

  it('fails fast naming KB_DB_NAME when no database is set', () => {
    expect(() => resolveConnection({})).toThrow(ConfigurationError);
    expect(() => resolveConnection({})).toThrow(
      expect.objectContaining({ hint: expect.stringContaining('KB_DB_NAME=') }),
    );
  });

  it('rejects a port that is not a number', () => {
    expect(() => resolveConnection({ KB_DB_NAME: 'kb', KB_DB_PORT: 'fivefour' })).toThrow(
      /KB_DB_PORT=fivefour is not a TCP port/,
    );
  });
});

describe('childEnv and describeConnection', () => {
  const conn = resolveConnection({
    KB_DB_HOST: 'db',
    KB_DB_NAME: 'kb',
    KB_DB_USER: 'app',
    KB_DB_PASSWORD: 'secret-2',
    PATH: '/bin',
  });

  it('hands the password to libpq through PGPASSWORD only, never in arguments or descriptions', () => {
    const env = childEnv(conn, 'kb');

    expect(env.PGPASSWORD).toBe('secret-2');
    expect(env.KB_DB_PASSWORD).toBeUndefined();
    expect(env).toMatchObject({ PGHOST: 'db', PGDATABASE: 'kb', PGUSER: 'app', PATH: '/bin' });
    expect(PG_DUMP_ARGS.join(' ')).not.toContain('secret-2');
    expect(describeConnection(conn)).toBe('app@db/kb');
  });

  it('keeps the caller PGPASSWORD / PGPASSFILE when KB_DB_PASSWORD is not set', () => {
    const env = childEnv(resolveConnection({ KB_DB_NAME: 'kb', PGPASSFILE: '/home/me/.pgpass' }), 'kb');

    expect(env.PGPASSFILE).toBe('/home/me/.pgpass');
    expect(env.PGPASSWORD).toBeUndefined();
  });

  it('redacts password-like attributes in logs', () => {
    expect(redact({ user: 'app', password: 'x', nested: { dbPassword: 'y' } })).toEqual({
      user: 'app',
      password: '***',
      nested: { dbPassword: '***' },
    });
  });
});

describe('translatePgFailure', () => {
  const conn = resolveConnection({ KB_DB_HOST: 'db', KB_DB_PORT: '5432', KB_DB_NAME: 'kb' });

  it('tells to install a matching client when pg_dump is older than the server', () => {
    const err = translatePgFailure(
      conn,
      'pg_dump',
      'pg_dump: error: aborting because of server version mismatch\npg_dump: detail: server version: 16.4; pg_dump version: 15.18\n',
    );

    expect(err).toBeInstanceOf(ClientVersionError);
    expect(err.hint).toContain('KB_PG_BIN_DIR');
  });

  it('recognises an unreachable server', () => {
    const err = translatePgFailure(
      conn,
      'pg_dump',
      'pg_dump: error: connection to server at "db" (10.0.0.1), port 5432 failed: Connection refused\n',
    );

    expect(err).toBeInstanceOf(ServerUnreachableError);
    expect(err.userMessage).toMatch(/cannot reach PostgreSQL at db:5432.*; start the database server/);
  });
});
