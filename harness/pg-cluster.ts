/**
 * Local PostgreSQL clusters for the emulated RDS data plane: initdb, start on a free loopback port,
 * base backups, stop. As root, every server program runs as the `postgres` user (initdb and
 * postgres refuse root) and the folders are handed to that user. Programs come from
 * harness/toolchain.ts. Never imports jest.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';
import { Client, type ClientConfig } from 'pg';
import { commandLine, describeFailure, runTool } from './process';
import { pgTool, requirePostgres, type PgInstallation } from './toolchain';

export const SUPERUSER = 'postgres';

/** A free TCP port on 127.0.0.1 (another process may take it before we do: callers retry). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

const isRoot = (): boolean => process.getuid?.() === 0;

let serverIds: { uid: number; gid: number } | undefined;
function serverUserIds(): { uid: number; gid: number } {
  if (serverIds) return serverIds;
  const uid = spawnSync('id', ['-u', SUPERUSER], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', SUPERUSER], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0)
    throw new Error(
      `emulated RDS: running as root, the clusters run as the "${SUPERUSER}" user (initdb refuses root), but \`id -u ${SUPERUSER}\` found no such user; create it (useradd --system ${SUPERUSER}) or run as a normal user`,
    );
  serverIds = { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  return serverIds;
}

/** Hand `path` to the server user when we are root (no-op otherwise). */
export function giveToServerUser(path: string): void {
  if (!isRoot()) return;
  const { uid, gid } = serverUserIds();
  chownSync(path, uid, gid);
}

/** mkdir -p, owned by the server user. */
export function mkdirForServer(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o755 });
  giveToServerUser(path);
  return path;
}

/** Run a program as the server user; throws with what happened when it fails. */
export function runAsServer(cmd: string, args: string[], timeoutMs = 300_000): string {
  const wrapped = isRoot() ? { cmd: 'runuser', args: ['-u', SUPERUSER, '--', cmd, ...args] } : { cmd, args };
  const run = runTool(wrapped.cmd, wrapped.args, { timeout: timeoutMs, display: commandLine(cmd, args) });
  const failure = describeFailure(run);
  if (failure) throw new Error(`emulated RDS: ${failure}`);
  return run.stdout;
}

let server: PgInstallation | undefined;
/** The PostgreSQL server programs (found once). */
export function pgServer(): PgInstallation {
  server ??= requirePostgres('server');
  return server;
}

/** The base-backup program, next to the server programs. */
export function pgBasebackup(): string {
  const path = join(pgServer().dir, 'pg_basebackup');
  if (!existsSync(path))
    throw new Error(
      `emulated RDS: pg_basebackup not found in ${pgServer().dir}; snapshots are base backups: install the PostgreSQL server package that ships it`,
    );
  return path;
}

/** Settings written to a cluster's postgresql.conf (later lines win). */
export function appendSettings(dataDir: string, settings: Readonly<Record<string, string | number>>): void {
  const lines = Object.entries(settings).map(
    ([k, v]) => `${k} = ${typeof v === 'number' ? v : `'${v.replace(/'/g, "''")}'`}`,
  );
  appendFileSync(join(dataDir, 'postgresql.conf'), `\n# emulated RDS\n${lines.join('\n')}\n`);
}

/**
 * initdb's arguments for every throwaway cluster (the emulated RDS instances here, the test
 * clusters in postgres.ts): superuser `postgres` with the password in `pwfile` over TCP, trust on
 * the local socket, UTF8, no fsync.
 */
export function initdbArgs(dataDir: string, pwfile: string): string[] {
  return [
    '-D',
    dataDir,
    '-U',
    SUPERUSER,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    `--pwfile=${pwfile}`,
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
  ];
}

/** initdb a new cluster: superuser `postgres` with `password` over TCP, trust on the local socket. */
export function initCluster(dataDir: string, pwfile: string): void {
  runAsServer(pgTool(pgServer(), 'initdb'), initdbArgs(dataDir, pwfile));
}

/** A running cluster. */
export interface RunningCluster {
  readonly dataDir: string;
  /** Folder of its Unix socket (the instance folder). */
  readonly socketDir: string;
  readonly port: number;
  readonly pid: number;
}

/** Start the cluster in `dataDir` on a free 127.0.0.1 port (retried if the port is taken meanwhile). */
export async function startCluster(dataDir: string, socketDir: string): Promise<RunningCluster> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freeLoopbackPort();
    try {
      runAsServer(pgTool(pgServer(), 'pg_ctl'), [
        '-D',
        dataDir,
        '-l',
        join(socketDir, 'server.log'),
        '-w',
        '-t',
        '120',
        '-o',
        `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1`,
        'start',
      ]);
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return { dataDir, socketDir, port, pid };
    } catch (err) {
      const log = logTail(join(socketDir, 'server.log'));
      if (attempt >= 3 || !/could not bind|Address already in use/i.test(log))
        throw new Error(`${(err as Error).message}\nserver log: ${log}`);
    }
  }
}

/** The last lines of a server log, for messages. */
export function logTail(path: string, lines = 6): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Whether a process is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stop one postmaster by its PID: fast shutdown, then immediate if it lingers. */
export async function stopPostmaster(pid: number): Promise<void> {
  const waitGone = async (ms: number): Promise<boolean> => {
    for (let waited = 0; waited < ms; waited += 50) {
      if (!alive(pid)) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return !alive(pid);
  };
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  if (await waitGone(10_000)) return;
  try {
    process.kill(pid, 'SIGQUIT');
  } catch {
    return;
  }
  await waitGone(5_000);
}

/**
 * A pg client connected to a cluster as its superuser (caller ends it): over TCP, or with
 * `options.socketDir` over the cluster's Unix socket in that folder (local connections are trusted:
 * no password exchange, for the harness's own queries); `options` adds to the connection's settings
 * (e.g. its type parsers).
 */
export async function connectTo(
  port: number,
  password: string,
  database = 'postgres',
  options: Pick<ClientConfig, 'types'> & { readonly socketDir?: string } = {},
): Promise<Client> {
  const { socketDir, ...settings } = options;
  const client = new Client({
    host: socketDir ?? '127.0.0.1',
    port,
    user: SUPERUSER,
    password,
    database,
    ...settings,
    // The socket from node:net as imported here, not pg's own lazy require('net'): under jest a
    // worker's shared cluster outlives the test file that started it, and a require made through
    // that file's torn-down module registry finds nothing.
    stream: () => new Socket(),
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Run `fn` with a client on the cluster, always ending the client. */
export async function withClient<T>(
  port: number,
  password: string,
  database: string,
  fn: (c: Client) => Promise<T>,
): Promise<T> {
  const client = await connectTo(port, password, database);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
