/**
 * Small SQL calls through `psql` (no driver dependency): metadata queries, CREATE/ALTER/DROP
 * DATABASE. Bulk data never passes through here; restore streams the dump into psql directly.
 */
import { spawn } from 'node:child_process';
import { childEnv, conninfo, pgBinary, type PgConnection } from './connection';
import { KbDrError } from '../../core/errors';
import { translatePgFailure, translateSpawnError } from './pg-errors';

const FIELD_SEPARATOR = '\x1f';

export interface PsqlOptions {
  /** Database to connect to. @default conn.database */
  readonly database?: string;
  /** What we are doing, for the error message, e.g. "count entries". */
  readonly operation: string;
  /** Kills psql when aborted (SIGINT/SIGTERM to the CLI). */
  readonly signal?: AbortSignal | undefined;
}

/** SIGINT/SIGTERM stopped the command. */
export class InterruptedError extends KbDrError {
  override readonly name = 'InterruptedError';
}

export function interrupted(operation: string): InterruptedError {
  return new InterruptedError(`interrupted while trying to ${operation}`, { hint: 'run the command again' });
}

/**
 * Run `sql` (fed on stdin, stopping at the first error) and return the rows of the output as
 * arrays of text fields. NULL comes back as the empty string.
 */
export async function psqlQuery(conn: PgConnection, sql: string, options: PsqlOptions): Promise<string[][]> {
  const database = options.database ?? conn.database;
  const binary = pgBinary(conn, 'psql');
  const args = ['-X', '-q', '-A', '-t', '-F', FIELD_SEPARATOR, '-v', 'ON_ERROR_STOP=1'];
  args.push('-d', conninfo(conn, database), '-f', '-');
  const child = spawn(binary, args, {
    env: childEnv(conn, database),
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.signal ? { signal: options.signal, killSignal: 'SIGKILL' as const } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => undefined); // psql may exit before reading all input; its exit code tells.
  child.stdin.end(sql);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', (err) => {
      if (options.signal?.aborted) reject(interrupted(options.operation));
      else reject(translateSpawnError(binary, err));
    });
    child.on('close', (c) => resolve(c));
  });
  if (options.signal?.aborted) throw interrupted(options.operation);
  if (code !== 0) throw translatePgFailure(conn, options.operation, stderr);
  return stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split(FIELD_SEPARATOR));
}

/** The single value of a one-row, one-column query. */
export async function psqlScalar(
  conn: PgConnection,
  sql: string,
  options: PsqlOptions,
): Promise<string | undefined> {
  const rows = await psqlQuery(conn, sql, options);
  return rows[0]?.[0];
}
