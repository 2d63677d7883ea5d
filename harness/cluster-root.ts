/**
 * Where throwaway PostgreSQL clusters live: test clusters (postgres.ts) and the emulated RDS data
 * plane's instances and snapshots (rds-data-plane.ts).
 */
import { accessSync, constants, statfsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';

/** statfs's f_type of a tmpfs (linux/magic.h). */
const TMPFS_MAGIC = 0x01021994;

/**
 * A test cluster in memory needs room for its data and up to 128 MB of WAL, per worker: a small
 * /dev/shm (a container's default is 64 MB) is not used.
 */
const TMPFS_MIN_FREE = 2 * 1024 ** 3;

/** Whether `dir` is a tmpfs this process can write to, with TMPFS_MIN_FREE bytes free. */
export function writableTmpfs(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    const fs = statfsSync(dir);
    return fs.type === TMPFS_MAGIC && fs.bavail * fs.bsize >= TMPFS_MIN_FREE;
  } catch {
    return false;
  }
}

/**
 * The folder a new cluster's folder goes in: KB_TEST_PG_ROOT when set; under jest, /dev/shm when
 * it is a writable tmpfs; else the system temp folder (the drill, the benchmarks). The suite
 * creates and drops hundreds of databases of about 300 files each, and on ext4 the server then
 * spends much of its time in the kernel looking for free inodes (find_inode_bit,
 * recently_deleted); on a tmpfs that cost is gone. The data is thrown away either way. The emulated
 * RDS data plane (rds-data-plane.ts) puts its instances and snapshots here too.
 */
export function clusterRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KB_TEST_PG_ROOT) return env.KB_TEST_PG_ROOT;
  if (env.JEST_WORKER_ID !== undefined && writableTmpfs('/dev/shm')) return '/dev/shm';
  return serverTmpdir();
}

/**
 * Whether a PostgreSQL server we start can reach `dir`. Run as root, the servers run as the
 * `postgres` user (initdb refuses root), which needs search permission (o+x) on `dir` and every
 * folder above it; run as anyone else, the servers run as that user. A folder that cannot be read
 * counts as unreachable.
 */
export function serverCanReach(dir: string, asRoot: boolean = process.getuid?.() === 0): boolean {
  if (!asRoot) return true;
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (dirname(d) === d) return true;
  }
}

/**
 * The system temp folder, for what a server we start reads (its cluster, a test CA, a fake
 * program), or /tmp when the server could not reach it: a root's TMPDIR made with `mktemp -d` is
 * 0700, and the `postgres` user then fails with "Permission denied" on a file it was given.
 */
export function serverTmpdir(asRoot: boolean = process.getuid?.() === 0, dir: string = tmpdir()): string {
  return serverCanReach(dir, asRoot) ? dir : '/tmp';
}
