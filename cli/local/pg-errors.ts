/**
 * Translate libpq / pg_dump / psql stderr into one kb-dr error with a next step. The one place
 * where a PostgreSQL client failure becomes what the operator reads.
 */
import { KbDrError } from '../../core/errors';
import { LOCAL_ENV, describeServer, type PgConnection } from './connection';

/** The server could not be reached (down, wrong host/port, firewall). */
export class ServerUnreachableError extends KbDrError {
  override readonly name = 'ServerUnreachableError';
}

/** Authentication failed (user or password). */
export class AuthenticationError extends KbDrError {
  override readonly name = 'AuthenticationError';
}

/** pg_dump is older than the server. */
export class ClientVersionError extends KbDrError {
  override readonly name = 'ClientVersionError';
}

/** A PostgreSQL client command failed for another reason. */
export class PgCommandError extends KbDrError {
  override readonly name = 'PgCommandError';
}

/** The first line of stderr that carries the error, without the program prefix. */
export function firstErrorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const line = lines.find((l) => /error|fatal|failed|could not/i.test(l)) ?? lines[0] ?? 'no error output';
  return line.replace(/^(pg_dump|psql|pg_restore):\s*/, '').replace(/^error:\s*/, '');
}

/** Map a failed client command's stderr to a KbDrError. `operation` says what we were doing. */
export function translatePgFailure(conn: PgConnection, operation: string, stderr: string): KbDrError {
  const detail = firstErrorLine(stderr);
  const server = describeServer(conn);
  if (/server version mismatch/i.test(stderr)) {
    return new ClientVersionError(`${operation} failed: pg_dump is older than the server (${detail})`, {
      hint: `install the PostgreSQL client matching the server (e.g. postgresql-client-NN) or set ${LOCAL_ENV.pgBinDir} to its bin folder`,
    });
  }
  if (
    /server closed the connection unexpectedly|connection to server was lost|terminating connection due to administrator command|the database system is shutting down/i.test(
      stderr,
    )
  ) {
    return new ServerUnreachableError(
      `${operation} failed: the PostgreSQL server at ${server} stopped or dropped the connection while it was working (${detail})`,
      {
        hint: 'nothing was written; check the server (its log, `docker compose ps`) and run the command again once it is up',
        retryable: true,
      },
    );
  }
  if (
    /could not connect to server|connection to server .* failed: (Connection refused|No such file|timeout expired|could not)|could not translate host name|Network is unreachable|timeout expired/i.test(
      stderr,
    ) &&
    !/authentication failed|no password supplied|does not exist/i.test(stderr)
  ) {
    return new ServerUnreachableError(
      `${operation} failed: cannot reach PostgreSQL at ${server} (${detail})`,
      {
        hint: `start the database server (e.g. \`docker compose up -d\`) or fix ${LOCAL_ENV.host} / ${LOCAL_ENV.port}`,
        retryable: true,
      },
    );
  }
  if (
    /password authentication failed|no password supplied|authentication failed|role .* does not exist/i.test(
      stderr,
    )
  ) {
    return new AuthenticationError(
      `${operation} failed: PostgreSQL at ${server} refused the login (${detail})`,
      {
        hint: `check ${LOCAL_ENV.user} and ${LOCAL_ENV.password} (or your PGPASSFILE)`,
      },
    );
  }
  if (/database ".*" does not exist/i.test(stderr)) {
    return new PgCommandError(`${operation} failed: ${detail}`, {
      hint: `check ${LOCAL_ENV.database}; list databases with \`psql -l\``,
    });
  }
  if (/permission denied|must be owner|must be superuser/i.test(stderr)) {
    return new PgCommandError(`${operation} failed: ${detail}`, {
      hint: `connect as the database owner or a role with CREATEDB (set ${LOCAL_ENV.user})`,
    });
  }
  return new PgCommandError(`${operation} failed: ${detail}`, {
    hint: 'read the PostgreSQL error above, fix its cause and retry',
  });
}

/** A client binary could not be started at all (not installed, not on PATH). */
export function translateSpawnError(binary: string, err: unknown): KbDrError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') {
    return new PgCommandError(`${binary} was not found`, {
      cause: err,
      hint: `install the PostgreSQL client tools (e.g. apt-get install postgresql-client) or set ${LOCAL_ENV.pgBinDir}`,
    });
  }
  return new PgCommandError(`could not start ${binary}: ${String(err)}`, {
    cause: err,
    hint: 'check the PostgreSQL client installation',
  });
}
