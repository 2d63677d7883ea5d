/**
 * Where throwaway PostgreSQL clusters live: test clusters (postgres.ts) and the emulated RDS data
 * plane's instances and snapshots (rds-data-plane.ts).
 */
import { accessSync, constants, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';

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
  return tmpdir();
}
