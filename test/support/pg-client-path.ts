/**
 * The tests run the CLI with PostgreSQL's client programs found by name on the PATH, as a user
 * does. On Debian and Ubuntu that name is `pg_wrapper`, a Perl script that picks a version and
 * execs it: about 60 ms of CPU per start, and the suite starts psql and pg_dump well over a
 * thousand times. This puts a folder of links to the programs the harness found (the same
 * installation the wrapper picks here) in front of the PATH, so each start runs the program
 * directly. What the CLI sees is otherwise unchanged: it still finds `psql` by name on the PATH,
 * and tests that set their own PATH or KB_PG_BIN_DIR are not affected.
 */
import { mkdirSync, readdirSync, realpathSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { findPostgres } from '../../harness/toolchain';

/** The folder of links (created once per user), or undefined when nothing needs it. */
export function directClientFolder(path = process.env.PATH ?? ''): string | undefined {
  const client = findPostgres('client');
  if (!client.ok) return undefined;
  const onPath = path
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'psql'))
    .find((candidate) => {
      try {
        realpathSync(candidate);
        return true;
      } catch {
        return false;
      }
    });
  // Only when psql on the PATH is a wrapper (not the program itself).
  if (onPath === undefined || basename(realpathSync(onPath)) === 'psql') return undefined;
  // And only when the harness found the programs themselves (pg_config's folder), not the wrappers.
  if (basename(realpathSync(join(client.value.dir, 'psql'))) !== 'psql') return undefined;
  const folder = join(tmpdir(), `kb-dr-pg-client-${process.getuid?.() ?? 'user'}-${client.value.version}`);
  try {
    readdirSync(folder);
    return folder;
  } catch {
    // Built under a temporary name and renamed into place: two workers may race to create it.
    const building = `${folder}.${process.pid}`;
    mkdirSync(building, { recursive: true });
    for (const name of readdirSync(client.value.dir)) {
      symlinkSync(join(client.value.dir, name), join(building, name));
    }
    try {
      renameSync(building, folder);
    } catch {
      // Another worker renamed its own first; theirs is the same.
      rmSync(building, { recursive: true, force: true });
    }
    return folder;
  }
}
