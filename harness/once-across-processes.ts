/**
 * Make a thing once when several processes (jest's workers) may want it at the same moment: the
 * synthesized templates of a test app (synth-cache.ts), the functions' bundles the tests read.
 * One process makes it, behind a lock file holding its pid; the others wait for it, looking every
 * 100 ms whether it is ready. A lock whose holder died (or that is still empty after a minute) is
 * taken over; after `waitMs` a waiter makes the thing itself rather than wait forever on a stuck
 * holder. Synchronous: callers build at module scope. Never imports jest.
 */
import { closeSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';

/** How long a waiter waits for the holder of the lock before making the thing itself. */
const LOCK_WAIT_MS = 300_000;

/** A lock without a pid in it is taken over once it is this old (its writer died before writing). */
const EMPTY_LOCK_STALE_MS = 60_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // running, another user's
  }
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Whether the lock file `lock` is stale: its holder's pid is not running, or it holds no pid and is
 * older than a minute. A lock that went meanwhile is not stale (look again).
 */
export function lockIsStale(lock: string): boolean {
  const holder = Number(readFileSafe(lock));
  if (Number.isInteger(holder) && holder > 0) return !alive(holder);
  try {
    return Date.now() - statSync(lock).mtimeMs > EMPTY_LOCK_STALE_MS;
  } catch {
    return false;
  }
}

/** Try to create the lock file; false when another live process holds it. */
function takeLock(lock: string): boolean {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(lock, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!lockIsStale(lock)) return false;
      rmSync(lock, { force: true });
    }
  }
  return false;
}

/**
 * `ready()` if the thing is there, else `make()` it under the lock file `lock` (whose folder must
 * exist), or wait for the process making it. `make` must leave the thing where `ready` finds it
 * whole (write, then rename) and return it.
 */
export function onceAcrossProcesses<T>(
  lock: string,
  ready: () => T | undefined,
  make: () => T,
  waitMs = LOCK_WAIT_MS,
): T {
  const done = ready();
  if (done !== undefined) return done;
  const deadline = Date.now() + waitMs;
  while (!takeLock(lock)) {
    sleepSync(100);
    const made = ready();
    if (made !== undefined) return made;
    if (Date.now() > deadline) return make(); // never wait forever on a stuck holder
  }
  try {
    return ready() ?? make(); // made between our look and our lock, or by us now
  } finally {
    rmSync(lock, { force: true });
  }
}
