import { KbDrError } from '../../../core/errors';
import { resolveConnection } from '../../../cli/local/connection';
import {
  AuthenticationError,
  ClientVersionError,
  PgCommandError,
  ServerUnreachableError,
  firstErrorLine,
  translatePgFailure,
  translateSpawnError,
} from '../../../cli/local/pg-errors';

const conn = resolveConnection({ KB_DB_HOST: 'db.internal', KB_DB_PORT: '6543', KB_DB_NAME: 'kb' });

describe('firstErrorLine', () => {
  it.each([
    ['pg_dump: error: connection failed\nsecond line', 'connection failed'],
    ['psql:<stdin>:3: NOTICE: x\npsql: error: FATAL: boom', 'FATAL: boom'],
    ['  \nsomething odd\n', 'something odd'],
    ['', 'no error output'],
  ])('picks the error line of %j', (stderr, expected) => {
    expect(firstErrorLine(stderr)).toBe(expected);
  });
});

describe('translatePgFailure: one kb-dr error with a next step per libpq failure', () => {
  it.each([
    [
      'pg_dump: error: aborting because of server version mismatch\npg_dump: detail: server version: 16.1; pg_dump version: 15.4',
      ClientVersionError,
      /^back up failed: pg_dump is older than the server/,
      /KB_PG_BIN_DIR/,
      false,
    ],
    [
      'psql: error: server closed the connection unexpectedly',
      ServerUnreachableError,
      /stopped or dropped the connection while it was working/,
      /nothing was written/,
      true,
    ],
    [
      'psql: error: connection to server at "db.internal", port 6543 failed: Connection refused',
      ServerUnreachableError,
      /^back up failed: cannot reach PostgreSQL at db\.internal:6543/,
      /KB_DB_HOST \/ KB_DB_PORT/,
      true,
    ],
    [
      'psql: error: could not translate host name "db.internal" to address',
      ServerUnreachableError,
      /cannot reach PostgreSQL/,
      /start the database server/,
      true,
    ],
    [
      'psql: error: connection to server at "db.internal", port 6543 failed: FATAL:  password authentication failed for user "kb"',
      AuthenticationError,
      /refused the login/,
      /KB_DB_USER and KB_DB_PASSWORD/,
      false,
    ],
    [
      'psql: error: connection to server at "db.internal", port 6543 failed: FATAL:  role "nobody" does not exist',
      AuthenticationError,
      /refused the login/,
      /KB_DB_USER/,
      false,
    ],
    [
      'psql: error: connection to server at "db.internal", port 6543 failed: FATAL:  database "kb" does not exist',
      PgCommandError,
      /^back up failed: connection to server .* database "kb" does not exist/,
      /KB_DB_NAME; list databases/,
      false,
    ],
    [
      'psql:<stdin>:1: ERROR:  permission denied to create database',
      PgCommandError,
      /permission denied to create database/,
      /role with CREATEDB/,
      false,
    ],
    [
      'psql:<stdin>:1: ERROR:  syntax error at or near "x"',
      PgCommandError,
      /syntax error/,
      /fix its cause/,
      false,
    ],
  ])('%s', (stderr, type, message, hint, retryable) => {
    // Act
    const err = translatePgFailure(conn, 'back up', stderr);
    // Assess
    expect(err).toBeInstanceOf(type);
    expect(err).toBeInstanceOf(KbDrError);
    expect(err.message).toMatch(message);
    expect(err.hint).toMatch(hint);
    expect(err.retryable).toBe(retryable);
  });

  it('names the server as localhost when no host or port is set', () => {
    const local = resolveConnection({ KB_DB_NAME: 'kb' });
    expect(
      translatePgFailure(local, 'count entries', 'psql: error: Connection refused timeout expired').message,
    ).toBe('count entries failed: cannot reach PostgreSQL at localhost (Connection refused timeout expired)');
  });
});

describe('translateSpawnError', () => {
  it('says how to install the client tools when the binary is missing, keeping the cause', () => {
    const cause = Object.assign(new Error('spawn psql ENOENT'), { code: 'ENOENT' });
    const err = translateSpawnError('psql', cause);
    expect(err).toBeInstanceOf(PgCommandError);
    expect(err.message).toBe('psql was not found');
    expect(err.hint).toMatch(/postgresql-client.*KB_PG_BIN_DIR/);
    expect(err.cause).toBe(cause);
  });

  it('reports any other start failure with its reason', () => {
    const err = translateSpawnError(
      '/opt/pg/bin/pg_dump',
      Object.assign(new Error('EACCES'), { code: 'EACCES' }),
    );
    expect(err.message).toBe('could not start /opt/pg/bin/pg_dump: Error: EACCES');
    expect(err.hint).toBe('check the PostgreSQL client installation');
  });
});
