/**
 * Connection settings of the local Knowledge Base database. Read from the runbook's variables
 * (KB_DB_HOST, KB_DB_PORT, KB_DB_NAME, KB_DB_USER, KB_DB_PASSWORD), falling back to libpq's
 * standard PG* variables. The password only ever travels to child processes through their
 * environment (PGPASSWORD) or the user's PGPASSFILE: never on a command line, never in a log.
 */
import { ConfigurationError } from '../../core/errors';

export const LOCAL_ENV = {
  host: 'KB_DB_HOST',
  port: 'KB_DB_PORT',
  database: 'KB_DB_NAME',
  user: 'KB_DB_USER',
  password: 'KB_DB_PASSWORD',
  backupPath: 'KB_BACKUP_LOCAL_PATH',
  retentionDays: 'KB_BACKUP_RETENTION_DAYS',
  appStopCommand: 'KB_APP_STOP_COMMAND',
  appStartCommand: 'KB_APP_START_COMMAND',
  maintenanceDb: 'KB_DB_MAINTENANCE_DB',
  pgBinDir: 'KB_PG_BIN_DIR',
} as const;

export type EnvSource = Readonly<Record<string, string | undefined>>;

/** Where and as whom to connect. `password` is never logged: use `describeConnection`. */
export interface PgConnection {
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly database: string;
  readonly user: string | undefined;
  readonly password: string | undefined;
  /** Database used for CREATE/ALTER/DROP DATABASE, never the Knowledge Base itself. @default postgres */
  readonly maintenanceDatabase: string;
  /** Folder holding pg_dump and psql; undefined means PATH. */
  readonly binDir: string | undefined;
  /** The caller's environment, passed on to child processes (PGPASSFILE, PGSSLMODE, ...). */
  readonly baseEnv: EnvSource;
}

function pick(env: EnvSource, kb: string, pg: string): string | undefined {
  const value = env[kb]?.trim() || env[pg]?.trim();
  return value ? value : undefined;
}

/** Resolve the connection from `env`; fails fast with the variable's name and an example. */
export function resolveConnection(env: EnvSource = process.env): PgConnection {
  const database = pick(env, LOCAL_ENV.database, 'PGDATABASE');
  if (!database) {
    throw new ConfigurationError('no database name is set', {
      hint: `set ${LOCAL_ENV.database} (or PGDATABASE), e.g. ${LOCAL_ENV.database}=knowledge_base`,
    });
  }
  const portText = pick(env, LOCAL_ENV.port, 'PGPORT');
  let port: number | undefined;
  if (portText !== undefined) {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ConfigurationError(`${LOCAL_ENV.port}=${portText} is not a TCP port`, {
        hint: `set a number between 1 and 65535, e.g. ${LOCAL_ENV.port}=5432`,
      });
    }
  }
  // KB_DB_PASSWORD wins; otherwise PGPASSWORD/PGPASSFILE reach libpq unchanged through baseEnv.
  const password = env[LOCAL_ENV.password] || undefined;
  return {
    host: pick(env, LOCAL_ENV.host, 'PGHOST'),
    port,
    database,
    user: pick(env, LOCAL_ENV.user, 'PGUSER'),
    password,
    maintenanceDatabase: env[LOCAL_ENV.maintenanceDb]?.trim() || 'postgres',
    binDir: env[LOCAL_ENV.pgBinDir]?.trim() || undefined,
    baseEnv: env,
  };
}

/** `user@host:port/database` for messages and logs (no password). */
export function describeConnection(conn: PgConnection, database = conn.database): string {
  const host = conn.host ?? 'localhost';
  return `${conn.user ? `${conn.user}@` : ''}${host}${conn.port ? `:${conn.port}` : ''}/${database}`;
}

/** `host:port` for messages. */
export function describeServer(conn: PgConnection): string {
  return `${conn.host ?? 'localhost'}${conn.port ? `:${conn.port}` : ''}`;
}

/** The environment of a libpq child process (pg_dump, psql) connecting to `database`. */
export function childEnv(conn: PgConnection, database: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...conn.baseEnv };
  for (const key of Object.values(LOCAL_ENV)) delete env[key];
  const set = (key: string, value: string | number | undefined) => {
    if (value === undefined) delete env[key];
    else env[key] = String(value);
  };
  set('PGHOST', conn.host);
  set('PGPORT', conn.port);
  set('PGUSER', conn.user);
  env.PGDATABASE = database;
  if (conn.password !== undefined) env.PGPASSWORD = conn.password;
  env.PGAPPNAME = 'kb-dr';
  // An unreachable server should fail in seconds, not hang on libpq's default (forever).
  env.PGCONNECT_TIMEOUT = conn.baseEnv.PGCONNECT_TIMEOUT ?? '10';
  return env;
}

function conninfoValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * A libpq connection string naming `database` (and host, port, user when set). Passed as `-d` to
 * every pg_dump/psql: explicit parameters outrank PGSERVICE and PGDATABASE, so no environment
 * setting can redirect a backup or a restore to another database.
 */
export function conninfo(conn: PgConnection, database: string): string {
  const parts = [`dbname=${conninfoValue(database)}`];
  if (conn.host !== undefined) parts.push(`host=${conninfoValue(conn.host)}`);
  if (conn.port !== undefined) parts.push(`port=${conn.port}`);
  if (conn.user !== undefined) parts.push(`user=${conninfoValue(conn.user)}`);
  return parts.join(' ');
}

/** Path of a PostgreSQL client binary (pg_dump, psql). */
export function pgBinary(conn: PgConnection, name: 'pg_dump' | 'psql'): string {
  return conn.binDir ? `${conn.binDir.replace(/\/+$/, '')}/${name}` : name;
}

/** A SQL identifier, double-quoted. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQL string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
