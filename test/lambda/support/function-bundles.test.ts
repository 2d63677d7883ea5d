/**
 * The shared bundles' build lock (function-bundles.ts): a waiting worker takes the lock over only
 * when its holder is gone, never from a live builder.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builderGone } from './function-bundles';

let dir: string;
let lock: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-bundle-lock-'));
  lock = join(dir, 'kb-function-bundles.lock');
  mkdirSync(lock);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('builderGone', () => {
  it('is false while the process that holds the lock runs', () => {
    writeFileSync(join(lock, 'pid'), String(process.pid));
    expect(builderGone(lock)).toBe(false);
  });

  it('is true when that process has exited', () => {
    const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    writeFileSync(join(lock, 'pid'), exited.stdout);
    expect(builderGone(lock)).toBe(true);
  });

  it.each([
    ['no pid file', undefined],
    ['an empty pid file (being written)', ''],
    ['garbage in the pid file', 'not-a-pid'],
  ])('with %s: false while the lock is new, true once it is older than 10 s', (_label, content) => {
    if (content !== undefined) writeFileSync(join(lock, 'pid'), content);
    expect(builderGone(lock)).toBe(false);

    const old = new Date(Date.now() - 20_000);
    utimesSync(lock, old, old);
    expect(builderGone(lock)).toBe(true);
  });

  it('is false when the lock went meanwhile (look again)', () => {
    rmSync(lock, { recursive: true });
    expect(builderGone(lock)).toBe(false);
  });
});
