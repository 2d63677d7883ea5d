/**
 * One PostgreSQL cluster and one moto_server per jest worker, instead of one per test file.
 *
 * A worker runs its files one after another, so a file has the worker's services to itself. The
 * first file of a worker starts them (harness/postgres.ts, harness/moto.ts); later files reuse them,
 * each starting from a clean state: when a file takes a service over, every database but
 * template0/template1 is dropped (and `postgres` recreated), every role but the superuser dropped,
 * `ALTER SYSTEM` settings reset, and moto's state wiped (POST /moto-api/reset). `stop()` (what
 * every file calls in afterAll) leaves the service running for the next file. Each file gets its
 * own fresh folder as `dir`.
 * test/global-teardown.ts stops every service the run started, from the registry folder that
 * test/global-setup.ts names in KB_JEST_SERVICES. Without that variable (a file run outside this
 * jest config), these start and stop a service per file, as before.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startMoto, type MotoServer } from '../../harness/moto';
import { startPostgres, type TestPostgres } from '../../harness/postgres';

/** Folder where workers record what they started (pid, folder), for the global teardown. */
export const SERVICES_ENV = 'KB_JEST_SERVICES';

/** A service a worker started, as the global teardown needs it. */
export type ServiceRecord =
  /** A cluster: its postmaster's pid is in `<dir>/data/postmaster.pid`; `dir` is removed after. */
  | { readonly kind: 'postgres'; readonly port: number; readonly dir: string }
  | { readonly kind: 'moto'; readonly pid: number };

interface WorkerServices {
  postgres?: Promise<TestPostgres>;
  moto?: Promise<MotoServer>;
}

// Jest gives each test file its own module registry and globals, but Node's built-in modules are
// the worker's own objects: the worker's services hang off one of them.
const HOLDER = Symbol.for('kb-dr.jest.worker-services');
function workerServices(): WorkerServices | undefined {
  if (!process.env[SERVICES_ENV]) return undefined;
  const holder = os as unknown as Record<symbol, WorkerServices | undefined>;
  return (holder[HOLDER] ??= {});
}

function record(entry: ServiceRecord): void {
  const dir = process.env[SERVICES_ENV]!;
  mkdirSync(dir, { recursive: true });
  const id = entry.kind === 'postgres' ? entry.port : entry.pid;
  writeFileSync(join(dir, `${entry.kind}-${id}.json`), JSON.stringify(entry));
}

const KEEP_DATABASES = "('template0', 'template1')";

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Drop what a test file left in the cluster: databases, roles, ALTER SYSTEM settings. Over one
 * connection (a psql per statement cost about 50 ms of CPU each, a dozen or more per file).
 */
async function resetPostgres(pg: TestPostgres): Promise<void> {
  const client = new Client({
    host: pg.host,
    port: pg.port,
    user: pg.user,
    password: pg.password,
    database: 'template1',
  });
  client.on('error', () => undefined); // a terminated backend is reported by the query that meets it
  await client.connect();
  try {
    const names = async (query: string) =>
      (await client.query<{ name: string }>(query)).rows.map((r) => r.name);
    // Each statement on its own (DROP DATABASE refuses a transaction block). IF EXISTS: work the
    // previous file left running (a test that timed out) may drop its own databases between the
    // listing and the drop.
    for (const db of await names(
      `SELECT datname AS name FROM pg_database WHERE datname NOT IN ${KEEP_DATABASES}`,
    )) {
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(db)} WITH (FORCE)`);
    }
    for (const role of await names(
      `SELECT rolname AS name FROM pg_roles WHERE rolname <> current_user AND rolname NOT LIKE 'pg\\_%'`,
    )) {
      await client.query(`DROP OWNED BY ${quoteIdent(role)} CASCADE`);
      await client.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
    }
    // After the roles: a copy of template1 made before would hold what they owned there.
    await client.query('CREATE DATABASE postgres');
    await client.query('ALTER SYSTEM RESET ALL');
    await client.query('SELECT pg_reload_conf()');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The worker's PostgreSQL cluster (started on first use), with a fresh `dir` for this file;
 * `stop()` resets the cluster for the next file.
 */
export async function sharedPostgres(): Promise<TestPostgres> {
  const services = workerServices();
  if (!services) return startPostgres();
  const first = !services.postgres;
  services.postgres ??= startPostgres().then((pg) => {
    record({ kind: 'postgres', port: pg.port, dir: pg.dir });
    return pg;
  });
  let pg: TestPostgres;
  try {
    pg = await services.postgres;
  } catch (err) {
    services.postgres = undefined; // the next file tries again and reports its own failure
    throw err;
  }
  // Reset when a file takes the cluster over (not when it leaves it): a file that failed before
  // its afterAll leaves nothing behind for the next one either.
  if (!first) await resetPostgres(pg);
  const dir = mkdtempSync(join(pg.dir, 'file-'));
  chmodSync(dir, 0o755); // like the cluster's own folder
  return {
    ...pg,
    dir,
    stop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The worker's moto_server (started on first use); `stop()` wipes its state for the next file.
 * `applyToProcessEnv` points this file's AWS SDK at it, as harness/moto.ts does.
 */
export async function sharedMoto(options: { applyToProcessEnv?: boolean } = {}): Promise<MotoServer> {
  const services = workerServices();
  if (!services) return startMoto(options);
  const first = !services.moto;
  // Stopped by its pid in the global teardown: it must not keep the worker from exiting.
  services.moto ??= startMoto({ outlivesEventLoop: true }).then((moto) => {
    record({ kind: 'moto', pid: moto.pid });
    return moto;
  });
  let moto: MotoServer;
  try {
    moto = await services.moto;
  } catch (err) {
    services.moto = undefined;
    throw err;
  }
  if (!first) await moto.reset();
  if (options.applyToProcessEnv) Object.assign(process.env, moto.env);
  // The worker keeps moto running; its state is wiped when the next file takes it over.
  return { ...moto, stop: async () => undefined };
}
