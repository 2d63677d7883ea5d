/**
 * The local-restore tests' cluster setup, once: the worker's PostgreSQL cluster
 * (test/support/shared-services.ts) taken over in beforeAll and handed back in afterAll, and a
 * seeded Knowledge Base database with a local backup of it.
 */
import { createLocalBackup } from '../../cli/local/backup';
import { silentLogger } from '../../cli/shared/logger';
import { createKbDatabase, type TestPostgres } from '../../harness/postgres';
import { connectionTo, tempDir } from './cli-fixtures';
import { sharedPostgres } from './shared-services';

/**
 * Take the worker's cluster over for this file: `ready` runs in beforeAll with it (assign it, seed
 * what the file needs), and afterAll hands it back for the next file.
 */
export function useSharedPostgres(
  ready: (pg: TestPostgres) => void | Promise<void>,
  timeoutMs?: number,
): void {
  let pg: TestPostgres | undefined;
  beforeAll(async () => {
    pg = await sharedPostgres();
    await ready(pg);
  }, timeoutMs);
  afterAll(async () => {
    await pg?.stop();
  });
}

/**
 * Create `database` with `entries` seeded entries and back it up with the CLI's local backup into a
 * new folder named after `label`; returns the backup file's path.
 */
export async function seededBackup(
  pg: TestPostgres,
  database: string,
  entries: number,
  options: { readonly label?: string; readonly now?: () => Date } = {},
): Promise<string> {
  await createKbDatabase(pg, database, entries);
  const made = await createLocalBackup({
    conn: connectionTo(pg, database),
    dir: tempDir(pg, options.label ?? database),
    logger: silentLogger,
    ...(options.now ? { now: options.now } : {}),
  });
  return made.path;
}
